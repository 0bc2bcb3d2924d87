import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBun, ROOT } from './helpers/binaries.js';
import { describeRuntime, expectFlow, FLOW_TIMEOUT_MS, runFlowProcess, startFlowServers } from './helpers/harness.js';

const bun = findBun();
const CLI_MAIN = join(__dirname, 'helpers/cli-main.ts');
/** tokenflight/fetch's flow: dist/fetch.js, axios never loaded. */
const FETCH_MAIN = join(__dirname, 'helpers/fetch-main.ts');

describeRuntime('Bun, from the bun npm package', 'missing' in bun ? bun.missing : undefined, () => {
  let cacheDir = '';
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'tokenflight-bun-'));
  });
  afterAll(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test.each([
    ['axios’s default adapter list', undefined, 'http'],
    ['the fetch adapter', 'fetch' as const, 'fetch'],
    ['tokenflight/fetch (createTokenFetch, no axios)', undefined, 'auth.fetch'],
  ])(
    'with %s, the built package makes one token request for ten cold requests and one after a revocation, replays the 401s, and sends no token with tokenAuth: false',
    async (_, adapter, expectedAdapter) => {
      if ('missing' in bun) throw new Error(bun.missing);
      const servers = await startFlowServers();
      try {
        // --no-install: packages come from node_modules, never auto-installed.
        const result = await runFlowProcess(
          bun.path,
          [
            'run',
            '--no-install',
            expectedAdapter === 'auth.fetch' ? FETCH_MAIN : CLI_MAIN,
            JSON.stringify(servers.options(adapter)),
          ],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              NO_COLOR: '1',
              BUN_INSTALL_CACHE_DIR: cacheDir,
              BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
            },
          },
        );
        console.log(`Bun ${result.runtime.version} (${bun.path}), axios adapter: ${result.adapter}`);
        expect(result.runtime).toEqual({ name: 'bun', version: bun.version });
        expect(result.adapter).toBe(expectedAdapter);
        expectFlow(result, servers);
      } finally {
        await servers.close();
      }
    },
    FLOW_TIMEOUT_MS,
  );
});
