import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startProviderServer, type ProviderServer } from '../../../lib/testing/index.js';
import { ROOT } from './binaries.js';
import { RESULT_PREFIX, type FlowOptions, type FlowResult } from './flow.js';

/** How long one run of the flow in a runtime may take, start-up included, on a loaded machine. */
export const FLOW_TIMEOUT_MS = 60_000;

/** The loopback servers of one run: two Symbl simulations and the control server that revokes. */
export interface FlowServers {
  readonly symbl: ProviderServer;
  readonly custom: ProviderServer;
  readonly options: (adapter?: 'fetch') => FlowOptions;
  close(): Promise<void>;
}

/** A server whose `POST /revoke` makes `server` revoke every token it issued. */
async function startControlServer(server: ProviderServer): Promise<Server> {
  const control = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/revoke') {
      server.revokeAll();
      response.writeHead(204).end();
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  return control;
}

/** Starts the servers of one run, on 127.0.0.1. */
export async function startFlowServers(): Promise<FlowServers> {
  // The runtimes load what npm ships, dist/, not the sources.
  if (!existsSync(join(ROOT, 'dist/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  const symbl = await startProviderServer('symbl');
  const custom = await startProviderServer('symbl');
  const control = await startControlServer(symbl);
  const credentials = (server: ProviderServer) => ({
    url: server.url,
    appId: server.credentials['appId'] ?? '',
    appSecret: server.credentials['appSecret'] ?? '',
  });
  return {
    symbl,
    custom,
    options: (adapter) => ({
      symbl: credentials(symbl),
      custom: credentials(custom),
      control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
      ...(adapter === undefined ? {} : { adapter }),
    }),
    close: async () => {
      control.closeAllConnections();
      await new Promise((resolve) => control.close(resolve));
      await Promise.all([symbl.close(), custom.close()]);
    },
  };
}

/** Runs `command` and reads the FlowResult line it prints. */
export async function runFlowProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<FlowResult & { bundleBytes?: number }> {
  const output = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(command, args, { ...options, timeout: FLOW_TIMEOUT_MS - 5_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
  const line = output.stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`no result line in the output:\n${output.stdout}\n${output.stderr}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as FlowResult;
}

/**
 * What every runtime must show, checked against the servers' own counts: ten cold requests made
 * one token request; after the revocation, five requests got a 401 each and were replayed with the
 * one new token (their bodies intact); `tokenAuth: false` sent no token; `auth.token()` gave the
 * token the server issued; the custom provider's `getToken` ran once for three requests.
 */
export function expectFlow(result: FlowResult, servers: FlowServers): void {
  const { symbl, custom } = servers;
  expect(result.cold.statuses).toEqual(Array(10).fill(200));
  expect(result.replay.statuses).toEqual(Array(5).fill(200));
  expect(result.replay.echoedBodies).toEqual([0, 1, 2, 3, 4].map((job) => ({ job })));
  expect(result.optOut.status).toBe(401);
  expect(symbl.stats).toEqual({
    tokenRequests: 2,
    tokensIssued: 2,
    apiRequests: 10 + 5 + 5 + 1,
    apiSucceeded: 15,
    apiUnauthorized: 5 + 1,
  });
  const [first, second] = symbl.tokens;
  expect(result.firstToken).toEqual({
    accessToken: first?.accessToken,
    tokenType: 'Bearer',
    expiresAt: expect.any(Number),
  });
  expect(result.firstToken.expiresAt).toBeGreaterThan(Date.now());
  expect(result.secondToken.accessToken).toBe(second?.accessToken);
  const sent = (path: RegExp) =>
    symbl.requests.filter((r) => r.kind === 'api' && path.test(r.path)).map((r) => r.authorization);
  expect(sent(/^\/api\/cold\//)).toEqual(Array(10).fill(`Bearer ${first?.accessToken}`));
  expect(sent(/^\/api\/replayed$/).sort()).toEqual(
    [...Array(5).fill(`Bearer ${first?.accessToken}`), ...Array(5).fill(`Bearer ${second?.accessToken}`)].sort(),
  );
  expect(sent(/^\/api\/opt-out$/)).toEqual([undefined]);
  expect(result.custom.statuses).toEqual([200, 200, 200]);
  expect(result.custom.getTokenCalls).toBe(1);
  expect(result.custom.accessToken).toBe(custom.tokens[0]?.accessToken);
  expect(custom.stats).toMatchObject({ tokenRequests: 1, apiSucceeded: 3, apiUnauthorized: 0 });
}

/**
 * `describe` when the runtime is there; otherwise, under CI=true, a failing test that says why, and
 * elsewhere `describe.skip` with a printed notice (as the Redis suites do).
 */
export function describeRuntime(name: string, missing: string | undefined, suite: () => void): void {
  if (missing === undefined) {
    describe(name, suite);
    return;
  }
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      test(`${name} starts (CI=true: the runtime suites must run)`, () => {
        throw new Error(`${missing}; run \`npm install\` (the runtimes are dev dependencies)`);
      });
    });
    return;
  }
  console.warn(`\n[tokenflight] ${missing}: the ${name} suite is SKIPPED; run \`npm install\`.\n`);
  describe.skip(name, suite);
}
