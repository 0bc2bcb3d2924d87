import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDeno, ROOT } from './helpers/binaries.js';
import { describeRuntime, expectFlow, FLOW_TIMEOUT_MS, runFlowProcess, startFlowServers } from './helpers/harness.js';

const deno = findDeno();
const CLI_MAIN = join(__dirname, 'helpers/cli-main.ts');
/** tokenflight/fetch's flow: dist/fetch.js, axios never loaded. */
const FETCH_MAIN = join(__dirname, 'helpers/fetch-main.ts');

describeRuntime('Deno, from the deno npm package', 'missing' in deno ? deno.missing : undefined, () => {
  let denoDir = '';
  beforeAll(() => {
    denoDir = mkdtempSync(join(tmpdir(), 'tokenflight-deno-'));
  });
  afterAll(() => {
    rmSync(denoDir, { recursive: true, force: true });
  });

  test.each([
    ['axios’s default adapter list', undefined, 'http'],
    ['the fetch adapter', 'fetch' as const, 'fetch'],
    ['tokenflight/fetch (createTokenFetch, no axios)', undefined, 'auth.fetch'],
  ])(
    'with %s, the built package makes one token request for ten cold requests and one after a revocation, replays the 401s, and sends no token with tokenAuth: false',
    async (_, adapter, expectedAdapter) => {
      if ('missing' in deno) throw new Error(deno.missing);
      const servers = await startFlowServers();
      try {
        // Nothing is downloaded: npm packages come from node_modules (package.json, "manual" mode), remote modules are refused.
        const result = await runFlowProcess(
          deno.path,
          [
            'run',
            '--no-prompt',
            '--no-lock',
            '--cached-only',
            '--no-remote',
            '--node-modules-dir=manual',
            '--allow-env',
            '--allow-net=127.0.0.1',
            `--allow-read=${ROOT}`,
            expectedAdapter === 'auth.fetch' ? FETCH_MAIN : CLI_MAIN,
            JSON.stringify(servers.options(adapter)),
          ],
          { cwd: ROOT, env: { ...process.env, DENO_DIR: denoDir, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
        );
        console.log(`Deno ${result.runtime.version} (${deno.path}), axios adapter: ${result.adapter}`);
        expect(result.runtime).toEqual({ name: 'deno', version: deno.version });
        expect(result.adapter).toBe(expectedAdapter);
        expectFlow(result, servers);
      } finally {
        await servers.close();
      }
    },
    FLOW_TIMEOUT_MS,
  );
});
