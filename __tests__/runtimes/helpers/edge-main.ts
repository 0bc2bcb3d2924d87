// The edge-runtime host: `node --import tsx edge-main.ts '<FlowOptions as JSON>'`. It evaluates the
// browser-platform bundle of the flow (bundle.ts; axios picks `fetch`) in `new EdgeRuntime()` (the
// Vercel Edge runtime's globals and nothing of Node's) and prints RESULT_PREFIX and the FlowResult.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeRuntime } from 'edge-runtime';
import { bundleFlow, HOST_ROOT } from './bundle.js';
import { RESULT_PREFIX, type FlowResult } from './flow.js';

const [optionsJson] = process.argv.slice(2);
if (optionsJson === undefined) throw new Error('usage: edge-main.ts <FlowOptions as JSON>');

const code = await bundleFlow(
  'iife',
  'globalThis.runTokenflightFlow = (json) => runFlow(axios, tokenflight, JSON.parse(json)).then(JSON.stringify);',
);
const runtime = new EdgeRuntime({ initialCode: code });
const json = await runtime.evaluate<Promise<string>>(`runTokenflightFlow(${JSON.stringify(optionsJson)})`);
const manifest = join(HOST_ROOT, 'node_modules/edge-runtime/package.json');
const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
const result = JSON.parse(json) as FlowResult;
console.log(
  RESULT_PREFIX +
    JSON.stringify({ ...result, runtime: { name: result.runtime.name, version }, bundleBytes: code.length }),
);
// No process.exit(): the flow ejects its handles, which stops the default store's sweep timer
// (it cannot be unref'd here, the runtime's setTimeout returning a number as in browsers), so
// this process ends on its own; a timer left behind would hold it and time the test out.
