// The workerd host: `node --import tsx workerd-main.ts <workerd binary> '<FlowOptions as JSON>'`. It
// serves the browser-platform bundle of the flow (bundle.ts) as an ES-module Worker from workerd,
// Cloudflare Workers' runtime, on a free loopback port, with outbound fetch allowed to loopback
// only; POSTs the options to it, prints RESULT_PREFIX and the FlowResult, and stops workerd.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../redis/helpers/redis-server.js';
import { bundleFlow } from './bundle.js';
import { RESULT_PREFIX } from './flow.js';
const START_TIMEOUT_MS = 20_000;

const [binary, optionsJson] = process.argv.slice(2);
if (binary === undefined || optionsJson === undefined)
  throw new Error('usage: workerd-main.ts <workerd binary> <FlowOptions as JSON>');

function config(port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "flow", worker = .flowWorker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "flow")],
);
const flowWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-01",
  globalOutbound = "loopback",
);
`;
}

const code = await bundleFlow(
  'esm',
  'export default { async fetch(request) { return Response.json(await runFlow(axios, tokenflight, await request.json())); } };',
);
const directory = mkdtempSync(join(tmpdir(), 'tokenflight-workerd-'));
const port = await freePort();
writeFileSync(join(directory, 'worker.js'), code);
writeFileSync(join(directory, 'config.capnp'), config(port));
const workerd = spawn(binary, ['serve', join(directory, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
workerd.stdout.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
workerd.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
try {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let response: Response | undefined;
  while (response === undefined) {
    try {
      response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: optionsJson });
    } catch (error) {
      if (workerd.exitCode !== null || Date.now() > deadline)
        throw new Error(`workerd did not start:\n${log}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const body = await response.text();
  if (response.status !== 200) throw new Error(`the worker answered ${response.status}: ${body}\n${log}`);
  console.log(RESULT_PREFIX + JSON.stringify({ ...(JSON.parse(body) as object), bundleBytes: code.length }));
} finally {
  workerd.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
}
