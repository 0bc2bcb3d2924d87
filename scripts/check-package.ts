/**
 * Checks what ships, on the packed tarball, the way a user gets it:
 *
 * 1. builds, then `npm pack`s into a scratch directory;
 * 2. publint --strict (package.json fields, `exports`, files);
 * 3. attw (are the types wrong?) with its strict profile: node10, node16 from CJS and from ESM,
 *    bundler, for every entry point;
 * 4. installs the tarball into a scratch app with axios, @types/node and the optional peers;
 * 5. for every subpath in `exports`: `import`s it, `require`s it with
 *    `--no-experimental-require-module` (a real CJS build), and compares the two export lists;
 * 6. type-checks a strict TypeScript consumer (scripts/consumer/) compiled as ESM and as CJS;
 * 7. runs the `tokenflight` bin from the app's node_modules/.bin;
 * 8. runs the testing kit under Jest (CommonJS and ES modules), Vitest and node:test
 *    (scripts/runners/, scripts/lib/runners.ts);
 * 9. installs the tarball into a second app WITHOUT axios (scripts/fetch-consumer/), which imports and
 *    requires `tokenflight/fetch`, gets a token from a loopback server and sends it to the API, and
 *    type-checks its declarations with `skipLibCheck` off;
 * 10. type-checks every TypeScript sample of README.md and docs/ in one `tsc` run, as this app would
 *    import the package, and runs the complete programs among them (scripts/lib/samples.ts).
 *
 * A new entry point in `exports` is imported and required with no change here; add a line using
 * it to scripts/consumer/ to type-check it. Run with `npm run check:package`.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRunners, RUNNER_PACKAGES } from './lib/runners.js';
import { locateErrors, runProgram, samplesTsconfig, SAMPLE_PACKAGES, writeSamples } from './lib/samples.js';
import { installInto, pack } from './lib/tarball.js';

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, unknown>;
  bin?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

class StepError extends Error {}

function run(command: string, args: string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 300_000,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      ...options,
    }) as string;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new StepError(`\`${[command, ...args].join(' ')}\` failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

async function step(title: string, body: () => string | undefined | Promise<string | undefined>): Promise<void> {
  const started = performance.now();
  process.stdout.write(`- ${title}... `);
  const detail = await body();
  process.stdout.write(`ok (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  if (detail !== undefined && detail.trim() !== '') process.stdout.write(`${indent(detail.trim())}\n`);
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

/** Subpaths of `exports` that are modules (not `./package.json`), as import specifiers. */
function entryPoints(): string[] {
  return Object.keys(pkg.exports)
    .filter((subpath) => !subpath.endsWith('.json'))
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`));
}

/** Writes the samples into `app/samples/`, type-checks them in one `tsc` run and runs the `ts run` ones. */
function checkSamples(app: string): string {
  const dir = join(app, 'samples');
  const files = writeSamples(root, dir);
  writeFileSync(join(dir, 'tsconfig.json'), samplesTsconfig('out'));
  try {
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], {
      cwd: app,
    });
  } catch (error) {
    throw new StepError(`the samples do not compile:\n${locateErrors((error as Error).message, files, dir, app)}`);
  }
  const programs = files.filter((entry) => entry.sample.run);
  for (const { sample, file } of programs) {
    const failure = runProgram(join(dir, 'out', file.replace(/\.mts$/, '.mjs')), app);
    if (failure !== undefined)
      throw new StepError(`the sample at ${sample.doc}:${sample.line - 1} (a \`ts run\` program) ${failure}`);
  }
  const docs = new Set(files.map((entry) => entry.sample.doc)).size;
  return `${files.length} samples from ${docs} files type-checked; ${programs.length} run`;
}

