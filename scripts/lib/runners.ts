/**
 * The testing kit under the test runners users have, from the packed tarball: a CommonJS Jest
 * project (Jest's default), an ES-module Jest project (`--experimental-vm-modules`), Vitest and
 * node:test, each starting the authorization server and running `refreshTokenGrant` against it
 * (scripts/runners/). Used by `npm run check:package`, in its scratch app, which has jest, vitest
 * and @node-oauth/oauth2-server installed at the versions of this repository's lock file.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';

/** The packages the runners need in the scratch app, beside the tarball and its peers. */
export const RUNNER_PACKAGES = ['jest', '@jest/globals', 'vitest', 'vite'] as const;

export interface Runner {
  readonly name: string;
  /** The command, run in the scratch app; `node` is this process's executable. */
  readonly command: readonly string[];
}

/** Copies scripts/runners/ into `app/runners/` and lists the commands that run each project there. */
export function prepareRunners(root: string, app: string): Runner[] {
  cpSync(join(root, 'scripts', 'runners'), join(app, 'runners'), { recursive: true });
  const jest = join('node_modules', 'jest', 'bin', 'jest.js');
  const jestArgs = (dir: string): string[] => [jest, '--ci', '--rootDir', join('runners', dir)];
  return [
    { name: 'Jest, CommonJS', command: [process.execPath, ...jestArgs('jest-cjs')] },
    {
      name: 'Jest, ES modules',
      command: [process.execPath, '--experimental-vm-modules', '--no-warnings', ...jestArgs('jest-esm')],
    },
    {
      name: 'Vitest',
      command: [process.execPath, join('node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', 'runners/vitest'],
    },
    { name: 'node:test', command: [process.execPath, '--test', join('runners', 'node-test', 'kit.test.mjs')] },
  ];
}
