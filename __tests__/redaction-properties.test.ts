import { describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import axios from 'axios';
import fc from 'fast-check';
import {
  attachTokenAuth,
  clientCredentials,
  isTokenflightError,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuthEvent,
  type TokenAuthLogFields,
  type TokenStore,
} from '../lib/index.js';
import { REDACTED } from '../lib/shared/redact.js';
import { RedisTokenStore, RedisTokenStoreError, type RedisTokenStoreEvent } from '../lib/redis.js';
import { mockOf } from './helpers/index.js';
import { shown } from './helpers/secret-shown.js';

// One redaction rule for every error, event and logger line. Secrets and tokens
// are arbitrary: short ones, ones made of regular-expression metacharacters, ones that are
// substrings of each other. Before, token-request.ts skipped secrets under 3 characters, and the
// Redis store and the token manager each had a loop of their own.

const METACHARACTERS = ['.', '*', '+', '?', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', '/', '-'];
const secretArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 3 }),
  fc.array(fc.constantFrom(...METACHARACTERS, 'x', 'Q'), { minLength: 1, maxLength: 8 }).map((chars) => chars.join('')),
  fc.string({ minLength: 4, maxLength: 24 }),
);
const tokenArb = fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,16}$/);
/** A secret, a client id that is sometimes a piece of the secret, and a token that is sometimes a piece of either. */
const credentialsArb = fc
  .tuple(secretArb, secretArb, tokenArb, fc.nat(), fc.nat(), fc.constantFrom('free', 'id-in-secret', 'token-in-secret'))
  .map(([secret, id, token, a, b, relation]) => {
    const piece = (text: string): string => text.slice(a % text.length, (a % text.length) + 1 + (b % text.length));
    if (relation === 'id-in-secret') return { secret, clientId: piece(secret), token };
    const fromSecret = piece(secret);
    const usable = /^[A-Za-z0-9._~+/-]+$/.test(fromSecret);
    return { secret, clientId: id, token: relation === 'token-in-secret' && usable ? fromSecret : token };
  });

/**
 * Figures that differ from run to run (fingerprints in hex, durations, ISO dates) could contain a
 * secret made of those characters by chance, also with the quotes and brackets that `inspect` and
 * JSON put around them (a client id `'7` is the start of an inspected fingerprint `'7a…'`); such
 * secrets are left to the example-based tests.
 */
