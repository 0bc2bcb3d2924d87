/**
 * `npm run check:size`: tokenflight's share of a browser bundle, against a committed budget, and
 * proof that the core needs no Node.js built-in.
 *
 * 1. builds (`tsup`) unless `--no-build`;
 * 2. bundles each scenario below with esbuild's JS API the way an application's bundler would:
 *    `bundle`, `minify`, `format: 'esm'`, `platform: 'browser'`, axios external, `tokenflight`
 *    resolved through `package.json` `exports` to the built `dist/` ESM. Twice: code-split (as
 *    Vite, Rollup and webpack do; what loads at start is counted apart from the lazy chunks of
 *    dynamic `import()`s, such as the logger's messages) and as one file; each file gzipped
 *    (level 9) and brotli-compressed (quality 11) on its own;
 * 3. fails, with the table, when a scenario is larger than its figures in `size-budget.json`
 *    (bytes, measured + a small headroom); prints the same table beside axios-auth-refresh,
 *    axios-jwt and axios measured the same way in the same run;
 * 4. fails when a `tokenflight/fetch` scenario (bundled with nothing external) contains or imports
 *    axios: the fetch entry must run with axios not installed;
 * 5. fails when a browser entry (`lib/index.ts`, `lib/browser.ts` when it exists, and every
 *    scenario) imports a Node.js built-in (`node:*`, `fs`, `crypto`…), naming the chain of imports
 *    that reached it.
 *
 * Options: `--update` rewrites size-budget.json from this run (after a reviewed growth, or to
 * tighten it after a saving); `--source` bundles lib/ instead of dist/ (quicker while iterating,
 * and the inputs name lib/ files); `--inputs` lists each scenario's biggest inputs.
 * A new scenario is one line in SCENARIOS; its budget is written by `--update`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, version as esbuildVersion, type Metafile, type Plugin } from 'esbuild';

interface Scenario {
  readonly name: string;
  /** The application's code: what it imports from tokenflight, kept alive by an export. */
  readonly code: string;
  /** Measured only when this holds (an entry point that another branch adds). */
  readonly when?: () => boolean;
  /**
   * A `tokenflight/fetch` application: bundled with nothing external, and the check fails if
   * axios is anywhere in it (the fetch entry must run with axios not installed).
   */
  readonly withoutAxios?: true;
}

const root = join(import.meta.dirname, '..');
const args = new Set(process.argv.slice(2));
const fromSource = args.has('--source');
const budgetFile = join(root, 'size-budget.json');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

const uses = (names: string, from = 'tokenflight'): string => `export { ${names} } from '${from}';`;

/** tokenflight's scenarios: what an application imports, from the smallest use to everything. */
const SCENARIOS: readonly Scenario[] = [
  { name: 'attachTokenAuth + clientCredentials', code: uses('attachTokenAuth, clientCredentials') },
  { name: 'attachTokenAuth + customProvider', code: uses('attachTokenAuth, customProvider') },
  { name: 'attachTokenAuth + symbl', code: uses('attachTokenAuth, symbl') },
  { name: 'attachTokenAuth + refreshTokenGrant', code: uses('attachTokenAuth, refreshTokenGrant') },
  { name: 'tokenflight (everything)', code: `export * from 'tokenflight';` },
  {
    name: 'tokenflight/browser (everything)',
    code: `export * from 'tokenflight'; export * from 'tokenflight/browser';`,
    when: () => './browser' in pkg.exports,
  },
  {
    name: 'createTokenFetch + customProvider',
    code: uses('createTokenFetch, customProvider', 'tokenflight/fetch'),
    withoutAxios: true,
  },
  {
    name: 'createTokenFetch + refreshTokenGrant + BrowserTokenStore',
    code: `${uses('createTokenFetch, refreshTokenGrant', 'tokenflight/fetch')} ${uses('BrowserTokenStore', 'tokenflight/browser')}`,
    withoutAxios: true,
  },
  { name: 'tokenflight/fetch (everything)', code: `export * from 'tokenflight/fetch';`, withoutAxios: true },
];

/** The same measurement of the alternatives, and of axios itself, for scale (not budgeted). */
const ALTERNATIVES: readonly Scenario[] = [
  { name: 'axios-auth-refresh', code: `export { default } from 'axios-auth-refresh';` },
  { name: 'axios-jwt', code: `export * from 'axios-jwt';` },
  { name: 'axios (for scale; external above)', code: `export { default } from 'axios';` },
];

