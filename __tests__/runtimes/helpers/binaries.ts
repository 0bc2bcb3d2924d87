import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root: where `node_modules/` and `dist/` are. */
export const ROOT = resolve(__dirname, '../../..');

/** A runtime binary that answered `--version`, or why none did. */
export type Binary = { readonly path: string; readonly version: string } | { readonly missing: string };

// The `deno`, `bun` and `workerd` npm packages ship their binaries in a platform package (an optional
// dependency). Their postinstall scripts only move or link the binary next to the wrapper package
// (Bun's moves it away from the platform package), and npm may not run them, so both places are tried.
const DENO_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'linux-x64-glibc',
  'linux-arm64': 'linux-arm64-glibc',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
};
const BUN_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'bun-linux-x64',
  'linux-arm64': 'bun-linux-aarch64',
  'darwin-x64': 'bun-darwin-x64',
  'darwin-arm64': 'bun-darwin-aarch64',
  'win32-x64': 'bun-windows-x64',
};

const WORKERD_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'workerd-linux-64',
  'linux-arm64': 'workerd-linux-arm64',
  'darwin-x64': 'workerd-darwin-64',
  'darwin-arm64': 'workerd-darwin-arm64',
  'win32-x64': 'workerd-windows-64',
};

const platform = `${process.platform}-${process.arch}`;
const exe = process.platform === 'win32' ? '.exe' : '';

/** The first candidate that exists and prints a version (`version` picks it out of `--version`). */
function probe(name: string, candidates: readonly string[], version = /\d+\.\d+\.\d+/): Binary {
  const tried: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      tried.push(`${path} (absent)`);
      continue;
    }
    const answer = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    const found = version.exec(answer.stdout)?.[0];
    if (answer.status === 0 && found !== undefined) return { path, version: found };
    tried.push(`${path} (${answer.error?.message ?? `exit ${answer.status}`})`);
  }
  return { missing: `no working ${name} binary for ${platform} under node_modules; tried ${tried.join(', ')}` };
}

/** Deno from the `deno` npm package. */
export function findDeno(): Binary {
  const target = DENO_TARGETS[platform];
  const modules = join(ROOT, 'node_modules');
  return probe('deno', [
    ...(target === undefined ? [] : [join(modules, '@deno', target, `deno${exe}`)]),
    join(modules, 'deno', `deno${exe}`),
  ]);
}

/** Bun from the `bun` npm package. */
export function findBun(): Binary {
  const target = BUN_TARGETS[platform];
  const modules = join(ROOT, 'node_modules');
  return probe('bun', [
    ...(target === undefined ? [] : [join(modules, '@oven', target, 'bin', `bun${exe}`)]),
    join(modules, 'bun', 'bin', 'bun.exe'),
  ]);
}

/** workerd (Cloudflare Workers' runtime) from the `workerd` npm package; its version is a date. */
export function findWorkerd(): Binary {
  const target = WORKERD_TARGETS[platform];
  const modules = join(ROOT, 'node_modules');
  return probe(
    'workerd',
    [
      ...(target === undefined ? [] : [join(modules, '@cloudflare', target, 'bin', `workerd${exe}`)]),
      join(modules, 'workerd', 'bin', `workerd${exe}`),
    ],
    /\d{4}-\d{2}-\d{2}/,
  );
}
