/**
 * The command line of `npm run bench`: `--help`, `--quick`, `--only=<sections>`. Anything else is
 * refused before a benchmark runs (a full run takes minutes and rewrites docs/benchmarks.md).
 */
import { parseArgs } from 'node:util';

/** The sections of the report, in the order they run. */
export const SECTIONS = ['hot', 'amplification', 'latency', 'fleet', 'scale', 'refresh', 'fetch', 'dpop'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchArgs {
  readonly help: boolean;
  readonly quick: boolean;
  /** The sections to run; all of them when `--only` is not given. */
  readonly only: readonly Section[] | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

Runs every benchmark, side by side with bare axios and axios-auth-refresh, then rewrites
docs/benchmarks.md and its charts (docs/benchmarks/). A full run takes several minutes.

Options:
  --quick              fewer rounds and requests, for a smoke run (the report says so)
  --only=<sections>    run only these sections, comma-separated: ${SECTIONS.join(', ')};
                       the others keep the figures of the last run that measured them
                       (docs/benchmarks/results.json)
  --help, -h           print this and exit
`;

/** A command line that cannot be run: its message names what was wrong. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** Reads the bench's arguments (`process.argv.slice(2)`); throws a {@link BenchUsageError} for anything it does not know. */
export function readBenchArgs(argv: readonly string[]): BenchArgs {
  let values: { help?: boolean; quick?: boolean; only?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        only: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  let only: Section[] | undefined;
  if (values.only !== undefined) {
    const names = values.only.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
    if (unknown.length > 0 || names.length === 0) {
      throw new BenchUsageError(
        `Unknown section${unknown.length === 1 ? '' : 's'} in --only: ${unknown.map((name) => JSON.stringify(name)).join(', ')} (known: ${SECTIONS.join(', ')})`,
      );
    }
    only = names as Section[];
  }
  return { help: values.help === true, quick: values.quick === true, only };
}