interface Sizes {
  min: number;
  gzip: number;
  brotli: number;
}
/** What loads before the application runs (code-split), and the whole as one file (not split), gzip. */
interface Budgeted extends Sizes {
  oneFileGzip: number;
}
type Budget = Record<string, Budgeted>;
interface Measured extends Budgeted {
  name: string;
  /** The chunks loaded only by a dynamic `import()`, gzip. */
  lazyGzip: number;
  lazyFiles: string[];
  metafile: Metafile;
}
const BUDGETED = ['min', 'gzip', 'brotli', 'oneFileGzip'] as const;

/** Budget = measured + this share, rounded up to 10 bytes: room for a small fix, not for a feature. */
const HEADROOM = 0.03;

/** Where `tokenflight` and `tokenflight/*` resolve: `exports` (browser, then import), or lib/ with --source. */
function selfPlugin(): Plugin {
  const target = (subpath: string): string => {
    if (fromSource) return join(root, 'lib', subpath === '.' ? 'index.ts' : `${subpath.slice(2)}.ts`);
    let entry: unknown = pkg.exports[subpath];
    while (typeof entry === 'object' && entry !== null) {
      const conditions = entry as Record<string, unknown>;
      entry = conditions['browser'] ?? conditions['import'] ?? conditions['default'];
    }
    if (typeof entry !== 'string') throw new Error(`package.json exports no "${subpath}" for import`);
    return join(root, entry);
  };
  return {
    name: 'tokenflight-self',
    setup(plugin) {
      plugin.onResolve({ filter: /^tokenflight(\/.*)?$/ }, ({ path }) => ({
        path: target(path === 'tokenflight' ? '.' : `.${path.slice('tokenflight'.length)}`),
      }));
    },
  };
}

const isBuiltin = (path: string): boolean =>
  path.startsWith('node:') || builtinModules.includes(path.split('/')[0] ?? path);

/** Keeps Node.js built-ins out of the bundle (external) so that the metafile shows who imported them. */
const builtinsPlugin: Plugin = {
  name: 'node-builtins',
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, ({ path }) => (isBuiltin(path) ? { path, external: true } : undefined));
  },
};

/** The application, as an entry point of its own (esbuild splits code only from entry points). */
function appPlugin(code: string): Plugin {
  return {
    name: 'app',
    setup(plugin) {
      plugin.onResolve({ filter: /^app\.js$/ }, () => ({ path: 'app.js', namespace: 'app' }));
      plugin.onLoad({ filter: /.*/, namespace: 'app' }, () => ({ contents: code, resolveDir: root, loader: 'js' }));
    },
  };
}

interface Bundle {
  /** Every output file: the entry chunk first. */
  files: { path: string; text: string; lazy: boolean }[];
  metafile: Metafile;
}

/**
 * Bundles `entry` as an application's bundler would. With `split`, dynamic `import()`s become chunks
 * of their own, as Vite, Rollup and webpack make them; `lazy` marks the chunks that the entry does
 * not load before it runs.
 */
