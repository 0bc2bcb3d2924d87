/**
 * The packed package, installed the way a user installs it: shared by the packaging test
 * (`__tests__/package.test.ts`) and the packaging check (`scripts/check-package.ts`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// npm scripts and jest both run from the repository root (and this module is loaded as ESM and as CJS).
const root = process.cwd();

/** The version of a package installed at the repository root, so a scratch app uses the same one. */
export function installedVersion(name: string): string {
  const file = join(root, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export interface Packed {
  /** Absolute path of the tarball. */
  tarball: string;
  filename: string;
  /** Paths inside the package, as npm lists them. */
  files: string[];
  size: number;
}

/** `npm pack`s the repository (its dist/ as built) into `directory`, without running scripts. */
export function pack(directory: string): Packed {
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', directory], {
    cwd: root,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  const [info] = JSON.parse(packed) as [{ filename: string; size: number; files: { path: string }[] }];
  return {
    tarball: join(directory, info.filename),
    filename: info.filename,
    files: info.files.map((file) => file.path),
    size: info.size,
  };
}

/**
 * Makes `app` a private package and installs the tarball into it, with `packages` beside it
 * (give them as `name`; the version installed at the root is used). Prefers npm's cache.
 */
export function installInto(app: string, tarball: string, packages: readonly string[]): void {
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      tarball,
      ...packages.map((name) => `${name}@${installedVersion(name)}`),
    ],
    { cwd: app, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 },
  );
}
