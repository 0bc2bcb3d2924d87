// The edge-runtime host: `node --import tsx edge-main.ts '<FlowOptions as JSON>'`. It bundles axios,
// the built package (dist/) and the flow with esbuild for the browser platform (axios's browser
// build: no Node adapter, so axios picks `fetch`), evaluates the bundle in `new EdgeRuntime()` (the
// Vercel Edge runtime's globals and nothing of Node's) and prints RESULT_PREFIX and the FlowResult.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EdgeRuntime } from 'edge-runtime';
import { build } from 'esbuild';
import type { FlowResult } from './flow.js';

const RESULT_PREFIX = 'TOKENFLIGHT_FLOW_RESULT ';
const ROOT = resolve(import.meta.dirname, '../../..');

const [optionsJson] = process.argv.slice(2);
if (optionsJson === undefined) throw new Error('usage: edge-main.ts <FlowOptions as JSON>');

const entry = `
import axios from 'axios';
import * as tokenflight from './dist/index.js';
import { runFlow } from './__tests__/runtimes/helpers/flow.ts';
globalThis.runTokenflightFlow = (json) => runFlow(axios, tokenflight, JSON.parse(json)).then(JSON.stringify);
`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: ROOT, loader: 'ts', sourcefile: 'edge-entry.ts' },
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  logLevel: 'error',
});
const code = bundle.outputFiles[0]?.text;
if (code === undefined) throw new Error('esbuild produced no bundle');

const runtime = new EdgeRuntime({ initialCode: code });
const json = await runtime.evaluate<Promise<string>>(`runTokenflightFlow(${JSON.stringify(optionsJson)})`);
const version = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/edge-runtime/package.json'), 'utf8')) as { version: string }
).version;
const result = JSON.parse(json) as FlowResult;
console.log(
  RESULT_PREFIX +
    JSON.stringify({ ...result, runtime: { name: result.runtime.name, version }, bundleBytes: code.length }),
);
// The memory store's sweep timer cannot be unref'd here (the runtime's setTimeout returns a
// number, as in browsers and workers), and it would hold this Node process for up to a minute.
process.exit(0);
