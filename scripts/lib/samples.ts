/**
 * The code samples of README.md and docs/ (docs/api/ aside: typedoc generates it from the TSDoc),
 * made into TypeScript files that a consumer of the packed package would write, so that
 * `npm run check:package` type-checks them all in one `tsc` run and runs the complete programs.
 *
 * The convention, in the info string of a fenced block (docs/development.md, "Code samples"):
 *
 * - ```` ```ts ````: type-checked. A sample with no `import` of its own is a fragment: it gets the
 *   whole prelude of its file. A sample that imports is complete in its imports: it gets only the
 *   prelude's declarations (its free variables), never its imports, so a missing import fails.
 * - ```` ```ts run ````: a complete program: type-checked without any prelude, then run with node
 *   in the scratch app; it must exit with code 0 within {@link RUN_TIMEOUT_MS}.
 * - Any other language (`sh`, `json`, `http`, `mermaid`, `text`) is not checked.
 *
 * A file's prelude is an HTML comment, invisible once rendered, that declares the free variables of
 * its fragments: `<!-- prelude` on a line of its own, TypeScript, then `-->`. A prelude statement
 * that declares a name the sample declares itself is left out of that sample.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import MarkdownIt from 'markdown-it';
import ts from 'typescript';

/** Packages the samples import, installed into the scratch app beside the tarball (at this repository's versions). */
export const SAMPLE_PACKAGES = [
  'pino',
  'axios-retry',
  'google-auth-library',
  '@azure/identity',
  'ky',
  'ofetch',
  'openapi-fetch',
  '@modelcontextprotocol/sdk',
  'zod',
  'openid-client',
] as const;

/** How long a `ts run` sample may take before it fails as one that does not exit. */
export const RUN_TIMEOUT_MS = 20_000;

/** Languages whose samples are checked. */
const CHECKED = new Set(['ts', 'typescript']);
const PRELUDE = /^<!--\s*prelude\s*\n([\s\S]*?)-->\s*$/;

export interface Sample {
  /** The Markdown file, relative to the repository root. */
  readonly doc: string;
  /** The line of the sample's first line of code in `doc` (1-based). */
  readonly line: number;
  readonly code: string;
  /** `ts run`: a complete program to run. */
  readonly run: boolean;
}

export interface SampleFile {
  readonly sample: Sample;
  /** The file name in the samples directory (`.mts`). */
  readonly file: string;
  /** Lines of prelude before the sample's first line in the file. */
  readonly offset: number;
}

/** README.md and every Markdown file under docs/ but docs/api/. */
export function markdownFiles(root: string): string[] {
  const found = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join('docs', 'api')) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

/** The checked samples of one Markdown file, and its prelude. */
export function readSamples(root: string, doc: string): { samples: Sample[]; prelude: string | undefined } {
  const tokens = new MarkdownIt({ html: true }).parse(readFileSync(join(root, doc), 'utf8'), {});
  const samples: Sample[] = [];
  let prelude: string | undefined;
  for (const token of tokens) {
    if (token.type === 'html_block') {
      const match = PRELUDE.exec(token.content.trim() + '\n');
      if (match !== null) {
        if (prelude !== undefined) throw new Error(`${doc}: more than one prelude`);
        prelude = match[1];
      }
    }
    if (token.type !== 'fence' || token.map === null) continue;
    const [language, ...flags] = token.info.trim().split(/\s+/);
    if (!CHECKED.has(language ?? '')) continue;
    const unknown = flags.filter((flag) => flag !== 'run');
    if (unknown.length > 0) throw new Error(`${doc}:${token.map[0] + 1}: unknown sample flag ${unknown.join(' ')}`);
    samples.push({ doc, line: token.map[0] + 2, code: token.content, run: flags.includes('run') });
  }
  return { samples, prelude };
}

