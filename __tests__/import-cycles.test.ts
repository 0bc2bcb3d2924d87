import { afterAll, describe, expect, jest, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npm run check:cycles` (dependency-cruiser with .dependency-cruiser.cjs) is what keeps lib/ free
// of import cycles: it must pass on lib/ as it is, and fail on a cycle, one of types included.

jest.setTimeout(60_000);

const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

function cruise(target: string): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    [
      join('node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      target,
      '--config',
      '.dependency-cruiser.cjs',
    ],
    { encoding: 'utf8' },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A scratch folder holding `files` (name to source). */
function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenflight-cycles-'));
  scratchDirs.push(dir);
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

describe('the import-cycle check', () => {
  test('is part of npm run check, over lib/', () => {
    expect(script['check:cycles']).toBe('depcruise lib --config .dependency-cruiser.cjs');
    expect(script.check).toContain('npm run check:cycles');
  });

  test('passes on lib/', () => {
    const { status, output } = cruise('lib');
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  test('fails on a cycle of imports, naming its files', () => {
    const dir = scratch({
      'manager.ts': "import { part } from './part.js';\nexport const manager = (): number => part();\n",
      'part.ts': "import { manager } from './manager.js';\nexport const part = (): number => (manager ? 1 : 0);\n",
    });
    const { status, output } = cruise(dir);
    expect(status).not.toBe(0);
    expect(output).toContain('no-circular');
    expect(output).toMatch(/manager\.ts[\s\S]*part\.ts/);
  });

  test('fails on a cycle made of type-only imports (a part importing its owner’s options type)', () => {
    const dir = scratch({
      'manager.ts':
        "import { createPart } from './part.js';\nexport interface ManagerOptions { cooldownMs: number }\nexport const createManager = (options: ManagerOptions): number => createPart(options);\n",
      'part.ts':
        "import type { ManagerOptions } from './manager.js';\nexport const createPart = (options: Pick<ManagerOptions, 'cooldownMs'>): number => options.cooldownMs;\n",
    });
    const { status, output } = cruise(dir);
    expect(status).not.toBe(0);
    expect(output).toContain('no-circular');
  });

  test('fails on a cycle closed by a dynamic import() or a re-export', () => {
    for (const files of [
      {
        'entry.ts': "export const load = async (): Promise<number> => (await import('./lazy.js')).lazy;\n",
        'lazy.ts': "import { load } from './entry.js';\nexport const lazy = typeof load === 'function' ? 1 : 0;\n",
      },
      {
        'index.ts': "export { part } from './part.js';\nexport const name = 'index';\n",
        'part.ts': "import { name } from './index.js';\nexport const part = (): string => name;\n",
      },
    ]) {
      const { status, output } = cruise(scratch(files));
      expect(status).not.toBe(0);
      expect(output).toContain('no-circular');
    }
  });

  test('passes the same parts once the part declares the narrow type it needs', () => {
    const dir = scratch({
      'manager.ts':
        "import { createPart } from './part.js';\nexport interface ManagerOptions { cooldownMs: number; now: () => number }\nexport const createManager = (options: ManagerOptions): number => createPart(options);\n",
      'part.ts':
        'export interface PartOptions { cooldownMs: number }\nexport const createPart = (options: PartOptions): number => options.cooldownMs;\n',
    });
    const { status, output } = cruise(dir);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });
});
