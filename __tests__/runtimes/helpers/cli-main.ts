// The entry that Deno and Bun run: `deno run … cli-main.ts '<FlowOptions as JSON>'`. It loads the
// installed axios and the built package (dist/, what npm ships) the runtime's own way, runs the flow
// and prints one line, RESULT_PREFIX (flow.ts) followed by the FlowResult as JSON.
import axios from 'axios';
import type * as Tokenflight from '../../../lib/index.js';
import type * as Flow from './flow.js';

const deno = Reflect.get(globalThis, 'Deno') as { args: string[] } | undefined;
const [optionsJson] = deno?.args ?? process.argv.slice(2);
if (optionsJson === undefined) throw new Error('usage: cli-main.ts <FlowOptions as JSON>');

// Computed specifiers: the type checker sees the sources, the runtime loads the build and the
// TypeScript flow file by their real names.
const flow = (await import(new URL('./flow.ts', import.meta.url).href)) as typeof Flow;
const tokenflight = (await import(new URL('../../../dist/index.js', import.meta.url).href)) as typeof Tokenflight;
const result = await flow.runFlow(axios, tokenflight, JSON.parse(optionsJson) as Flow.FlowOptions);
console.log(flow.RESULT_PREFIX + JSON.stringify(result));
