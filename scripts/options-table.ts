/**
 * Writes the options tables of docs/options.md from the TSDoc (`npm run docs` runs it), or with
 * `--check` fails when they are out of date or a `@default` disagrees with `DEFAULTS`
 * (`npm run check:docs`). See scripts/lib/options-table.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../lib/shared/defaults.js';
import { defaultsDisagreements, optionRows, renderTable, replaceTable, TABLES } from './lib/options-table.js';

const root = join(import.meta.dirname, '..');
const file = join(root, 'docs', 'options.md');
const check = process.argv.includes('--check');

const current = readFileSync(file, 'utf8');
let fresh = current;
const problems: string[] = [];
for (const table of TABLES) {
  const rows = optionRows(root, table.type, table.entry);
  problems.push(...defaultsDisagreements(rows, DEFAULTS).map((problem) => `${table.type} ${problem}`));
  fresh = replaceTable(fresh, table.name, renderTable(rows));
}
if (problems.length > 0) {
  process.stderr.write(
    `The TSDoc's defaults disagree with DEFAULTS (lib/shared/defaults.ts):\n- ${problems.join('\n- ')}\n`,
  );
  process.exitCode = 1;
} else if (!check) {
  writeFileSync(file, fresh);
  process.stdout.write(`docs/options.md: ${TABLES.map((table) => table.name).join(', ')} written.\n`);
} else if (fresh !== current) {
  process.stderr.write('docs/options.md is out of date with the TSDoc in lib/. Run `npm run docs` and commit it.\n');
  process.exitCode = 1;
} else {
  process.stdout.write(`docs/options.md is up to date (${TABLES.map((table) => table.name).join(', ')}).\n`);
}
