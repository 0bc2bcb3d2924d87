import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { isAxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { attachTokenAuth, clientCredentials, type TokenAuth } from '../lib/index.js';
import { startProviderServer, type ProviderServer } from '../lib/testing/index.js';

// One generated API client, the way tokenflight meets them in the wild: @hey-api/openapi-ts's
// axios client, generated from __tests__/fixtures/conversations.openapi.json, with interceptors
// of its own registered on its axios instance (`client.instance`; hey-api's axios client has no
// interceptor API of its own) and tokenflight attached to that instance afterwards, the way a
// team adds it to a client it already has. tokenflight must be correct whatever
// those interceptors do and wherever they sit in the chain. The client is tried with all of its
// interceptors, then with each one alone, so that a failure points at the interceptor behind it.

const ROOT = resolve(__dirname, '..');
const SPEC = join(ROOT, '__tests__', 'fixtures', 'conversations.openapi.json');
/** Git-ignored; one folder per run, removed after it. */
const OUT = join(ROOT, '__tests__', '.generated', `conversations-${process.pid}-${randomBytes(4).toString('hex')}`);

/**
 * @hey-api/openapi-ts is ESM only and jest runs these suites as CommonJS, so its programmatic
 * `createClient()` runs in a child Node process. It reads the spec from disk: no network.
 */
const GENERATE = `
const { createClient } = await import('@hey-api/openapi-ts');
const [input, path] = process.argv.slice(1);
await createClient({
  input,
  output: { path },
  plugins: ['@hey-api/client-axios', '@hey-api/typescript', '@hey-api/sdk'],
  logs: { level: 'error', file: false },
});
`;

/** The wire shape of every 200 (the testing kit's API echoes the request it accepted). */
interface Echo {
  ok?: boolean;
  provider: string;
  tenant: number;
  method: string;
  path: string;
  query: string;
  contentType: string | null;
  body: string;
}
interface NewConversation {
  title: string;
  participants?: string[];
}

// What this suite uses of the generated code. The code is generated at test time, so these are
// written by hand; `beforeAll` checks that the generated modules export them.
interface GeneratedClient {
  readonly instance: AxiosInstance;
}
interface CallOptions {
  client: GeneratedClient;
  headers?: Record<string, string>;
  baseURL?: string;
}
interface Result<T> {
  data: T;
  status: number;
}
interface Sdk {
  listConversations(options: CallOptions & { query?: { limit?: number } }): Promise<Result<Echo>>;
  getConversation(options: CallOptions & { path: { id: string } }): Promise<Result<Echo>>;
  createConversation(options: CallOptions & { body: NewConversation }): Promise<Result<Echo>>;
}
interface ClientModule {
  createClient(config: Record<string, unknown>): GeneratedClient;
  createConfig(config: Record<string, unknown>): Record<string, unknown>;
}

let sdk: Sdk;
let clientModule: ClientModule;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', GENERATE, SPEC, OUT], { cwd: ROOT });
  // ts-jest compiles the generated TypeScript as it compiles this suite; nothing is rewritten.
  sdk = (await import(join(OUT, 'index.ts'))) as Sdk;
  clientModule = (await import(join(OUT, 'client', 'index.ts'))) as ClientModule;
  for (const name of ['listConversations', 'getConversation', 'createConversation'] as const)
    expect(typeof sdk[name]).toBe('function');
  expect(typeof clientModule.createClient).toBe('function');
  expect(typeof clientModule.createConfig).toBe('function');
}, 30_000);

afterAll(async () => {
  await rm(OUT, { recursive: true, force: true });
});

