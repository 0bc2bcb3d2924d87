import { describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Each Stryker config keeps its results in an incremental file of its own, committed under
// stryker/: none missing, none shared by two configs, none left without a config, and every module
// and suite a config names still exists (a moved file would otherwise be silently left out). An
// incremental file records only modules its config mutates and suites its config runs, all still
// there: results kept for a moved or deleted file are results Stryker can no longer use.

jest.setTimeout(30_000);

interface StrykerConfig {
  path: string;
  mutate: string[];
  incrementalFile: string | undefined;
  testMatch: string[];
}

const paths = [
  'stryker.config.mjs',
  ...readdirSync('stryker')
    .filter((name) => name.endsWith('.config.mjs'))
    .map((name) => join('stryker', name)),
];

// The configs are ES modules: read by Node itself, as Stryker reads them.
const configs = JSON.parse(
  execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const out = [];
       for (const path of ${JSON.stringify(paths)}) {
         const { default: c } = await import('./' + path);
         out.push({ path, mutate: c.mutate, incrementalFile: c.incrementalFile, testMatch: c.jest.config.testMatch });
       }
       console.log(JSON.stringify(out));`,
    ],
    { encoding: 'utf8' },
  ),
) as StrykerConfig[];

// A config's own TypeScript project for the checker (`*.tsconfig.json`) is not an incremental file.
const incrementalFiles = readdirSync('stryker')
  .filter((name) => name.endsWith('.json') && !name.endsWith('.tsconfig.json'))
  .map((name) => join('stryker', name));

describe('the Stryker configs', () => {
  test('each keeps its results in an incremental file of its own that exists', () => {
    const named = configs.map(({ path, incrementalFile }) => ({ path, incrementalFile }));
    for (const { path, incrementalFile } of named)
      expect({ path, exists: existsSync(incrementalFile ?? '') }).toEqual({ path, exists: true });
    expect(new Set(named.map((config) => config.incrementalFile)).size).toBe(configs.length);
  });

  test('every incremental file under stryker/ belongs to a config', () => {
    const named = configs.map((config) => config.incrementalFile);
    expect(incrementalFiles.filter((file) => !named.includes(file))).toEqual([]);
  });

  test('every module a config mutates and every suite it runs exists', () => {
    for (const { path, mutate, testMatch } of configs) {
      for (const pattern of mutate) {
        const fixed = pattern.split('*')[0] ?? '';
        expect({ path, pattern, exists: existsSync(fixed) }).toEqual({ path, pattern, exists: true });
      }
      for (const suite of testMatch) {
        // One suite per entry, by its path: a pattern could match nothing, or more than meant.
        const file = suite.replace(/^\*\*\//, '');
        const isSuite = /^__tests__\/(?!(.+\/)?helpers\/).+\.test\.ts$/.test(file) && existsSync(file);
        expect({ path, suite, isSuite }).toEqual({ path, suite, isSuite: true });
      }
    }
  });

  test('an incremental file records only modules its config mutates and suites it runs, all still there', () => {
    for (const { path, mutate, incrementalFile, testMatch } of configs) {
      if (incrementalFile === undefined || !existsSync(incrementalFile)) continue; // the first test says so
      const report = JSON.parse(readFileSync(incrementalFile, 'utf8')) as {
        files: Record<string, unknown>;
        testFiles?: Record<string, unknown>;
      };
      const suites = testMatch.map((suite) => suite.replace(/^\*\*\//, ''));
      const mutated = (file: string) =>
        mutate.some((pattern) => (pattern.includes('*') ? file.startsWith(pattern.split('*')[0]!) : file === pattern));
      for (const file of Object.keys(report.files)) {
        const current = existsSync(file) && mutated(file);
        expect({ path, incrementalFile, file, current }).toEqual({ path, incrementalFile, file, current: true });
      }
      for (const file of Object.keys(report.testFiles ?? {})) {
        const current = existsSync(file) && suites.includes(file);
        expect({ path, incrementalFile, file, current }).toEqual({ path, incrementalFile, file, current: true });
      }
    }
  });

  test('no module is mutated by two configs', () => {
    const mutated = configs.flatMap((config) => config.mutate);
    expect(mutated.length).toBeGreaterThan(0);
    expect(new Set(mutated).size).toBe(mutated.length);
  });
});
