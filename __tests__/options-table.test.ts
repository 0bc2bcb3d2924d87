import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN_AUTH_KEYS } from '../lib/axios/options.js';
import { DEFAULTS } from '../lib/shared/defaults.js';
import {
  defaultsDisagreements,
  optionRows,
  renderTable,
  replaceTable,
  TABLES,
  type OptionRow,
} from '../scripts/lib/options-table.js';

// docs/options.md's tables come from the TSDoc of the options interfaces, so they cannot drift.

const root = process.cwd();
let rows: OptionRow[];

describe('the options table of attachTokenAuth', () => {
  test('has a row for every option attachTokenAuth takes, and one per field of tokenRequest', () => {
    rows = optionRows(root, 'TokenAuthOptions');
    const names = rows.map((row) => row.name);
    expect(names.filter((name) => !name.includes('.')).sort()).toEqual([...TOKEN_AUTH_KEYS].sort());
    expect(names.filter((name) => name.startsWith('tokenRequest.')).sort()).toEqual(
      Object.keys(DEFAULTS.tokenRequest)
        .map((key) => `tokenRequest.${key}`)
        .sort(),
    );
    expect(rows.find((row) => row.name === 'tokenRequest.timeoutMs')).toEqual({
      name: 'tokenRequest.timeoutMs',
      type: 'number',
      defaultValue: '10_000',
      meaning: 'Time limit of one attempt, in ms.',
    });
    expect(rows.find((row) => row.name === 'providers')?.defaultValue).toBe('required');
  }, 60_000);

  test('every default it shows agrees with DEFAULTS', () => {
    expect(defaultsDisagreements(rows, DEFAULTS)).toEqual([]);
    const drifted = rows.map((row) => (row.name === 'tokenRequest.retries' ? { ...row, defaultValue: '5' } : row));
    expect(defaultsDisagreements(drifted, DEFAULTS)).toEqual([
      '`tokenRequest.retries`: @default 5, but DEFAULTS says 3',
    ]);
  });

  test('docs/options.md holds the tables as the TSDoc generates them', () => {
    const markdown = readFileSync(join(root, 'docs', 'options.md'), 'utf8');
    let fresh = markdown;
    for (const table of TABLES)
      fresh = replaceTable(fresh, table.name, renderTable(optionRows(root, table.type, table.entry)));
    expect(fresh).toBe(markdown);
  }, 60_000);

  test('a table without its markers is an error naming them', () => {
    expect(() => replaceTable('# nothing', 'createTokenFetch', '')).toThrow('<!-- options:createTokenFetch -->');
  });
});
