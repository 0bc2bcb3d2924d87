#!/usr/bin/env node
/**
 * `tokenflight token <provider>`: fetches one token through the library's own code path (the
 * provider factories, `attachTokenAuth` and `auth.token()`) and prints it. This file is the only
 * place in lib/ that writes to stdout and stderr.
 */
import axios from 'axios';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { attachTokenAuth } from '../axios/attach.js';
import { isTokenRequestError } from '../shared/errors.js';
import type { TokenAuthLogger } from '../shared/logger.js';
import { PROVIDERS, type Input, type ProviderCommand } from './commands.js';
import type { TokenProvider } from '../providers/endpoint.js';

/** Exit codes, as documented in docs/cli.md. */
const EXIT = { ok: 0, unexpected: 1, usage: 2, refused: 3, failed: 4 } as const;

const COMMON_FLAGS = {
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  'allow-insecure-http': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const INPUT_FLAGS = Object.fromEntries(
  Object.values(PROVIDERS).flatMap((command) => command.inputs.map((item) => [item.flag, { type: 'string' }] as const)),
);

class UsageError extends Error {}

function version(): string {
  // Relative to the running file, dist/cli.js.
  const file = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const USAGE = `Usage: tokenflight token <provider> [options]

Fetches a token from a provider's token endpoint and prints only the token, so that
  curl -H "Authorization: Bearer $(npx tokenflight token symbl)" https://api.symbl.ai/v1/...
works. With --json it prints the token with its type and expiry.

Providers and their environment variables:
${Object.entries(PROVIDERS)
  .map(
    ([name, command]) =>
      `  ${name.padEnd(11)} ${command.summary}\n${' '.repeat(14)}${command.inputs
        .filter((item) => item.required)
        .map((item) => item.env)
        .join(', ')}`,
  )
  .join('\n')}

Options:
  --base-url <url>       another host for symbl, marsview, singleview (oauth2 takes --token-url)
  --json                 print {"accessToken", "tokenType", "expiresAt", "expiresIn"}
  --verbose              report token requests, retries and timings on stderr
  --allow-insecure-http  allow plain http to hosts other than this machine (test rigs only)
  -h, --help             this help; \`tokenflight token <provider> --help\` lists its flags
  -v, --version          print the version

Credentials come from environment variables or flags. Prefer environment variables: flags end up
in your shell history and in the process list.

Exit codes: 0 token printed; 2 usage error (bad flags, missing credentials); 3 credentials refused
by the token endpoint; 4 no token for another reason (endpoint unavailable, timeout, rate limited,
redirect, malformed answer); 1 unexpected error.
`;

function providerUsage(name: string, command: ProviderCommand): string {
  const rows = command.inputs.map((item) => {
    const flag = `--${item.flag} <value>`.padEnd(26);
    const note = item.required ? 'required' : `optional, default: ${item.fallback ?? 'none'}`;
    return `  ${flag} ${item.env.padEnd(24)} ${item.label} (${note})`;
  });
  return `Usage: tokenflight token ${name} [options]

${command.summary}: ${command.endpoint}

  flag                       environment variable
${rows.join('\n')}

Also: --json, --verbose, --allow-insecure-http, --help. Flags win over environment variables.
Prefer environment variables for secrets: flags end up in your shell history and the process list.
`;
}

function parse(argv: readonly string[]): ReturnType<typeof parseCommand> {
  try {
    return parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const text = String(message);
      const unknown = /^Unknown option '([^']+)'/.exec(text)?.[1];
      throw new UsageError(unknown === undefined ? (text.split('\n')[0] ?? text) : `unknown option ${unknown}`);
    }
    throw error;
  }
}

function parseCommand(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { ...COMMON_FLAGS, ...INPUT_FLAGS },
    strict: true,
    allowPositionals: true,
  });
  return { values: values as Record<string, string | boolean | undefined>, positionals };
}

/** A provider name as typed, when it is safe to echo (it could be a mistyped secret). */
function shown(text: string): string {
  return /^[a-z0-9-]{1,24}$/i.test(text) ? `"${text}"` : 'given';
}

function stderrLogger(write: (text: string) => void): TokenAuthLogger {
  const line = (_fields: unknown, message: string): void => write(`tokenflight: ${message}\n`);
  return { debug: line, info: line, warn: line, error: line };
}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

type Values = ReturnType<typeof parseCommand>['values'];

/** The provider command the positionals name; throws a UsageError naming what is wrong. */
function selectCommand(positionals: readonly string[]): { name: string; command: ProviderCommand } {
  const [commandName, providerName] = positionals;
  if (commandName !== 'token') {
    throw new UsageError(`unknown command ${shown(commandName ?? '')}; the only command is \`token\``);
  }
  if (providerName === undefined) throw new UsageError(`which provider? One of: ${Object.keys(PROVIDERS).join(', ')}`);
  const command = Object.hasOwn(PROVIDERS, providerName) ? PROVIDERS[providerName] : undefined;
  if (command === undefined) {
    throw new UsageError(`unknown provider ${shown(providerName)}; one of: ${Object.keys(PROVIDERS).join(', ')}`);
  }
  return { name: providerName, command };
}

