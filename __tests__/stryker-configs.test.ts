import { describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// Each Stryker config keeps its results in an incremental file of its own, committed under
// stryker/: none missing, none shared by two configs, none left without a config, and every module
// and suite a config names still exists (a moved file would otherwise be silently left out).

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
        const file = suite.replace(/^\*\*\//, '');
        expect({ path, suite, exists: existsSync(file) }).toEqual({ path, suite, exists: true });
      }
    }
  });

  test('no module is mutated by two configs', () => {
    const mutated = configs.flatMap((config) => config.mutate);
    expect(mutated.length).toBeGreaterThan(0);
    expect(new Set(mutated).size).toBe(mutated.length);
  });
});