async function bundle(
  entry: { code: string } | { file: string },
  external: readonly string[],
  split = false,
): Promise<Bundle> {
  const result = await build({
    entryPoints: ['code' in entry ? 'app.js' : entry.file],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting: split,
    outdir: join(root, '.size-out'),
    external: [...external],
    plugins: [...('code' in entry ? [appPlugin(entry.code)] : []), selfPlugin(), builtinsPlugin],
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const outputs = result.metafile.outputs;
  const byPath = (path: string): string => relative(root, path);
  const first = Object.keys(outputs).find((path) => outputs[path]?.entryPoint !== undefined);
  const eager = new Set<string>();
  for (const queue = first === undefined ? [] : [first]; queue.length > 0;) {
    const path = queue.shift()!;
    if (eager.has(path)) continue;
    eager.add(path);
    for (const link of outputs[path]?.imports ?? [])
      if (link.kind === 'import-statement' && !link.external) queue.push(link.path);
  }
  const files = result.outputFiles
    .filter((file) => file.path.endsWith('.js'))
    .map((file) => ({ path: byPath(file.path), text: file.text, lazy: !eager.has(byPath(file.path)) }))
    .sort((x, y) => (x.path === first ? -1 : y.path === first ? 1 : Number(x.lazy) - Number(y.lazy)));
  return { files, metafile: result.metafile };
}

function sizes(text: string): Sizes {
  const bytes = Buffer.from(text);
  return {
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const sum = (all: readonly Sizes[]): Sizes => ({
  min: all.reduce((total, one) => total + one.min, 0),
  gzip: all.reduce((total, one) => total + one.gzip, 0),
  brotli: all.reduce((total, one) => total + one.brotli, 0),
});

/**
 * A scenario's figures: code-split, what loads before the application runs (each file compressed on
 * its own, as it is served) and the lazy chunks; and the whole as one file (esbuild without
 * splitting inlines every `import()`).
 */
async function measure(scenario: Scenario, external: readonly string[]): Promise<Measured> {
  const split = await bundle(scenario, external, true);
  const whole = await bundle(scenario, external);
  const eager = sum(split.files.filter((file) => !file.lazy).map((file) => sizes(file.text)));
  const lazy = sum(split.files.filter((file) => file.lazy).map((file) => sizes(file.text)));
  const oneFile = sizes(whole.files.map((file) => file.text).join(''));
  return {
    name: scenario.name,
    metafile: split.metafile,
    ...eager,
    lazyGzip: lazy.gzip,
    lazyFiles: split.files.filter((file) => file.lazy).map((file) => file.path),
    oneFileGzip: oneFile.gzip,
  };
}

/** For each Node.js built-in a bundle imports: the chain of imports from the entry that reached it. */
function builtinChains(metafile: Metafile): string[] {
  const parents = new Map<string, string>();
  const entries = Object.keys(metafile.inputs).filter(
    (input) => !Object.values(metafile.inputs).some((other) => other.imports.some((link) => link.path === input)),
  );
  const queue = [...entries];
  const found: string[] = [];
  for (let input = queue.shift(); input !== undefined; input = queue.shift()) {
    for (const link of metafile.inputs[input]?.imports ?? []) {
      if (link.external && isBuiltin(link.path)) {
        const chain = [link.path, input];
        for (let at = parents.get(input); at !== undefined; at = parents.get(at)) chain.push(at);
        found.push(chain.reverse().join(' → '));
      } else if (!link.external && !parents.has(link.path) && !entries.includes(link.path)) {
        parents.set(link.path, input);
        queue.push(link.path);
      }
    }
  }
  return found;
}

const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;
const cell = (bytes: number, limit?: number): string =>
  `${bytes.toLocaleString('en-US')} (${kB(bytes)})${limit !== undefined && bytes > limit ? ` > ${limit.toLocaleString('en-US')}!` : ''}`;

function table(rows: readonly Measured[], budget: Budget | undefined): string {
  const head = ['bundle', 'min', 'min + gzip', 'min + brotli', 'lazy chunks, gzip', 'one file, gzip'];
  if (budget !== undefined) head.push('budget (gzip)');
  const lines = rows.map((row) => {
    const limit = budget?.[row.name];
    const cells = [row.name, cell(row.min, limit?.min), cell(row.gzip, limit?.gzip), cell(row.brotli, limit?.brotli)];
    cells.push(row.lazyGzip === 0 ? 'none' : cell(row.lazyGzip), cell(row.oneFileGzip, limit?.oneFileGzip));
    if (budget !== undefined) cells.push(limit === undefined ? 'none' : limit.gzip.toLocaleString('en-US'));
    return cells;
  });
  const widths = head.map((title, index) => Math.max(title.length, ...lines.map((line) => line[index]!.length)));
  const format = (cells: readonly string[]): string =>
    `| ${cells.map((text, index) => text.padEnd(widths[index]!)).join(' | ')} |`;
  return [format(head), format(widths.map((width) => '-'.repeat(width))), ...lines.map(format)].join('\n');
}

/** The inputs that weigh most in what loads at start, and those of the lazy chunks: bytes in the minified output. */
function biggestInputs(row: Measured, count = 15): string {
  const weigh = (lazy: boolean): [string, number][] => {
    const inputs = new Map<string, number>();
    for (const [path, output] of Object.entries(row.metafile.outputs)) {
      if (!path.endsWith('.js') || row.lazyFiles.includes(path) !== lazy) continue;
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        inputs.set(input, (inputs.get(input) ?? 0) + bytesInOutput);
      }
    }
    return [...inputs].filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1]);
  };
  const list = (inputs: [string, number][]): string[] =>
    inputs.map(([path, bytes]) => `  ${String(bytes).padStart(6)}  ${path}`);
  const lazy = weigh(true);
  return [
    `${row.name}, at start:`,
    ...list(weigh(false).slice(0, count)),
    ...(lazy.length === 0 ? [] : [`${row.name}, lazy chunks:`, ...list(lazy)]),
  ].join('\n');
}

const withHeadroom = (bytes: number): number => Math.ceil((bytes * (1 + HEADROOM)) / 10) * 10;

function checkBudget(measured: readonly Measured[], budget: Budget | undefined): string[] {
  const problems: string[] = [];
  for (const row of measured) {
    const limit = budget?.[row.name];
    if (limit === undefined) {
      problems.push(`"${row.name}" has no budget in size-budget.json (run \`npm run check:size -- --update\`)`);
      continue;
    }
    const over = BUDGETED.filter((kind) => row[kind] > limit[kind]);
    if (over.length > 0) problems.push(`"${row.name}" is over its budget (${over.join(', ')})`);
  }
  return problems;
}

/** A fetch scenario that bundles axios, or imports it, named by the chain of imports that reached it. */
function axiosProblems(measured: readonly Measured[]): string[] {
  const problems: string[] = [];
  for (const row of measured.filter((one) => SCENARIOS.find((scenario) => scenario.name === one.name)?.withoutAxios)) {
    const inputs = Object.entries(row.metafile.inputs);
    const bundled = inputs.filter(([path]) => /(^|\/)node_modules\/axios\//.test(path)).map(([path]) => path);
    const importers = inputs
      .filter(([path]) => !path.includes('node_modules/axios/'))
      .filter(([, input]) =>
        input.imports.some((one) => one.path === 'axios' || one.path.includes('node_modules/axios/')),
      )
      .map(([path]) => path);
    if (bundled.length > 0 || importers.length > 0) {
      problems.push(
        `"${row.name}" pulls in axios (imported by ${importers.join(', ') || 'an unknown input'}; ${bundled.length} axios files)`,
      );
    }
  }
  return problems;
}

async function builtinProblems(measured: readonly Measured[]): Promise<{ checked: string[]; problems: string[] }> {
  const problems: string[] = [];
  const entries = ['index.ts', 'browser.ts', 'fetch.ts'].map((file) => join(root, 'lib', file)).filter(existsSync);
  for (const file of entries) {
    const { metafile } = await bundle({ file }, ['axios']);
    for (const chain of builtinChains(metafile))
      problems.push(`${relative(root, file)} imports a Node.js built-in: ${chain}`);
  }
  for (const row of measured) {
    for (const chain of builtinChains(row.metafile))
      problems.push(`"${row.name}" imports a Node.js built-in: ${chain}`);
  }
  return { checked: [...entries.map((file) => relative(root, file)), 'every scenario'], problems };
}

async function main(): Promise<void> {
  if (!fromSource && !args.has('--no-build')) {
    execFileSync(join(root, 'node_modules', '.bin', 'tsup'), { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const measured: Measured[] = [];
  for (const scenario of SCENARIOS.filter((one) => one.when?.() ?? true))
    measured.push(await measure(scenario, scenario.withoutAxios ? [] : ['axios']));
  const alternatives: Measured[] = [];
  for (const scenario of ALTERNATIVES) {
    alternatives.push(await measure(scenario, scenario.name.startsWith('axios ') ? [] : ['axios']));
  }
  const builtins = await builtinProblems(measured);
  const withoutAxios = axiosProblems(measured);
  const problems = [...builtins.problems, ...withoutAxios];
  const budget = existsSync(budgetFile) ? (JSON.parse(readFileSync(budgetFile, 'utf8')) as Budget) : undefined;
  const update = args.has('--update');
  if (update) {
    const next = Object.fromEntries(
      measured.map((row) => [row.name, Object.fromEntries(BUDGETED.map((kind) => [kind, withHeadroom(row[kind])]))]),
    );
    writeFileSync(budgetFile, `${JSON.stringify(next, null, 2)}\n`);
  } else if (!fromSource) {
    problems.push(...checkBudget(measured, budget));
  }

  const out = (text: string): boolean => process.stdout.write(text);
  out(
    `tokenflight's share of a browser bundle, in bytes: esbuild ${esbuildVersion}, minified ESM, platform browser, axios external${fromSource ? ', from lib/' : ', from dist/'}.\n` +
      `min, gzip and brotli: what loads before the application runs, code-split (each file compressed alone); ` +
      `lazy chunks: loaded only by a dynamic import(); one file: esbuild without splitting (every import() inlined).\n\n`,
  );
  out(`${table(measured, update || fromSource ? undefined : budget)}\n\n`);
  out(`The alternatives, and axios itself, measured the same way in this run (whole package):\n\n`);
  out(`${table(alternatives, undefined)}\n`);
  if (update) out(`\nsize-budget.json written: these figures + ${HEADROOM * 100}%, rounded up to 10 bytes.\n`);
  if (args.has('--inputs'))
    out(`\nBiggest inputs (bytes in the minified output):\n${measured.map((row) => biggestInputs(row)).join('\n')}\n`);
  out(`\nNo Node.js built-in in ${builtins.checked.join(', ')}: ${builtins.problems.length > 0 ? 'FAILED' : 'ok'}.\n`);
  out(
    `No axios in the tokenflight/fetch scenarios (bundled with nothing external): ${withoutAxios.length > 0 ? 'FAILED' : 'ok'}.\n`,
  );
  if (problems.length > 0) {
    process.stderr.write(`\ncheck:size failed:\n${problems.map((problem) => `- ${problem}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

await main();
