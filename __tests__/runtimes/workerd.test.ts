import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkerd, ROOT } from './helpers/binaries.js';
import { describeRuntime, expectFlow, FLOW_TIMEOUT_MS, runFlowProcess, startFlowServers } from './helpers/harness.js';

const workerd = findWorkerd();
const WORKERD_MAIN = join(__dirname, 'helpers/workerd-main.ts');

describeRuntime(
  'workerd (Cloudflare Workers), from the workerd npm package',
  'missing' in workerd ? workerd.missing : undefined,
  () => {
    test.each([
      ['attachTokenAuth, on the fetch adapter', 'axios', 'fetch'],
      ['tokenflight/fetch (createTokenFetch, no axios in the bundle)', 'fetch', 'auth.fetch'],
    ])(
      'a browser-platform bundle served as a Worker, through %s, makes one token request for ten cold requests and one after a revocation, replays the 401s, and sends no token with tokenAuth: false',
      async (_, flow, expectedAdapter) => {
        if ('missing' in workerd) throw new Error(workerd.missing);
        const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/workerd/package.json'), 'utf8')) as {
          version: string;
        };
        const servers = await startFlowServers();
        try {
          const result = await runFlowProcess(
            process.execPath,
            ['--import', 'tsx', WORKERD_MAIN, workerd.path, JSON.stringify(servers.options())],
            { cwd: ROOT, env: { ...process.env, TOKENFLIGHT_FLOW: flow } },
          );
          console.log(
            `workerd ${workerd.version} (npm workerd ${version}, ${workerd.path}), axios adapter: ${result.adapter}, bundle: ${result.bundleBytes} bytes`,
          );
          expect(result.runtime.name).toBe('workerd');
          // axios's browser build has no Node adapter and Workers no XMLHttpRequest: fetch is what is left.
          expect(result.adapter).toBe(expectedAdapter);
          expectFlow(result, servers);
        } finally {
          await servers.close();
        }
      },
      FLOW_TIMEOUT_MS,
    );
  },
);
