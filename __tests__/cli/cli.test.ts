import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProviderServer, type ProviderServer } from '../../lib/testing/index.js';

// The built bin (dist/cli.js, what `npx tokenflight` runs), as a child process against the loopback
// simulation. `npm test` builds dist/ first.
const cli = join(process.cwd(), 'dist', 'cli.js');
const { version } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only these environment variables (and PATH): nothing leaks in from the shell. */
function run(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const servers: Partial<Record<'symbl' | 'marsview' | 'singleview' | 'oauth2', ProviderServer>> = {};
let symbl: ProviderServer;

/** The Symbl simulation's valid credentials, as environment variables. */
function symblEnv(): Record<string, string> {
  return { SYMBL_APP_ID: symbl.credentials['appId']!, SYMBL_APP_SECRET: symbl.credentials['appSecret']! };
}

const issued = (server: ProviderServer): string[] => server.tokens.map((token) => token.accessToken);

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it)');
  for (const kind of ['symbl', 'marsview', 'singleview', 'oauth2'] as const) {
    servers[kind] = await startProviderServer(kind);
  }
  symbl = servers.symbl!;
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server.close()));
});

describe('tokenflight token <provider>', () => {
  test('prints only the token, read with credentials from environment variables, and exits 0', async () => {
    const before = symbl.stats.tokenRequests;
    const { code, stdout, stderr } = await run(['token', 'symbl', '--base-url', symbl.url], symblEnv());

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^\S+\n$/);
    expect(issued(symbl)).toContain(stdout.trim());
    expect(symbl.stats.tokenRequests - before).toBe(1);
  });

  test('--json prints the token with its type, expiry as an ISO date and seconds left', async () => {
    const { code, stdout } = await run(['token', 'symbl', '--base-url', symbl.url, '--json'], symblEnv());

    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as {
      accessToken: string;
      tokenType: string;
      expiresAt: string;
      expiresIn: number;
    };
    expect(Object.keys(printed)).toEqual(['accessToken', 'tokenType', 'expiresAt', 'expiresIn']);
    const token = symbl.tokens.find((candidate) => candidate.accessToken === printed.accessToken);
    expect(token).toBeDefined();
    expect(printed.tokenType).toBe('Bearer');
    expect(Math.abs(Date.parse(printed.expiresAt) - token!.expiresAt)).toBeLessThan(5_000);
    expect(printed.expiresIn).toBeGreaterThan(3590);
    expect(printed.expiresIn).toBeLessThanOrEqual(3600);
  });

  test('flags win over environment variables', async () => {
    const { code, stdout } = await run(
      [
        'token',
        'symbl',
        `--base-url=${symbl.url}`,
        `--app-id=${symbl.credentials['appId']!}`,
        `--app-secret=${symbl.credentials['appSecret']!}`,
      ],
      { SYMBL_APP_ID: 'stale-id', SYMBL_APP_SECRET: 'stale-secret' },
    );

    expect(code).toBe(0);
    expect(issued(symbl)).toContain(stdout.trim());
  });

  test('SYMBL_BASE_URL stands in for --base-url', async () => {
    const { code, stdout } = await run(['token', 'symbl'], { ...symblEnv(), SYMBL_BASE_URL: symbl.url });

    expect(code).toBe(0);
    expect(issued(symbl)).toContain(stdout.trim());
  });

  test('gets Marsview and SingleView tokens from their documented environment variables', async () => {
    const marsview = servers.marsview!;
    const singleview = servers.singleview!;
    const [m, s] = await Promise.all([
      run(['token', 'marsview', '--base-url', marsview.url], {
        MARSVIEW_USER_ID: marsview.credentials['userId']!,
        MARSVIEW_API_KEY: marsview.credentials['apiKey']!,
        MARSVIEW_API_SECRET: marsview.credentials['apiSecret']!,
      }),
      run(['token', 'singleview', '--json'], {
        SINGLEVIEW_CLIENT_ID: singleview.credentials['clientId']!,
        SINGLEVIEW_CLIENT_CODE: singleview.credentials['clientCode']!,
        SINGLEVIEW_MERCHANT_ID: singleview.credentials['merchantId']!,
        SINGLEVIEW_BASE_URL: singleview.url,
      }),
    ]);

    expect(m.code).toBe(0);
    expect(issued(marsview)).toContain(m.stdout.trim());
    expect(s.code).toBe(0);
    const printed = JSON.parse(s.stdout) as { accessToken: string; expiresAt: string };
    expect(issued(singleview)).toContain(printed.accessToken);
    // SingleView answers expires_in 0: the expiry comes from the JWT.
    expect(Date.parse(printed.expiresAt)).toBeGreaterThan(Date.now() + 3_500_000);
  });

  test('oauth2 sends the scope and the chosen client authentication to --token-url', async () => {
    const oauth2 = servers.oauth2!;
    const { code, stdout } = await run(
      [
        'token',
        'oauth2',
        '--token-url',
        `${oauth2.url}/oauth2/token`,
        '--scope',
        'read write',
        '--auth-method',
        'post',
      ],
      { OAUTH_CLIENT_ID: oauth2.credentials['clientId']!, OAUTH_CLIENT_SECRET: oauth2.credentials['clientSecret']! },
    );

    expect(code).toBe(0);
    expect(issued(oauth2)).toContain(stdout.trim());
    const form = new URLSearchParams(oauth2.requests.filter((request) => request.kind === 'token').at(-1)!.body);
    expect(form.get('scope')).toBe('read write');
    expect(form.get('client_id')).toBe(oauth2.credentials['clientId']);
  });
});

