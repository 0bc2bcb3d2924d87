import { resolve } from 'node:path';
import { build } from 'esbuild';

/** The repository root, seen from this file when a host runs it under tsx (ESM). */
export const HOST_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * One script of axios, the built package (dist/) and the flow, bundled by esbuild for the browser
 * platform: axios's browser build, without its Node.js adapter, as an edge or worker build would
 * make it. `glue` is the code that exposes `runFlow` to the host, with `axios`, `tokenflight` and
 * `runFlow` in scope. The bundle fails if anything in it needs a Node.js built-in.
 */
export async function bundleFlow(format: 'iife' | 'esm', glue: string): Promise<string> {
  // With TOKENFLIGHT_FLOW=fetch, the flow runs through tokenflight/fetch (dist/fetch.js): `runFlow`
  // is then the fetch flow, `axios` is undefined, and the bundle must not contain axios.
  const throughFetch = process.env['TOKENFLIGHT_FLOW'] === 'fetch';
  const entry = throughFetch
    ? `
import * as tokenflight from './dist/fetch.js';
import { detectRuntime } from './__tests__/runtimes/helpers/flow.ts';
import { runFetchFlow } from './__tests__/runtimes/helpers/fetch-flow.ts';
const axios = undefined;
const runFlow = (_axios, module, options) => runFetchFlow(module, options, detectRuntime());
${glue}
`
    : `
import axios from 'axios';
import * as tokenflight from './dist/index.js';
import { runFlow } from './__tests__/runtimes/helpers/flow.ts';
${glue}
`;
  const bundle = await build({
    stdin: { contents: entry, resolveDir: HOST_ROOT, loader: 'ts', sourcefile: 'runtime-entry.ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format,
    target: 'es2022',
    logLevel: 'error',
    metafile: true,
  });
  const axiosInputs = Object.keys(bundle.metafile.inputs).filter((path) => path.includes('node_modules/axios/'));
  if (throughFetch && axiosInputs.length > 0)
    throw new Error(`the tokenflight/fetch bundle contains axios: ${axiosInputs[0]}`);
  const code = bundle.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no bundle');
  return code;
}
