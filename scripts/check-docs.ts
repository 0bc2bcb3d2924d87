/**
 * Fails when docs/api/ is not what typedoc generates from the TSDoc in lib/ now: regenerates it
 * into a scratch directory and compares every file. Run `npm run docs` to update it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const committed = join(root, 'docs', 'api');

function files(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return found;
}

const scratch = mkdtempSync(join(tmpdir(), 'tokenflight-docs-'));
try {
  execFileSync(join(root, 'node_modules', '.bin', 'typedoc'), ['--out', scratch], { cwd: root, stdio: 'inherit' });
  const fresh = files(scratch);
  const current = files(committed);
  const stale = [...new Set([...fresh.keys(), ...current.keys()])]
    .filter((file) => fresh.get(file) !== current.get(file))
    .sort();
  if (stale.length > 0) {
    process.stderr.write(
      `docs/api/ is out of date with the TSDoc in lib/ (${stale.length} file${stale.length === 1 ? '' : 's'}: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}).\nRun \`npm run docs\` and commit docs/api/.\n`,
    );
    process.exitCode = 1;
  } else {
    process.stdout.write(`docs/api/ is up to date (${fresh.size} files).\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