/** A fetch-only application: axios absent, `tokenflight/fetch` imported, required and type-checked. */
function checkFetchOnly(app: string, tarball: string): string {
  cpSync(join(root, 'scripts', 'fetch-consumer'), app, { recursive: true });
  installInto(app, tarball, []);
  if (existsSync(join(app, 'node_modules', 'axios'))) throw new StepError('npm installed axios beside tokenflight');
  const lines = [
    run(process.execPath, ['esm.mjs'], { cwd: app }),
    run(process.execPath, ['--no-experimental-require-module', 'cjs.cjs'], { cwd: app }),
  ];
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(app, 'tsconfig.json')], {
    cwd: app,
  });
  return [...lines.map((line) => line.trim()), 'types.mts type-checked without axios (skipLibCheck off)'].join('\n');
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'tokenflight-check-'));
  const app = join(scratch, 'app');
  let tarball = '';
  let passed = false;
  try {
    await step('build (tsup)', () => {
      run('npm', ['run', 'build']);
      return undefined;
    });

    await step('npm pack', () => {
      const packed = pack(scratch);
      tarball = packed.tarball;
      return `${packed.filename}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} kB`;
    });

    await step('publint --strict', () => run(bin('publint'), ['--strict', tarball]).replace(/^.*\n.*\n/, ''));

    await step('attw (profile: strict; node10, node16 CJS and ESM, bundler)', () =>
      run(bin('attw'), [tarball, '--format', 'table-flipped', '--no-emoji', '--no-color']),
    );

    await step('install the tarball into a scratch app', () => {
      cpSync(join(root, 'scripts', 'consumer'), app, { recursive: true });
      const packages = [
        ...Object.keys(pkg.peerDependencies ?? {}),
        '@types/node',
        ...RUNNER_PACKAGES,
        ...SAMPLE_PACKAGES,
      ];
      installInto(app, tarball, packages);
      return `with ${packages.join(', ')}`;
    });

    for (const specifier of entryPoints()) {
      await step(`import and require ${specifier}`, () => {
        const esm = run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `console.log(JSON.stringify(Object.keys(await import('${specifier}')).sort()))`,
          ],
          { cwd: app },
        );
        const cjs = run(
          process.execPath,
          [
            '--no-experimental-require-module',
            '-e',
            `console.log(JSON.stringify(Object.keys(require('${specifier}')).sort()))`,
          ],
          { cwd: app },
        );
        const esmNames = JSON.parse(esm) as string[];
        const cjsNames = JSON.parse(cjs) as string[];
        if (esmNames.length === 0) throw new StepError(`${specifier} exports nothing`);
        if (JSON.stringify(esmNames) !== JSON.stringify(cjsNames)) {
          throw new StepError(
            `${specifier}: the ESM and CJS builds export different names:\n  ESM: ${esmNames.join(', ')}\n  CJS: ${cjsNames.join(', ')}`,
          );
        }
        return `${esmNames.length} exports, the same in both builds`;
      });
    }

    await step('type-check a strict consumer (NodeNext, ESM .mts and CJS .cts)', () => {
      run(
        process.execPath,
        [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(app, 'tsconfig.json')],
        {
          cwd: app,
        },
      );
      return undefined;
    });

    for (const name of Object.keys(pkg.bin ?? {})) {
      await step(`run the \`${name}\` bin from node_modules/.bin`, () => {
        const version = run(join(app, 'node_modules', '.bin', name), ['--version'], { cwd: app }).trim();
        if (version !== pkg.version)
          throw new StepError(`\`${name} --version\` printed ${version}, not ${pkg.version}`);
        return `${name} --version: ${version}`;
      });
    }
    for (const runner of prepareRunners(root, app)) {
      await step(`the testing kit under ${runner.name}: startAuthorizationServer() and refreshTokenGrant`, () => {
        const [command, ...args] = runner.command;
        run(command!, args, { cwd: app, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', NODE_OPTIONS: '' } });
        return undefined;
      });
    }
    await step('tokenflight/fetch with axios not installed: import, require, a token to the API, types', () =>
      checkFetchOnly(join(scratch, 'fetch-only'), tarball),
    );
    await step('type-check the samples of README.md and docs/ (one tsc run), run the complete programs', () =>
      checkSamples(app),
    );
    passed = true;
  } finally {
    if (passed) rmSync(scratch, { recursive: true, force: true });
    else process.stdout.write(`\nThe scratch app is kept in ${scratch}\n`);
  }
}

try {
  await main();
  process.stdout.write('Package check passed.\n');
} catch (error) {
  process.stdout.write('FAILED\n');
  process.stderr.write(`${error instanceof StepError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