/** Names a statement binds at the top level of a module. */
function boundNames(statement: ts.Statement): string[] {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (clause === undefined) return [];
    const names = clause.name === undefined ? [] : [clause.name.text];
    const bindings = clause.namedBindings;
    if (bindings !== undefined && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    if (bindings !== undefined && ts.isNamedImports(bindings))
      names.push(...bindings.elements.map((element) => element.name.text));
    return names;
  }
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((declaration) =>
      ts.isIdentifier(declaration.name) ? [declaration.name.text] : [],
    );
  }
  const named = statement as ts.Statement & { name?: ts.Node };
  return named.name !== undefined && ts.isIdentifier(named.name) ? [named.name.text] : [];
}

const parse = (code: string): ts.SourceFile =>
  ts.createSourceFile('sample.mts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);

/** The prelude statements a sample gets: see the module comment. */
export function preludeFor(sample: Sample, prelude: string | undefined): string {
  if (sample.run || prelude === undefined) return '';
  const own = parse(sample.code).statements;
  const imports = own.some((statement) => ts.isImportDeclaration(statement));
  const taken = new Set(own.flatMap(boundNames));
  const source = parse(prelude);
  return source.statements
    .filter((statement) => !(imports && ts.isImportDeclaration(statement)))
    .filter((statement) => !boundNames(statement).some((name) => taken.has(name)))
    .map((statement) => statement.getText(source))
    .join('\n');
}

/** Writes every sample of `docs` as a `.mts` file into `dir`; returns where each went. */
export function writeSamples(root: string, dir: string): SampleFile[] {
  mkdirSync(dir, { recursive: true });
  const written: SampleFile[] = [];
  for (const doc of markdownFiles(root)) {
    const { samples, prelude } = readSamples(root, doc);
    for (const sample of samples) {
      const head = preludeFor(sample, prelude);
      const offset = head === '' ? 0 : head.split('\n').length;
      const file = `${doc.replace(/\.md$/, '').replace(/[/\\]/g, '--')}-${sample.line}.mts`;
      // `export {}` makes a fragment a module, for its top-level `await`.
      const code = sample.code.endsWith('\n') ? sample.code : `${sample.code}\n`;
      writeFileSync(join(dir, file), `${head === '' ? '' : `${head}\n`}${code}export {};\n`);
      written.push({ sample, file, offset });
    }
  }
  return written;
}

/** The tsconfig of the samples: a strict ESM consumer (NodeNext), DOM types for the browser pages. */
export function samplesTsconfig(outDir: string): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        verbatimModuleSyntax: true,
        skipLibCheck: true,
        noEmitOnError: true,
        outDir,
        types: ['node'],
      },
      include: ['*.mts'],
    },
    null,
    2,
  );
}

/**
 * Rewrites `tsc`'s `file.mts(line,col)` locations as `doc.md:line` in the Markdown the sample came
 * from, so a failure points at the line to fix.
 */
export function locateErrors(output: string, files: readonly SampleFile[], dir: string, root: string): string {
  const byFile = new Map(files.map((entry) => [entry.file, entry]));
  return output.replace(/([^\s(]+\.mts)\((\d+),(\d+)\)/g, (whole, path: string, line: string, column: string) => {
    const entry = byFile.get(relative(dir, join(dir, path)).replace(/^.*[/\\]/, ''));
    if (entry === undefined) return whole;
    const inSample = Number(line) - entry.offset;
    const where =
      inSample >= 1
        ? `${entry.sample.doc}:${entry.sample.line + inSample - 1}:${column}`
        : `${entry.sample.doc} (prelude)`;
    return `${where} [${relative(root, join(dir, entry.file))}]`;
  });
}

/** Runs a compiled sample with node in `cwd`; `undefined` when it exited with code 0 in time, else why not and what it printed. */
export function runProgram(path: string, cwd: string, timeoutMs = RUN_TIMEOUT_MS): string | undefined {
  try {
    execFileSync(process.execPath, [path], {
      cwd,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return undefined;
  } catch (error) {
    const { stdout, stderr, signal, status } = error as {
      stdout?: string;
      stderr?: string;
      signal?: string | null;
      status?: number | null;
    };
    const why =
      signal === 'SIGKILL'
        ? `did not exit within ${timeoutMs / 1000} s (a program must end: close what it started)`
        : `exited with code ${String(status)}`;
    return `${why}:\n${stdout ?? ''}${stderr ?? ''}`;
  }
}
