// The entry that Deno and Bun run for tokenflight/fetch: `deno run … fetch-main.ts '<FlowOptions as
// JSON>'`. It loads the built dist/fetch.js (no axios anywhere), runs the fetch flow and prints one
// line, RESULT_PREFIX (flow.ts) followed by the FlowResult as JSON.
import type * as TokenflightFetch from '../../../lib/fetch.js';
import type * as FetchFlow from './fetch-flow.js';
import type * as Flow from './flow.js';

const deno = Reflect.get(globalThis, 'Deno') as { args: string[] } | undefined;
const [optionsJson] = deno?.args ?? process.argv.slice(2);
if (optionsJson === undefined) throw new Error('usage: fetch-main.ts <FlowOptions as JSON>');

const flow = (await import(new URL('./flow.ts', import.meta.url).href)) as typeof Flow;
const fetchFlow = (await import(new URL('./fetch-flow.ts', import.meta.url).href)) as typeof FetchFlow;
const tokenflight = (await import(new URL('../../../dist/fetch.js', import.meta.url).href)) as typeof TokenflightFetch;
const result = await fetchFlow.runFetchFlow(
  tokenflight,
  JSON.parse(optionsJson) as Flow.FlowOptions,
  flow.detectRuntime(),
);
console.log(flow.RESULT_PREFIX + JSON.stringify(result));