/** The client's own error class, as hand-written API clients have one. */
class ConversationsError extends Error {
  override readonly name = 'ConversationsError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const STALE = 'stale-static-token';
const REGION_HEADER = 'X-Conversations-Region';

/** The interceptors and hooks the client can come with; each counts its runs. */
interface ClientParts {
  /** hey-api's own auth: `auth` in the client config, applied to operations with `security`. */
  heyApiAuth?: boolean;
  /** A request interceptor that sets `Authorization` itself, as hand-written clients did. */
  staleHeader?: boolean;
  /** A response interceptor that checks and removes the `ok` envelope flag. */
  unwrap?: boolean;
  /** A response interceptor that maps every error into `ConversationsError`. */
  mapErrors?: boolean;
  /** A request interceptor that sends requests marked for the EU region to the EU origin. */
  region?: boolean;
}
type Counts = Record<keyof ClientParts, number>;

interface Conversations {
  client: GeneratedClient;
  counts: Counts;
}

function conversationsClient(parts: ClientParts, baseURL: string, euOrigin: string): Conversations {
  const counts: Counts = { heyApiAuth: 0, staleHeader: 0, unwrap: 0, mapErrors: 0, region: 0 };
  const client = clientModule.createClient(
    clientModule.createConfig({
      baseURL,
      throwOnError: true,
      ...(parts.heyApiAuth === true
        ? {
            auth: () => {
              counts.heyApiAuth++;
              return STALE;
            },
          }
        : {}),
    }),
  );
  const { interceptors } = client.instance;
  if (parts.staleHeader === true) {
    interceptors.request.use((config) => {
      counts.staleHeader++;
      config.headers.set('Authorization', `Bearer ${STALE}`);
      return config;
    });
  }
  if (parts.region === true) {
    interceptors.request.use((config: InternalAxiosRequestConfig) => {
      counts.region++;
      if (config.headers.get(REGION_HEADER) === 'eu' && config.url !== undefined) {
        // hey-api sends the absolute URL in `url` (with `baseURL: ''`).
        const url = new URL(config.url);
        config.url = `${euOrigin}${url.pathname}${url.search}`;
      }
      return config;
    });
  }
  if (parts.unwrap === true || parts.mapErrors === true) {
    interceptors.response.use(
      parts.unwrap === true
        ? (response) => {
            counts.unwrap++;
            const { ok, ...rest } = response.data as Echo;
            if (ok !== true) throw new ConversationsError('the API answered without `ok: true`', response.status, rest);
            response.data = rest;
            return response;
          }
        : undefined,
      parts.mapErrors === true
        ? (error: unknown) => {
            counts.mapErrors++;
            if (!isAxiosError(error)) return Promise.reject(error);
            const status = error.response?.status;
            return Promise.reject(
              new ConversationsError(`conversations API: ${status ?? error.code}`, status, error.response?.data, {
                cause: error,
              }),
            );
          }
        : undefined,
    );
  }
  return { client, counts };
}

const ALL: ClientParts = { heyApiAuth: true, staleHeader: true, unwrap: true, mapErrors: true, region: true };
const CLIENTS: [string, ClientParts][] = [
  ['all of its interceptors and hooks', ALL],
  ["only hey-api's `auth` option (a static token)", { heyApiAuth: true }],
  ['only a request interceptor that sets its own Authorization', { staleHeader: true }],
  ['only a response interceptor that unwraps the envelope', { unwrap: true }],
  ['only a response interceptor that maps errors into its own class', { mapErrors: true }],
  ['only a request interceptor that sends EU requests to another origin', { region: true }],
];

function expectedCounts(parts: ClientParts, calls: number): Counts {
  return {
    heyApiAuth: parts.heyApiAuth === true ? calls : 0,
    staleHeader: parts.staleHeader === true ? calls : 0,
    unwrap: parts.unwrap === true ? calls : 0,
    // Every call succeeds in the end: the client's error handler has nothing to see.
    mapErrors: 0,
    region: parts.region === true ? calls : 0,
  };
}

/** The echo the caller should get: the wire body, without `ok` when the client removes it. */
function echo(parts: ClientParts, fields: Omit<Echo, 'ok' | 'provider' | 'tenant'>): Echo {
  return { ...(parts.unwrap === true ? {} : { ok: true }), provider: 'oauth2', tenant: 0, ...fields };
}

/**
 * `count` SDK calls of all three operations, each with its own id (also sent as `X-Request-Id`,
 * so the server's log tells the calls apart), and what each should return.
 */
function sdkCalls(
  parts: ClientParts,
  client: GeneratedClient,
  count: number,
  tag: string,
): { calls: Promise<Result<Echo>>[]; expected: Echo[] } {
  const calls: Promise<Result<Echo>>[] = [];
  const expected: Echo[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${tag}-${i}`;
    const headers = { 'X-Request-Id': id };
    if (i % 3 === 0) {
      calls.push(sdk.getConversation({ client, headers, path: { id } }));
      expected.push(
        echo(parts, { method: 'GET', path: `/api/v1/conversations/${id}`, query: '', contentType: null, body: '' }),
      );
    } else if (i % 3 === 1) {
      calls.push(sdk.listConversations({ client, headers, query: { limit: i } }));
      expected.push(
        echo(parts, {
          method: 'GET',
          path: '/api/v1/conversations',
          query: `?limit=${i}`,
          contentType: null,
          body: '',
        }),
      );
    } else {
      const body = { title: id, participants: ['ada', 'grace'] };
      calls.push(sdk.createConversation({ client, headers, body }));
      expected.push(
        echo(parts, {
          method: 'POST',
          path: '/api/v1/conversations',
          query: '',
          contentType: 'application/json',
          body: JSON.stringify(body),
        }),
      );
    }
  }
  return { calls, expected };
}

/** The status of a failed call, whether the client mapped the error or not. */
function statusOf(error: unknown): number | undefined {
  if (error instanceof ConversationsError) return error.status;
  return isAxiosError(error) ? error.response?.status : undefined;
}

let api: ProviderServer;
let eu: ProviderServer;
let auth: TokenAuth | undefined;

beforeEach(async () => {
  // The provider's token endpoint and protected API on one origin; the EU origin is another
  // deployment, which this provider's tokens must never reach.
  [api, eu] = await Promise.all([startProviderServer('oauth2'), startProviderServer('oauth2')]);
});

afterEach(async () => {
  auth?.eject();
  auth = undefined;
  await Promise.all([api.close(), eu.close()]);
});

function attach(client: GeneratedClient): TokenAuth {
  const credentials = api.credentials;
  auth = attachTokenAuth(client.instance, {
    providers: clientCredentials({
      tokenUrl: `${api.url}/oauth2/token`,
      clientId: credentials['clientId']!,
      clientSecret: credentials['clientSecret']!,
    }),
  });
  return auth;
}

const apiRequests = (server: ProviderServer) => server.requests.filter((request) => request.kind === 'api');
const bearer = (token: { accessToken: string } | undefined): string => `Bearer ${token?.accessToken}`;

describe.each(CLIENTS)('a generated hey-api axios client with %s, tokenflight attached after', (_name, parts) => {
  let conversations: Conversations;

  beforeEach(() => {
    conversations = conversationsClient(parts, `${api.url}/api`, eu.url);
    attach(conversations.client);
  });

  test('10 concurrent SDK calls: one token request, each call carries the current token and gets its typed data', async () => {
    const { client, counts } = conversations;
    const { calls, expected } = sdkCalls(parts, client, 10, 'first');
    const outcomes = await Promise.allSettled(calls);

    // At the caller: its typed data, once, exactly as the API sent it (less `ok` when unwrapped).
    expect(
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.data : String(outcome.reason))),
    ).toEqual(expected);
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled' && outcome.value.status === 200)).toBe(true);
    // At the server: one token request; every call arrived once, with tokenflight's token, not the stale one.
    expect(api.stats.tokenRequests).toBe(1);
    expect(api.tokens).toHaveLength(1);
    expect(api.stats.apiUnauthorized).toBe(0);
    expect(api.stats.apiSucceeded).toBe(10);
    expect(apiRequests(api).map((request) => request.authorization)).toEqual(Array(10).fill(bearer(api.tokens[0])));
    expect((await auth!.token()).accessToken).toBe(api.tokens[0]?.accessToken);
    // Each of the client's interceptors and hooks ran once per call.
    expect(counts).toEqual(expectedCounts(parts, 10));
  });

  test('after a revocation: one more token request, every 401 replayed once with the new token, typed data, each interceptor once per call', async () => {
    const { client, counts } = conversations;
    await auth!.token();
    const old = api.tokens.at(-1);
    api.revokeAll();
    api.resetStats();

    const { calls, expected } = sdkCalls(parts, client, 9, 'after-revocation');
    const outcomes = await Promise.allSettled(calls);

    // At the caller: every call succeeds with its own typed data: not undefined, not unwrapped or wrapped twice.
    expect(
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.data : String(outcome.reason))),
    ).toEqual(expected);
    // At the server: exactly one more token request; 9 rejected with the old token, 9 replays with the new one.
    expect(api.stats.tokenRequests).toBe(1);
    expect(api.stats.apiUnauthorized).toBe(9);
    expect(api.stats.apiSucceeded).toBe(9);
    const fresh = api.tokens.at(-1);
    expect(fresh?.accessToken).not.toBe(old?.accessToken);
    const seen = apiRequests(api);
    expect(seen.filter((request) => request.authorization === bearer(old))).toHaveLength(9);
    expect(seen.filter((request) => request.authorization === bearer(fresh))).toHaveLength(9);
    expect(seen.filter((request) => request.authorization === `Bearer ${STALE}`)).toHaveLength(0);
    // Each call reached the API twice, in this order: rejected with the old token, replayed with the new one.
    const byCall = new Map<string, string[]>();
    for (const request of seen) {
      const id = String(request.headers['x-request-id']);
      byCall.set(id, [...(byCall.get(id) ?? []), request.authorization ?? 'none']);
    }
    expect(Object.fromEntries(byCall)).toEqual(
      Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`after-revocation-${i}`, [bearer(old), bearer(fresh)]])),
    );
    // Each of the client's interceptors and hooks ran once per call: the replay is not a second call.
    expect(counts).toEqual(expectedCounts(parts, 9));
  });

  test('a request the generated client sends to another origin never carries the token', async () => {
    const { client, counts } = conversations;
    await auth!.token();
    const tokenRequests = api.stats.tokenRequests;
    const results = await Promise.allSettled([
      // A per-call baseURL on the other origin.
      sdk.getConversation({ client, path: { id: 'abroad' }, baseURL: `${eu.url}/api` }),
      sdk.createConversation({ client, body: { title: 'abroad' }, baseURL: `${eu.url}/api` }),
      // Marked for the EU region: the client's region interceptor sends it to the other origin.
      ...(parts.region === true
        ? [sdk.getConversation({ client, path: { id: 'eu' }, headers: { [REGION_HEADER]: 'eu' } })]
        : []),
    ]);
    const calls = results.length;

    // At the other origin: none of the provider's tokens, only the client's own static header or nothing.
    const issued = new Set(api.tokens.map(bearer));
    const abroad = apiRequests(eu);
    expect(abroad.filter((request) => issued.has(request.authorization ?? ''))).toEqual([]);
    const own = parts.heyApiAuth === true || parts.staleHeader === true ? `Bearer ${STALE}` : undefined;
    expect(abroad.map((request) => request.authorization)).toEqual(Array(calls).fill(own));
    // Its 401s are not tokenflight's business: no token request for them, nothing replayed.
    expect(api.stats.tokenRequests).toBe(tokenRequests);
    expect(apiRequests(api)).toEqual([]);
    // At the caller: the other origin's 401, in the client's own error class when it has one.
    expect(results.map((result) => (result.status === 'rejected' ? statusOf(result.reason) : result.status))).toEqual(
      Array(calls).fill(401),
    );
    for (const result of results) {
      if (parts.mapErrors === true)
        expect(result.status === 'rejected' && result.reason).toBeInstanceOf(ConversationsError);
    }
    // Each of the client's interceptors ran once per call; every call reached its error handler.
    expect(counts).toEqual({
      ...expectedCounts(parts, calls),
      unwrap: 0,
      mapErrors: parts.mapErrors === true ? calls : 0,
    });
  });
});
