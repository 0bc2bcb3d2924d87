import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BenchUsageError, readBenchArgs, SECTIONS, USAGE } from '../bench/lib/args.js';

// `npm run bench` takes minutes and rewrites docs/benchmarks.md: its command line says how to use
// it, and refuses what it does not know before anything runs.

const report = join(process.cwd(), 'docs', 'benchmarks.md');

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('npm', ['run', '--silent', 'bench', '--', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the bench’s command line', () => {
  test('reads --quick, --only and --help', () => {
    expect(readBenchArgs([])).toEqual({ help: false, quick: false, only: undefined });
    expect(readBenchArgs(['--quick', '--only=hot,latency'])).toEqual({
      help: false,
      quick: true,
      only: ['hot', 'latency'],
    });
    expect(readBenchArgs(['-h']).help).toBe(true);
  });

  test.each([
    [['--bogus'], "'--bogus'"],
    [['--quik'], "'--quik'"],
    [['quick'], "'quick'"],
    [['--only=hot,heap'], '"heap"'],
    [['--only'], '--only'],
  ])('refuses %j, naming it', (args, named) => {
    expect(() => readBenchArgs(args)).toThrow(BenchUsageError);
    expect(() => readBenchArgs(args)).toThrow(named);
  });

  test('the usage names every option and section', () => {
    for (const word of ['--quick', '--only=', '--help', ...SECTIONS]) expect(USAGE).toContain(word);
  });

  test('`npm run bench -- --help` prints the usage and runs nothing', () => {
    const before = statSync(report).mtimeMs;
    const { status, stdout } = bench('--help');
    expect(status).toBe(0);
    expect(stdout).toBe(USAGE);
    expect(statSync(report).mtimeMs).toBe(before);
  }, 60_000);

  test('an unknown option exits with code 2 and a message naming it, before anything runs', () => {
    const before = statSync(report).mtimeMs;
    const { status, stdout, stderr } = bench('--bogus');
    expect(status).toBe(2);
    expect(stderr).toContain("Unknown option '--bogus'");
    expect(stderr).toContain('Usage: npm run bench');
    expect(stdout).not.toContain('[bench]');
    expect(statSync(report).mtimeMs).toBe(before);
  }, 60_000);
});
