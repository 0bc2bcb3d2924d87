import { expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/binaries.js';
import { describeRuntime, expectFlow, FLOW_TIMEOUT_MS, runFlowProcess, startFlowServers } from './helpers/harness.js';

const EDGE_MAIN = join(__dirname, 'helpers/edge-main.ts');
const manifest = join(ROOT, 'node_modules/edge-runtime/package.json');
const missing = existsSync(manifest) ? undefined : 'the edge-runtime package is not installed';

describeRuntime('edge-runtime (Vercel Edge), from the edge-runtime npm package', missing, () => {
  test.each([
    ['attachTokenAuth on the fetch adapter', 'axios', 'fetch'],
    ['tokenflight/fetch (createTokenFetch, no axios in the bundle)', 'fetch', 'auth.fetch'],
  ])(
    'a browser-platform bundle through %s makes one token request for ten cold requests and one after a revocation, replays the 401s, and sends no token with tokenAuth: false',
    async (_, flow, expectedAdapter) => {
      const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
      const servers = await startFlowServers();
      try {
        const result = await runFlowProcess(
          process.execPath,
          ['--import', 'tsx', EDGE_MAIN, JSON.stringify(servers.options())],
          { cwd: ROOT, env: { ...process.env, TOKENFLIGHT_FLOW: flow } },
        );
        console.log(
          `edge-runtime ${result.runtime.version}, axios adapter: ${result.adapter}, bundle: ${result.bundleBytes} bytes`,
        );
        expect(result.runtime).toEqual({ name: 'edge-runtime', version });
        // axios's browser build has no Node adapter and the runtime no XMLHttpRequest: fetch is what is left.
        expect(result.adapter).toBe(expectedAdapter);
        expectFlow(result, servers);
      } finally {
        await servers.close();
      }
    },
    FLOW_TIMEOUT_MS,
  );
});
