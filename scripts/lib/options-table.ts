/**
 * The options tables of docs/options.md, generated from the TSDoc of the options interfaces with
 * the TypeScript compiler API, so they cannot drift from the code: one row per option, nested
 * option objects (such as `tokenRequest`) expanded as `tokenRequest.timeoutMs`. Each `@default`
 * that names a value of `DEFAULTS` must agree with it.
 *
 * A new table is one line in {@link TABLES} and a pair of markers in docs/options.md.
 */
import { join } from 'node:path';
import ts from 'typescript';

export interface TableSpec {
  /** The marker in docs/options.md: `<!-- options:<name> -->` … `<!-- /options:<name> -->`. */
  readonly name: string;
  /** The exported interface, in the module `tokenflight` (lib/index.ts) unless `entry` names another. */
  readonly type: string;
  /** The entry file under lib/ that exports `type`. @default 'index.ts' */
  readonly entry?: string;
}

/** The tables of docs/options.md. */
export const TABLES: readonly TableSpec[] = [
  { name: 'attachTokenAuth', type: 'TokenAuthOptions' },
  { name: 'createTokenFetch', type: 'TokenFetchOptions', entry: 'fetch.ts' },
];

export interface OptionRow {
  readonly name: string;
  readonly type: string;
  /** `required`, the `@default` text, or `none`. */
  readonly defaultValue: string;
  readonly meaning: string;
}

const oneLine = (text: string): string =>
  text
    .replace(
      /\{@link\s+([^}|\s]+)\s*(?:\|\s*([^}]+))?\}/g,
      (_link, target: string, label?: string) => `\`${label?.trim() ?? target}\``,
    )
    .replace(/\s*\n\s*/g, ' ')
    .trim();

/** A property's declaration: a mapped type's (`Partial<…>`) properties keep the original's. */
const declarationOf = (property: ts.Symbol): ts.Declaration | undefined =>
  property.valueDeclaration ?? property.declarations?.[0];

function program(root: string, file = 'index.ts'): { checker: ts.TypeChecker; index: ts.SourceFile } {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  const entry = join(root, 'lib', file);
  const created = ts.createProgram([entry], config?.options ?? {});
  const index = created.getSourceFile(entry);
  if (index === undefined) throw new Error(`cannot read ${entry}`);
  return { checker: created.getTypeChecker(), index };
}

/** A nested options object: an interface of lib/ whose members are all plain values, no methods. */
function nestedOptions(checker: ts.TypeChecker, type: ts.Type, root: string): ts.Symbol[] | undefined {
  const target = checker.getNonNullableType(type);
  if (target.isUnion() || target.getCallSignatures().length > 0) return undefined;
  const properties = checker.getPropertiesOfType(target);
  if (properties.length === 0) return undefined;
  const inLib = properties.every((property) =>
    (declarationOf(property)?.getSourceFile().fileName ?? '').startsWith(join(root, 'lib')),
  );
  const plain = properties.every((property) => {
    const declaration = declarationOf(property);
    if (declaration === undefined || !ts.isPropertySignature(declaration)) return false;
    return checker.getTypeOfSymbol(property).getCallSignatures().length === 0;
  });
  return inLib && plain ? properties : undefined;
}

function row(checker: ts.TypeChecker, property: ts.Symbol, prefix: string, parentOptional: boolean): OptionRow {
  const declaration = declarationOf(property) as ts.PropertySignature;
  const optional = parentOptional || (property.flags & ts.SymbolFlags.Optional) !== 0 || prefix !== '';
  const tag = property.getJsDocTags(checker).find((candidate) => candidate.name === 'default');
  const tagText = tag === undefined ? undefined : oneLine(ts.displayPartsToString(tag.text));
  return {
    name: `${prefix}${property.name}`,
    type:
      declaration.type === undefined
        ? checker.typeToString(checker.getTypeOfSymbol(property))
        : oneLine(declaration.type.getText()),
    defaultValue: !optional ? 'required' : (tagText ?? 'none'),
    meaning: oneLine(ts.displayPartsToString(property.getDocumentationComment(checker))),
  };
}

/** The rows of one options interface, nested option objects expanded after their own row. */
export function optionRows(root: string, typeName: string, entry?: string): OptionRow[] {
  const { checker, index } = program(root, entry);
  const moduleSymbol = checker.getSymbolAtLocation(index);
  const exported = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
  const found = exported.find((symbol) => symbol.name === typeName);
  if (found === undefined) throw new Error(`\`${typeName}\` is not exported by lib/${entry ?? 'index.ts'}`);
  const symbol = found.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(found) : found;
  const rows: OptionRow[] = [];
  for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
    rows.push(row(checker, property, '', false));
    const nested = nestedOptions(checker, checker.getTypeOfSymbol(property), root);
    for (const inner of nested ?? []) rows.push(row(checker, inner, `${property.name}.`, true));
  }
  return rows;
}

/**
 * Where a row's `@default` and `DEFAULTS` (the one home of defaults) disagree: `refreshWindowMs`
 * against `DEFAULTS.refreshWindowMs`, `tokenRequest.timeoutMs` against `DEFAULTS.tokenRequest.timeoutMs`.
 */
export function defaultsDisagreements(rows: readonly OptionRow[], defaults: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const { name, defaultValue } of rows) {
    let value: unknown = defaults;
    for (const key of name.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    const expected = String(value);
    if (defaultValue.replace(/_/g, '') !== expected) {
      problems.push(`\`${name}\`: @default ${defaultValue}, but DEFAULTS says ${expected}`);
    }
  }
  return problems;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The Markdown table of `rows`. */
export function renderTable(rows: readonly OptionRow[]): string {
  const lines = ['| option | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const option of rows) {
    const defaultValue =
      option.defaultValue === 'required' || option.defaultValue === 'none'
        ? option.defaultValue
        : `\`${option.defaultValue}\``;
    lines.push(`| \`${option.name}\` | \`${cell(option.type)}\` | ${cell(defaultValue)} | ${cell(option.meaning)} |`);
  }
  return lines.join('\n');
}

/** `markdown` with the table between the markers of `name` replaced by `table`. */
export function replaceTable(markdown: string, name: string, table: string): string {
  const start = `<!-- options:${name} -->`;
  const end = `<!-- /options:${name} -->`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from === -1 || to < from) throw new Error(`docs/options.md has no ${start} … ${end} markers`);
  return `${markdown.slice(0, from + start.length)}\n${table}\n${markdown.slice(to)}`;
}