describe('failures', () => {
  test('refused credentials exit 3 with the error message and code on stderr, and never the secret', async () => {
    const secret = 'wrong-secret-do-not-print-8472';
    const { code, stdout, stderr } = await run(['token', 'symbl', '--base-url', symbl.url, '--app-secret', secret], {
      SYMBL_APP_ID: symbl.credentials['appId']!,
    });

    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain('Could not get a token for provider "symbl": the token endpoint refused the credentials');
    expect(stderr).toContain('ERR_TOKEN_CREDENTIALS, HTTP 401');
    expect(stderr).toContain('check SYMBL_APP_ID, SYMBL_APP_SECRET');
    expect(stderr).not.toContain(secret);
    expect(stderr).not.toContain(symbl.credentials['appId']!);
  });

  test("a vendor's own error code is shown: Marsview's NJSCFE001", async () => {
    const marsview = servers.marsview!;
    const { code, stderr } = await run(['token', 'marsview', '--base-url', marsview.url], {
      MARSVIEW_USER_ID: 'someone',
      MARSVIEW_API_KEY: 'key-123456',
      MARSVIEW_API_SECRET: 'secret-123456',
    });

    expect(code).toBe(3);
    expect(stderr).toContain('ERR_TOKEN_CREDENTIALS, HTTP 401, provider code NJSCFE001');
    for (const secret of ['someone', 'key-123456', 'secret-123456']) expect(stderr).not.toContain(secret);
  });

  test('with --json the error is printed to stderr as JSON, and stdout stays empty', async () => {
    const { code, stdout, stderr } = await run(['token', 'symbl', '--base-url', symbl.url, '--json'], {
      SYMBL_APP_ID: 'nobody',
      SYMBL_APP_SECRET: 'nothing-secret-9',
    });

    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toMatchObject({
      error: { name: 'TokenRequestError', code: 'ERR_TOKEN_CREDENTIALS', provider: 'symbl', status: 401 },
    });
    expect(stderr).not.toContain('nothing-secret-9');
  });

  test('an endpoint that keeps failing exits 4 after the retries, which --verbose reports', async () => {
    const server = await startProviderServer('symbl');
    server.setTokenFault({ status: 503, body: { message: 'maintenance' } });
    try {
      const { code, stdout, stderr } = await run(['token', 'symbl', '--base-url', server.url, '--verbose'], {
        SYMBL_APP_ID: server.credentials['appId']!,
        SYMBL_APP_SECRET: server.credentials['appSecret']!,
      });

      expect(code).toBe(4);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/token request attempt 1 failed \(ERR_TOKEN_UNAVAILABLE, HTTP 503\); retrying in \d+ ms/);
      expect(stderr).toContain('ERR_TOKEN_UNAVAILABLE, HTTP 503');
      expect(server.stats.tokenRequests).toBe(4);
      expect(stderr).not.toContain(server.credentials['appSecret']!);
    } finally {
      await server.close();
    }
  });

  test('a malformed answer exits 4 without retrying', async () => {
    const server = await startProviderServer('symbl');
    server.queueTokenFaults({ raw: '<html>not json</html>' });
    try {
      const { code, stderr } = await run(['token', 'symbl', '--base-url', server.url], {
        SYMBL_APP_ID: server.credentials['appId']!,
        SYMBL_APP_SECRET: server.credentials['appSecret']!,
      });

      expect(code).toBe(4);
      expect(stderr).toContain('ERR_TOKEN_MALFORMED');
      expect(server.stats.tokenRequests).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('usage errors exit 2', () => {
  test('missing credentials name the environment variables and flags to set', async () => {
    const { code, stdout, stderr } = await run(['token', 'marsview'], { MARSVIEW_USER_ID: 'u' });

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'missing the Marsview API key (MARSVIEW_API_KEY or --api-key), the Marsview API secret (MARSVIEW_API_SECRET or --api-secret)',
    );
  });

  test('an empty environment variable counts as missing', async () => {
    const { code, stderr } = await run(['token', 'symbl'], { SYMBL_APP_ID: 'id', SYMBL_APP_SECRET: '' });

    expect(code).toBe(2);
    expect(stderr).toContain('missing the Symbl App Secret (SYMBL_APP_SECRET or --app-secret)');
  });

  test('a one-letter client ID does not corrupt the OAuth error: invalid_client is shown as the server sent it', async () => {
    const oauth2 = servers.oauth2!;
    const { code, stderr } = await run(['token', 'oauth2', '--token-url', `${oauth2.url}/oauth2/token`], {
      OAUTH_CLIENT_ID: 'a',
      OAUTH_CLIENT_SECRET: 'not-the-secret-5521',
    });

    expect(code).toBe(3);
    expect(stderr).toContain('ERR_TOKEN_CREDENTIALS, HTTP 401, provider code invalid_client');
    expect(stderr).toContain('invalid_client client authentication failed');
    expect(stderr).not.toContain('[REDACTED]');
    expect(stderr).not.toContain('not-the-secret-5521');
  });

  test('a bad --auth-method lists every accepted value, the short ones included', async () => {
    const { code, stderr } = await run(
      ['token', 'oauth2', '--token-url', 'https://auth.example/token', '--auth-method', 'jwt'],
      { OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's' },
    );

    expect(code).toBe(2);
    expect(stderr).toContain(
      "expected --auth-method to be one of 'client_secret_basic', 'client_secret_post', 'basic', 'post', got \"jwt\"",
    );
  });

  test('a --base-url with a query string is refused, named as the flag, without echoing the query', async () => {
    const before = issued(symbl).length;
    const { code, stdout, stderr } = await run(
      ['token', 'symbl', '--base-url', `${symbl.url}/gw?api_key=query-secret-7731`],
      symblEnv(),
    );

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('expected --base-url to have no query string or fragment (a query string given)');
    expect(stderr).not.toContain('query-secret-7731');
    expect(issued(symbl)).toHaveLength(before);
  });

  test('oauth2 needs a token URL', async () => {
    const { code, stderr } = await run(['token', 'oauth2'], { OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's' });

    expect(code).toBe(2);
    expect(stderr).toContain('missing the token endpoint URL (OAUTH_TOKEN_URL or --token-url)');
  });

  test.each([
    [['token', 'symbel'], 'unknown provider "symbel"; one of: symbl, marsview, singleview, oauth2'],
    [['token'], 'which provider? One of: symbl, marsview, singleview, oauth2'],
    [['fetch', 'symbl'], 'unknown command "fetch"; the only command is `token`'],
    [['token', 'symbl', '--app-secrett=typo'], 'unknown option --app-secrett'],
    [['token', 'symbl', '--client-id', 'x'], '--client-id does not apply to symbl'],
    [
      ['token', 'oauth2', '--base-url', 'https://x.example'],
      '--base-url does not apply to oauth2: it takes --token-url',
    ],
    [['token', 'symbl', '--app-id'], "Option '--app-id <value>' argument missing"],
  ])('%j: %s', async (args, message) => {
    const { code, stdout, stderr } = await run(args, symblEnv());

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`tokenflight: ${message}`);
    expect(stderr).toContain('Run `tokenflight --help` for usage.');
  });

  test('with --json a usage error is one JSON line on stderr', async () => {
    const { code, stdout, stderr } = await run(['token', 'symbel', '--json', '--bogus']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({ error: { code: 'ERR_USAGE', message: 'unknown option --bogus' } });
  });

  test('a stray argument, which may be a secret typed without its flag, is not echoed', async () => {
    const { code, stderr } = await run(['token', 'symbl', 'my-app-secret-value'], symblEnv());

    expect(code).toBe(2);
    expect(stderr).toContain('unexpected argument after the provider name');
    expect(stderr).not.toContain('my-app-secret-value');
  });

  test('plain http to another host is refused unless --allow-insecure-http, named as the flag', async () => {
    const { code, stderr } = await run(['token', 'symbl', '--base-url', 'http://api.example.com'], symblEnv());

    expect(code).toBe(2);
    expect(stderr).toContain('refusing plain http for --base-url');
    expect(stderr).toContain('pass --allow-insecure-http');
  });

  test('no arguments print the usage on stderr', async () => {
    const { code, stdout, stderr } = await run([]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: tokenflight token <provider> [options]');
  });
});

describe('help and version', () => {
  test('--help lists the providers, their environment variables, the options and the exit codes', async () => {
    const { code, stdout } = await run(['--help']);

    expect(code).toBe(0);
    for (const text of [
      'Usage: tokenflight token <provider> [options]',
      'SYMBL_APP_ID, SYMBL_APP_SECRET',
      'MARSVIEW_USER_ID, MARSVIEW_API_KEY, MARSVIEW_API_SECRET',
      'SINGLEVIEW_CLIENT_ID, SINGLEVIEW_CLIENT_CODE, SINGLEVIEW_MERCHANT_ID, SINGLEVIEW_BASE_URL',
      'OAUTH_TOKEN_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET',
      '--json',
      'Prefer environment variables',
      'Exit codes: 0 token printed; 2 usage error',
    ])
      expect(stdout).toContain(text);
  });

  test('token <provider> --help lists that provider’s flags and environment variables', async () => {
    const { code, stdout } = await run(['token', 'oauth2', '--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/--token-url <value>\s+OAUTH_TOKEN_URL\s+token endpoint URL \(required\)/);
    expect(stdout).toMatch(/--scope <value>\s+OAUTH_SCOPE/);
    expect(stdout).toMatch(/--auth-method <value>\s+OAUTH_AUTH_METHOD/);
  });

  test('--version prints the package version', async () => {
    const { code, stdout } = await run(['--version']);

    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });
});