/** The provider's inputs, from flags or else the environment; refuses flags of other providers. */
function readInputs(
  selected: { name: string; command: ProviderCommand },
  values: Values,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const { name, command } = selected;
  const flags = new Set(command.inputs.map((item) => item.flag));
  for (const flag of Object.keys(INPUT_FLAGS)) {
    if (values[flag] === undefined || flags.has(flag)) continue;
    const hint = flag === 'base-url' ? ': it takes --token-url' : '';
    throw new UsageError(`--${flag} does not apply to ${name}${hint} (see tokenflight token ${name} --help)`);
  }
  const given: Record<string, string> = {};
  const missing: Input[] = [];
  for (const item of command.inputs) {
    const flag = values[item.flag];
    const value = typeof flag === 'string' && flag !== '' ? flag : env[item.env];
    if (value !== undefined && value !== '') given[item.key] = value;
    else if (item.required) missing.push(item);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map((item) => `the ${item.label} (${item.env} or --${item.flag})`).join(', ')}`,
    );
  }
  return given;
}

function createProvider(command: ProviderCommand, given: Record<string, string>, values: Values): TokenProvider {
  try {
    return command.create(given, values['allow-insecure-http'] === true);
  } catch (error) {
    // The factory's message names its options; name the flags instead.
    let message = error instanceof Error ? error.message : String(error);
    for (const item of command.inputs) message = message.split(`\`${item.key}\``).join(`--${item.flag}`);
    throw new UsageError(message.replace('pass `allowInsecureHttp: true`', 'pass --allow-insecure-http'));
  }
}

/** Fetches one token and prints it (the token alone, or JSON with its expiry). */
async function printToken(
  provider: TokenProvider,
  options: { json: boolean; verbose: boolean },
  io: Io,
): Promise<void> {
  const auth = attachTokenAuth(axios.create(), {
    providers: provider,
    ...(options.verbose ? { logger: stderrLogger(io.stderr) } : {}),
  });
  try {
    const token = await auth.token();
    if (!options.json) {
      io.stdout(`${token.accessToken}\n`);
      return;
    }
    const expiresIn = token.expiresAt === null ? null : Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000));
    const expiresAt = token.expiresAt === null ? null : new Date(token.expiresAt).toISOString();
    const shape = { accessToken: token.accessToken, tokenType: token.tokenType, expiresAt, expiresIn };
    io.stdout(`${JSON.stringify(shape, null, 2)}\n`);
  } finally {
    auth.eject();
  }
}

/** Runs the command line; resolves to the exit code. */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  // Known before parsing, so that even a malformed command line gets its error as JSON.
  const json = argv.includes('--json');
  let selected: ProviderCommand | undefined;
  try {
    const { values, positionals } = parse(argv);
    if (values['version'] === true) {
      io.stdout(`${version()}\n`);
      return EXIT.ok;
    }
    const help = values['help'] === true;
    const [commandName, providerName, ...rest] = positionals;
    if (commandName === 'help' || (help && (commandName === undefined || providerName === undefined))) {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    if (commandName === undefined) {
      io.stderr(USAGE);
      return EXIT.usage;
    }
    const chosen = selectCommand(positionals);
    selected = chosen.command;
    if (help) {
      io.stdout(providerUsage(chosen.name, chosen.command));
      return EXIT.ok;
    }
    if (rest.length > 0) {
      throw new UsageError(
        `unexpected argument${rest.length > 1 ? 's' : ''} after the provider name; credentials go in flags such as --${chosen.command.inputs[0]?.flag ?? 'app-id'} or in environment variables`,
      );
    }
    const provider = createProvider(chosen.command, readInputs(chosen, values, env), values);
    await printToken(provider, { json, verbose: values['verbose'] === true }, io);
    return EXIT.ok;
  } catch (error) {
    return report(error, json, io, selected);
  }
}

function report(error: unknown, json: boolean, io: Io, command: ProviderCommand | undefined): number {
  if (error instanceof UsageError) {
    io.stderr(
      json
        ? `${JSON.stringify({ error: { code: 'ERR_USAGE', message: error.message } })}\n`
        : `tokenflight: ${error.message}\nRun \`tokenflight --help\` for usage.\n`,
    );
    return EXIT.usage;
  }
  if (isTokenRequestError(error)) {
    const refused = error.code === 'ERR_TOKEN_CREDENTIALS';
    if (json) {
      io.stderr(`${JSON.stringify({ error: error.toJSON() })}\n`);
    } else {
      const facts = [
        error.code,
        error.status === undefined ? undefined : `HTTP ${error.status}`,
        error.providerCode === undefined ? undefined : `provider code ${error.providerCode}`,
      ].filter(Boolean);
      const hint =
        refused && command !== undefined
          ? `tokenflight: check ${command.inputs
              .filter((item) => item.required)
              .map((item) => item.env)
              .join(', ')} (or their flags)\n`
          : '';
      io.stderr(`tokenflight: ${error.message}\ntokenflight: ${facts.join(', ')}\n${hint}`);
    }
    return refused ? EXIT.refused : EXIT.failed;
  }
  // Anything else is a bug. Messages are secret-free by construction: every value read is validated
  // by the library, whose errors never quote what they received.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  io.stderr(`tokenflight: unexpected error: ${message}\n`);
  return EXIT.unexpected;
}

// tokenflight's timers never keep a process alive (they are unref'd); this one does, while the
// command runs, so that a backoff between token request attempts is waited out.
const keepAlive = setInterval(() => undefined, 60_000);
try {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  });
} finally {
  clearInterval(keepAlive);
}