const VARIABLE_TEXT = /^[0-9a-fTZ:.\-\s'"`,[\]{}]*$/;

function renderings(value: unknown, showHidden = true): string[] {
  const cause = (value as { cause?: unknown } | undefined)?.cause;
  return [
    String(value),
    (value as Error | undefined)?.stack ?? '',
    JSON.stringify(value ?? null),
    inspect(value, { depth: 8 }),
    ...(showHidden ? [inspect(value, { depth: 8, showHidden: true })] : []),
    inspect(cause, { depth: 8 }),
  ];
}

/** A store whose writes and deletes fail with an error naming the token, as ioredis' errors list a command's arguments. */
function failingStore(token: string): TokenStore {
  const failure = (command: string): Error =>
    Object.assign(new Error(`${command} failed for ${token}`), { name: 'ReplyError', command: { args: [token] } });
  return {
    get: () => Promise.resolve(undefined),
    set: () => Promise.reject(failure('SET')),
    delete: () => Promise.reject(failure('DEL')),
  };
}

/** Everything a user could print while these credentials and this token are in play. */
async function everythingPrinted(secret: string, clientId: string, token: string): Promise<string[]> {
  const printed: string[] = [];
  const log = (fields: TokenAuthLogFields, message: string): void => {
    printed.push(JSON.stringify(fields), inspect(fields, { depth: 8 }), message);
  };
  const events: TokenAuthEvent[] = [];
  const api = axios.create({ baseURL: 'https://api.example.com' });
  const apiMock = mockOf(api);
  const tokenClient = axios.create();
  const tokenMock = mockOf(tokenClient);
  const auth = attachTokenAuth(api, {
    providers: clientCredentials({
      tokenUrl: 'https://auth.example.com/token',
      clientId,
      clientSecret: secret,
      origins: ['https://api.example.com'],
    }),
    store: failingStore(token),
    tokenClient,
    tokenRequest: { cooldownMs: 0 },
    onEvent: (event) => events.push(event),
    logger: { debug: log, info: log, warn: log, error: log },
  });
  // The token endpoint echoes the credentials back, as careless vendors do.
  tokenMock
    .onPost('https://auth.example.com/token')
    .replyOnce(401, { error: `invalid_client ${secret}`, error_description: `client ${clientId} / ${secret} refused` })
    .onPost('https://auth.example.com/token')
    .reply(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
  apiMock.onGet('/data').reply(401, { message: 'no' });
  printed.push(...renderings(await auth.token().catch((error: unknown) => error)));
  // The API rejects every token: the caller gets the replay's axios error (its request objects hidden).
  printed.push(...renderings(await api.get('/data').catch((error: unknown) => error), false));
  await auth.invalidate();
  auth.eject();

  // The Redis store's errors, when Redis' reply echoes a command's arguments.
  const redisEvents: RedisTokenStoreEvent[] = [];
  const echo = (...args: unknown[]): Promise<never> =>
    Promise.reject(
      Object.assign(new Error(`ERR wrong arguments ${args.map(String).join(' ')}`), { name: 'ReplyError' }),
    );
  const client = { get: echo, set: echo, eval: echo, evalsha: echo };
  const store = new RedisTokenStore(client as never, { onEvent: (event) => redisEvents.push(event) });
  const stored = { accessToken: token, tokenType: 'Bearer', expiresAt: Date.now() + 60_000, obtainedAt: Date.now() };
  printed.push(...renderings(await store.set('key', stored).catch((error: unknown) => error)));
  printed.push(...renderings(await store.delete('key', token).catch((error: unknown) => error)));
  for (const event of [...events, ...redisEvents]) printed.push(JSON.stringify(event), inspect(event, { depth: 8 }));
  return printed;
}

describe('one redaction rule for every secret and token, wherever it is printed', () => {
  test('no message, JSON, inspect output, event or logger line holds a secret or the token, whatever they are', async () => {
    await fc.assert(
      fc.asyncProperty(credentialsArb, async ({ secret, clientId, token }) => {
        const values = [secret, clientId, token];
        fc.pre(values.every((value) => value.trim() !== '' && !VARIABLE_TEXT.test(value)));
        const printed = await everythingPrinted(secret, clientId, token);
        // The same run with placeholders, from the same call site (stacks name the files they pass through).
        const baseline = (await everythingPrinted('PLACEHOLDER-SECRET', 'PLACEHOLDER-ID', 'PLACEHOLDER.token')).join(
          '\n',
        );
        // A value that tokenflight's own wording or the marker already contains cannot be told apart
        // from it. The client ID is public (RFC 6749 §2.2): it may be printed.
        const checkable = [secret, token].filter(
          (value) => !shown(baseline, value) && !shown(clientId, value) && !REDACTED.includes(value),
        );
        for (const value of checkable) {
          const leak = printed.find((text) => shown(text, value));
          expect(leak === undefined ? undefined : { value, leak }).toBeUndefined();
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  test('codes survive intact and no secret shows, for short and overlapping client IDs, secrets and refresh tokens', async () => {
    const tokenUrl = 'https://auth.example.com/oauth/token';
    const codes = ['invalid_grant', 'invalid_client', 'invalid_request', 'unauthorized_client', 'NJSCFE001'];
    /** A piece of one of the texts in play: the code, the URL, another value, or a free string. */
    const pieceArb = fc
      .tuple(
        fc.nat(),
        fc.nat(8),
        fc.constantFrom('code', 'url', 'free', 'clientId'),
        fc.string({ minLength: 1, maxLength: 12 }),
      )
      .map(([at, length, from, free]) => ({ at, length, from, free }));
    const caseArb = fc.record({
      code: fc.constantFrom(...codes),
      status: fc.constantFrom(400, 401, 403, 500, 503),
      clientId: fc.oneof(fc.constant('a'), fc.stringMatching(/^[a-z_]{1,4}$/), pieceArb),
      secret: pieceArb,
      refreshToken: pieceArb,
    });
    const refused = async (
      given: { status: number; code: string },
      clientId: string,
      secret: string,
      refreshToken: string,
    ): Promise<unknown> => {
      const tokenClient = axios.create();
      const auth = attachTokenAuth(axios.create({ baseURL: 'https://api.example.com' }), {
        providers: refreshTokenGrant({ tokenUrl, clientId, clientSecret: secret, refreshToken }),
        tokenClient,
        tokenRequest: { retries: 0, cooldownMs: 0 },
      });
      mockOf(tokenClient)
        .onPost(tokenUrl)
        .reply(given.status, {
          error: given.code,
          error_description: `refused ${clientId}: secret=${secret}, refresh_token "${refreshToken}"`,
        });
      const error = await auth.token().catch((e: unknown) => e);
      auth.eject();
      return error;
    };
    const cut = (text: string, { at, length }: { at: number; length: number }): string =>
      text.slice(at % text.length, (at % text.length) + 1 + length);
    await fc.assert(
      fc.asyncProperty(caseArb, async (given) => {
        const source = (piece: { from: string; free: string }, clientId: string): string =>
          piece.from === 'code'
            ? given.code
            : piece.from === 'url'
              ? tokenUrl
              : piece.from === 'clientId'
                ? clientId
                : piece.free;
        const clientId = typeof given.clientId === 'string' ? given.clientId : cut(given.code, given.clientId);
        const secret = cut(source(given.secret, clientId), given.secret);
        const refreshToken = cut(source(given.refreshToken, secret), given.refreshToken);
        const visible = (text: string): boolean => text.trim() !== '' && /^[\x20-\x7E]+$/.test(text);
        fc.pre([clientId, secret, refreshToken].every(visible) && secret !== refreshToken);
        const error = await refused(given, clientId, secret, refreshToken);
        // The same refusal with placeholders: what tokenflight's own wording shows (`"attempts":1`).
        const baseline = await refused(given, clientId, 'PLACEHOLDER-SECRET', 'PLACEHOLDER-REFRESH');
        const rendered = (value: unknown): string[] => [
          String(value),
          JSON.stringify(value),
          inspect({ ...(value as object) }),
        ];
        expect(isTokenRequestError(error)).toBe(true);
        if (!isTokenRequestError(error)) return;
        // What the code means is decided on the code as received.
        const ended = given.code === 'invalid_grant' && given.status < 500;
        expect(error.code).toBe(
          ended ? 'ERR_TOKEN_SESSION_ENDED' : given.status < 500 ? 'ERR_TOKEN_CREDENTIALS' : 'ERR_TOKEN_UNAVAILABLE',
        );
        // The code is reported as received, or withheld whole when it is itself a secret's text.
        const secrets = [secret, refreshToken];
        const codeShowsSecret = secrets.some((value) => shown(given.code, value));
        expect(error.providerCode).toBe(codeShowsSecret ? undefined : given.code);
        // No secret shows; the URL and the client ID, public, are intact.
        // (Stacks are left out: their frames name minified functions of one letter.)
        for (const text of rendered(error)) {
          // A secret that the public texts themselves show (the URL, the client ID) cannot be told apart from them.
          for (const value of secrets) {
            if (REDACTED.includes(value) || shown(tokenUrl, value) || shown(clientId, value)) continue;
            if (rendered(baseline).some((other) => shown(other, value))) continue;
            expect(shown(text, value)).toBe(false);
          }
        }
        if (!secrets.some((value) => shown(tokenUrl, value))) expect(error.message).toContain(`(${tokenUrl})`);
        expect(error.url).toBe(tokenUrl);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  test('RedisTokenStoreError is a TokenflightError with its own code, and its JSON names the operation', async () => {
    const client = {
      get: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
      set: () => Promise.reject(new Error('down')),
      eval: () => Promise.reject(new Error('down')),
      evalsha: () => Promise.reject(new Error('down')),
    };
    const store = new RedisTokenStore(client as never, { breakerOpenMs: 0 });
    const error = await store.get('key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisTokenStoreError);
    expect(isTokenflightError(error)).toBe(true);
    expect((error as RedisTokenStoreError).toJSON()).toEqual({
      name: 'RedisTokenStoreError',
      message: 'Redis get failed: connect ECONNREFUSED 127.0.0.1:6379',
      code: 'ERR_REDIS_UNAVAILABLE',
      provider: undefined,
      operation: 'get',
    });
  });
});
