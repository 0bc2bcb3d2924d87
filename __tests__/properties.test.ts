import { describe, expect, jest, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import axios, {
  AxiosError,
  AxiosHeaders,
  CanceledError,
  type AxiosAdapter,
  type AxiosRequestConfig,
  type AxiosResponse,
} from 'axios';
import fc from 'fast-check';
import {
  attachTokenAuth,
  clientCredentials,
  isTokenRequestError,
  marsview,
  singleView,
  symbl,
  type TokenAuthEvent,
  type TokenProvider,
} from '../lib/index.js';
import { CREDS, authOf, harness, useFakeClock } from './helpers/index.js';
import { outcomeCode } from './helpers/load.js';

// Property-based tests (fast-check). On failure fast-check prints the seed and the shrunk
// counterexample; replay it with `fc.assert(..., { seed, path })`.

/** RFC 6750 §2.1 b64token: what a bearer token may be made of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 7230 token (tchar+): what an auth scheme name may be made of. */
const SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// ---------------------------------------------------------------------------------------------
// (a) Random malformed token responses never crash and are never cached.
// ---------------------------------------------------------------------------------------------

interface Shape {
  name: string;
  provider: () => TokenProvider;
  tokenUrl: string;
  baseURL: string;
  /** Secrets that must never appear in an error. */
  secrets: readonly string[];
  /** Where the token fields live: under this key of the root (flag-wrapped vendors), or at the root. */
  wrapper?: { key: string; flag: string };
  token: string;
  expiresIn: string;
  tokenType?: string;
  /** The error fields the vendor uses, to echo random (or secret) text in. */
  message: string;
}

const SHAPES: readonly Shape[] = [
  {
    name: 'symbl',
    provider: () => symbl(CREDS),
    tokenUrl: 'https://api.symbl.ai/oauth2/token:generate',
    baseURL: 'https://api.symbl.ai',
    secrets: [CREDS.appSecret],
    token: 'accessToken',
    expiresIn: 'expiresIn',
    message: 'message',
  },
  {
    name: 'marsview',
    provider: () => marsview({ userId: 'user-1', apiKey: 'key-12345', apiSecret: 'mv-secret-98765' }),
    tokenUrl: 'https://api.marsview.ai/cb/v1/auth/create_access_token',
    baseURL: 'https://api.marsview.ai',
    secrets: ['key-12345', 'mv-secret-98765'],
    wrapper: { key: 'data', flag: 'status' },
    token: 'accessToken',
    expiresIn: 'expiresIn',
    tokenType: 'tokenType',
    message: 'message',
  },
  {
    name: 'singleview',
    provider: () =>
      singleView({ clientId: 'sv-client', clientCode: 'sv-code-24680', merchantId: 'm-1', baseURL: 'https://sv.test' }),
    tokenUrl: 'https://sv.test/v1/api/observice/token',
    baseURL: 'https://sv.test',
    secrets: ['sv-code-24680'],
    wrapper: { key: 'payload', flag: 'success' },
    token: 'access_token',
    expiresIn: 'expires_in',
    tokenType: 'token_type',
    message: 'message',
  },
  {
    name: 'oauth2',
    provider: () =>
      clientCredentials({
        tokenUrl: 'https://auth.test/oauth2/token',
        clientId: 'oauth-client',
        clientSecret: 'oauth-secret-13579',
        origins: ['https://api.test'],
      }),
    tokenUrl: 'https://auth.test/oauth2/token',
    baseURL: 'https://api.test',
    secrets: ['oauth-secret-13579'],
    token: 'access_token',
    expiresIn: 'expires_in',
    tokenType: 'token_type',
    message: 'error_description',
  },
];

/** A well-formed success answer of `shape` carrying `token`. */
function validAnswer(shape: Shape, token: string): Record<string, unknown> {
  const fields: Record<string, unknown> = { [shape.token]: token, [shape.expiresIn]: 3600 };
  if (shape.tokenType !== undefined) fields[shape.tokenType] = 'Bearer';
  return shape.wrapper === undefined ? fields : { [shape.wrapper.flag]: true, [shape.wrapper.key]: fields };
}

const omitted = fc.constant(undefined);
const junk = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
const tokenValue = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,40}=*$/) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', 'a b', 'abc\r\nX-Injected: 1', '=abc', 'ab=c', 'tök', 'abc\u0000') },
  { weight: 2, arbitrary: junk },
  { weight: 1, arbitrary: omitted },
);
const expiresValue = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 10_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: -100_000, max: -1 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom('3600', ' 60 ', '12.5', '1e3', '', 'soon', '-5', '0x10', '0') },
  { weight: 2, arbitrary: junk },
  { weight: 2, arbitrary: omitted },
);
const typeValue = fc.oneof(
  fc.constantFrom('Bearer', 'bearer', 'BEARER', 'MAC', 'DPoP', '', 'Bearer token', 'x\ny'),
  junk,
  omitted,
);
const flagValue = fc.oneof(
  { weight: 8, arbitrary: fc.constant(true) },
  { weight: 1, arbitrary: fc.constantFrom(false, 'true', 1, null) },
  { weight: 1, arbitrary: omitted },
);
const errorValue = fc.oneof(
  { weight: 6, arbitrary: omitted },
  { weight: 1, arbitrary: fc.constantFrom('', 'invalid_client') },
  { weight: 1, arbitrary: junk },
);

/** A body shaped like `shape`'s answer, with every field possibly missing, mistyped or refused. */
function structuredBody(shape: Shape): fc.Arbitrary<unknown> {
  return fc
    .record({
      token: tokenValue,
      expiresIn: expiresValue,
      tokenType: typeValue,
      flag: flagValue,
      success: fc.oneof({ weight: 6, arbitrary: omitted }, { weight: 1, arbitrary: fc.constantFrom(false, true) }),
      status: fc.oneof({ weight: 6, arbitrary: omitted }, { weight: 1, arbitrary: fc.constantFrom(false, true, 200) }),
      error: errorValue,
      message: fc.oneof(fc.string({ maxLength: 30 }), fc.constant(`echoing ${shape.secrets[0] ?? ''} back`), omitted),
      innerIsObject: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
      innerJunk: junk,
    })
    .map((f) => {
      const inner: Record<string, unknown> = { [shape.token]: f.token, [shape.expiresIn]: f.expiresIn };
      if (shape.tokenType !== undefined) inner[shape.tokenType] = f.tokenType;
      const root: Record<string, unknown> = {
        [shape.message]: f.message,
        success: f.success,
        status: f.status,
        error: f.error,
      };
      if (shape.wrapper === undefined) return { ...root, ...inner };
      return { ...root, [shape.wrapper.flag]: f.flag, [shape.wrapper.key]: f.innerIsObject ? inner : f.innerJunk };
    });
}

/** What the token endpoint's body is, on the wire. */
function wireBody(shape: Shape): fc.Arbitrary<string> {
  const structured = structuredBody(shape);
  return fc.oneof(
    { weight: 6, arbitrary: structured.map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structured, fc.nat())
        .map(([body, cut]) => JSON.stringify(body).slice(0, cut % (JSON.stringify(body).length + 1))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'null',
        '[]',
        '<!DOCTYPE html><html>Bad Gateway</html>',
        '{"accessToken":"abc","expiresIn": 0000}',
        '{"success":true,"payload":{"access_token":"abc","expires_in": 0000}}',
      ),
    },
  );
}

type Expected =
  | { ok: true; header: string; mayExpireOnArrival: boolean }
  | { ok: false; code: 'ERR_TOKEN_MALFORMED' | 'ERR_TOKEN_CREDENTIALS' };

/** Lifetimes this short (in seconds) may be over before the answer is read: such a token is asked for again. */
const EXPIRES_ON_ARRIVAL_SECONDS = 0.05;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (value: Record<string, unknown>, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;

/**
 * The oracle, written from rule 6 and the RFCs rather than from the parser: a body is a token when
 * it is a JSON object, reports no failure (vendor flag true; no `success:false`, `status:false` or
 * OAuth `error`), carries a b64token, a valid scheme name if any, and a non-negative lifetime if any.
 */
function expected(shape: Shape, wire: string): Expected {
  let json: unknown;
  try {
    json = JSON.parse(wire);
  } catch {
    return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
  }
  if (!isObject(json)) return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
  const error = own(json, 'error');
  const refused =
    (shape.wrapper !== undefined && own(json, shape.wrapper.flag) !== true) ||
    own(json, 'success') === false ||
    own(json, 'status') === false ||
    (typeof error === 'string' && error !== '');
  if (refused) return { ok: false, code: 'ERR_TOKEN_CREDENTIALS' };
  const fields = shape.wrapper === undefined ? json : own(json, shape.wrapper.key);
  if (!isObject(fields)) return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
  const token = own(fields, shape.token);
  if (typeof token !== 'string' || !B64TOKEN.test(token)) return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
  let scheme = 'Bearer';
  const type = shape.tokenType === undefined ? undefined : own(fields, shape.tokenType);
  if (type !== undefined && type !== null && type !== '') {
    if (typeof type !== 'string' || !SCHEME.test(type)) return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
    scheme = type.toLowerCase() === 'bearer' ? 'Bearer' : type;
  }
  const lifetime = own(fields, shape.expiresIn);
  const lifetimeOk =
    lifetime === undefined ||
    lifetime === null ||
    (typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime >= 0) ||
    (typeof lifetime === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(lifetime));
  if (!lifetimeOk) return { ok: false, code: 'ERR_TOKEN_MALFORMED' };
  const seconds = Number(lifetime ?? 0);
  return {
    ok: true,
    header: `${scheme} ${token}`,
    mayExpireOnArrival: seconds > 0 && seconds < EXPIRES_ON_ARRIVAL_SECONDS,
  };
}

describe('property: random token responses through the real parsing path', () => {
  test('a malformed answer never crashes, rejects with a TokenRequestError free of secrets, and is never cached', async () => {
    const sample = fc.constantFrom(...SHAPES).chain((shape) => fc.tuple(fc.constant(shape), wireBody(shape)));
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(sample, async ([shape, wire]) => {
        const h = harness({ providers: shape.provider(), tokenRequest: { cooldownMs: 0 } }, shape.baseURL);
        try {
          h.tokenMock.onPost(shape.tokenUrl).replyOnce(200, wire);
          h.tokenMock.onPost(shape.tokenUrl).replyOnce(200, validAnswer(shape, 'the-next-token'));
          h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
          const want = expected(shape, wire);
          const first = await h.api.get('/x').then(
            (response) => ({ ok: true as const, header: response.data as unknown }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          if (want.ok) {
            valid++;
            // A token expired by the time its answer arrived is never sent.
            const next = { ok: true, header: 'Bearer the-next-token' };
            if (want.mayExpireOnArrival) expect([{ ok: true, header: want.header }, next]).toContainEqual(first);
            else expect(first).toEqual({ ok: true, header: want.header });
            return;
          }
          if (first.ok) throw new Error(`accepted a malformed answer and sent ${String(first.header)}`);
          const { error } = first;
          expect(isTokenRequestError(error)).toBe(true);
          expect(error).toMatchObject({ code: want.code, provider: shape.name, attempts: 1 });
          const shown = [(error as Error).message, JSON.stringify(error), inspect(error)].join('\n');
          for (const secret of shape.secrets) expect(shown).not.toContain(secret);
          expect(h.apiMock.history).toHaveLength(0);
          // Nothing was cached: the next request asks again and uses the next, valid answer.
          const second = await h.api.get('/x');
          expect(second.data).toBe('Bearer the-next-token');
          expect(h.tokenCalls()).toBe(2);
        } finally {
          h.auth.eject();
        }
      }),
      { numRuns: 300 },
    );
    // The generator reaches both sides of the oracle.
    expect(valid).toBeGreaterThan(10);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// (b) Random interleavings of requests, expiries, revocations, 401s, token answers and aborts.
// ---------------------------------------------------------------------------------------------

const NOW = Date.UTC(2026, 0, 1);
const RETRIES = 1;

type TokenAnswer = 'ok' | '503' | '429' | '400' | 'garbage' | 'network';
type Command =
  | { kind: 'send'; count: number; flavour: 'plain' | 'post' | 'abortable' | 'timeout' }
  | { kind: 'deliver-api'; pick: number }
  | { kind: 'answer-token'; answer: TokenAnswer; lifetimeSeconds: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'revoke' }
  | { kind: 'api-401'; mode: 'once' | 'always' | 'never' }
  | { kind: 'abort'; pick: number }
  | { kind: 'invalidate' }
  | { kind: 'ask-token' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      count: fc.integer({ min: 1, max: 6 }),
      flavour: fc.constantFrom('plain' as const, 'post' as const, 'abortable' as const, 'timeout' as const),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver-api' as const), pick: fc.nat() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('answer-token' as const),
      answer: fc.oneof(
        { weight: 5, arbitrary: fc.constant('ok' as const) },
        { weight: 2, arbitrary: fc.constantFrom<TokenAnswer>('503', '429', '400', 'garbage', 'network') },
      ),
      lifetimeSeconds: fc.constantFrom(1, 2, 3, 30),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(50, 200, 400, 700, 1_000, 2_500, 10_000),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'revoke' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('api-401' as const),
      mode: fc.constantFrom('once' as const, 'always' as const, 'never' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'invalidate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ask-token' as const }) },
);

const fingerprintOf = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 8);

/**
 * Counts WebCrypto digests in progress. tokenflight fingerprints tokens with SHA-256, which Node
 * computes off the event loop; a step is over only when those are done too, so that every run is
 * the same interleaving when fast-check replays or shrinks it.
 */
function countDigests(): { pending: () => number; restore: () => void } {
  const subtle = globalThis.crypto.subtle;
  const digest = subtle.digest.bind(subtle);
  let pending = 0;
  const spy = jest.spyOn(subtle, 'digest').mockImplementation((algorithm, data) => {
    pending++;
    return digest(algorithm, data).finally(() => pending--);
  });
  return { pending: () => pending, restore: () => spy.mockRestore() };
}

/** Lets every promise chain run to where it waits on a test-controlled answer or a fake timer. */
async function quiesce(digests: { pending: () => number }): Promise<void> {
  const deadline = performance.now() + 2_000;
  do {
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  } while (digests.pending() > 0 && performance.now() < deadline);
}

interface Attempt {
  readonly token: string | undefined;
  /** 200 or 401 once answered; 0 while pending, -1 aborted, -2 timed out. */
  status: number;
}

/**
 * A fake token endpoint and a fake API around one tokenflight handle, both answering only when the
 * test says so; the fake API knows which tokens are revoked or expired.
 */
/** How the fake token endpoint behaves during a run. */
interface EndpointMode {
  /**
   * `manual`: token requests wait until an `answer-token` command answers the oldest one.
   * `prompt`: they are answered at once, with the next answer `answer-token` commands queued, or a
   * token living `lifetimeSeconds`.
   */
  answers: 'manual' | 'prompt';
  lifetimeSeconds: number;
  /** After the commands: the endpoint answers every token request, or never answers again. */
  ending: 'answers' | 'hangs';
  cooldownMs: number;
}

function createWorld(mode: EndpointMode, digests: { pending: () => number }) {
  const scripted: { answer: TokenAnswer; lifetimeSeconds: number }[] = [];
  const issued = new Map<string, { expiresAt: number; revoked: boolean }>();
  const tokenByFingerprint = new Map<string, string>();
  const pendingTokens: { answer: (answer: TokenAnswer, lifetimeSeconds: number) => void }[] = [];
  const pendingApi: { deliver: () => void }[] = [];
  const attempts = new Map<string, Attempt[]>();
  /** When tokenflight said it dropped a token (a 401 or `invalidate()`): token → step. */
  const dropped = new Map<string, number>();
  const violations: string[] = [];
  const events: TokenAuthEvent[] = [];
  const state = {
    step: 0,
    stepStartedAt: NOW,
    autoToken: false,
    autoApi: false,
    unauthorizedOnce: false,
    unauthorizedAlways: false,
    tokenRequests: 0,
    tokenInFlight: 0,
    maxTokenInFlight: 0,
    attachesObserved: 0,
  };
  let issuedCount = 0;

  const tokenAdapter: AxiosAdapter = (config) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      state.tokenRequests++;
      state.tokenInFlight++;
      state.maxTokenInFlight = Math.max(state.maxTokenInFlight, state.tokenInFlight);
      let open = true;
      const close = (): boolean => {
        if (!open) return false;
        open = false;
        state.tokenInFlight--;
        const index = pendingTokens.indexOf(entry);
        if (index !== -1) pendingTokens.splice(index, 1);
        return true;
      };
      const reply = (status: number, data: string, headers: Record<string, string> = {}): void =>
        resolve({ data, status, statusText: '', headers: new AxiosHeaders(headers), config, request: {} });
      const entry = {
        answer(answer: TokenAnswer, lifetimeSeconds: number): void {
          if (!close()) return;
          if (answer === 'ok') {
            const accessToken = `tok-${++issuedCount}`;
            issued.set(accessToken, { expiresAt: Date.now() + lifetimeSeconds * 1000, revoked: false });
            tokenByFingerprint.set(fingerprintOf(accessToken), accessToken);
            reply(200, JSON.stringify({ accessToken, expiresIn: lifetimeSeconds }));
          } else if (answer === '503') reply(503, '{"message":"unavailable"}');
          else if (answer === '429') reply(429, '{"message":"slow down"}', { 'retry-after': '1' });
          else if (answer === '400') reply(400, '{"message":"app disabled"}');
          else if (answer === 'garbage') reply(200, '<html>');
          else reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        },
      };
      config.signal?.addEventListener?.('abort', () => {
        if (close()) reject(new CanceledError(undefined, config));
      });
      if (state.autoToken) entry.answer('ok', 30);
      else if (mode.answers === 'prompt') {
        const next = scripted.shift() ?? { answer: 'ok', lifetimeSeconds: mode.lifetimeSeconds };
        entry.answer(next.answer, next.lifetimeSeconds);
      } else pendingTokens.push(entry);
    });

  // tokenflight writes the token where the request leaves, so the fake API sees every token it
  // sends, at the moment it is sent. A token dropped in an earlier step, or expired (by the fake
  // API's clock) before this step began, was chosen knowing it was dead. (Within one step, a
  // request may already have chosen a token when a 401 for it arrives.)
  function observeSent(token: string): void {
    state.attachesObserved++;
    const when = dropped.get(token);
    if (when !== undefined && when < state.step)
      violations.push(`step ${state.step}: sent ${token}, which tokenflight dropped in step ${when}`);
    const known = issued.get(token);
    if (known !== undefined && known.expiresAt <= state.stepStartedAt)
      violations.push(`step ${state.step}: sent ${token}, expired since ${known.expiresAt - NOW} ms`);
  }

  const apiAdapter: AxiosAdapter = (config) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      const headers = AxiosHeaders.from(config.headers);
      const id = String(headers.get('x-request-id'));
      const token = /^Bearer (\S+)$/.exec(String(headers.get('Authorization') ?? ''))?.[1];
      if (token !== undefined) observeSent(token);
      const attempt: Attempt = { token, status: 0 };
      attempts.set(id, [...(attempts.get(id) ?? []), attempt]);
      let open = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const close = (): boolean => {
        if (!open) return false;
        open = false;
        clearTimeout(timer);
        const index = pendingApi.indexOf(entry);
        if (index !== -1) pendingApi.splice(index, 1);
        return true;
      };
      const entry = {
        deliver(): void {
          if (!close()) return;
          const known = token === undefined ? undefined : issued.get(token);
          const valid = known !== undefined && !known.revoked && known.expiresAt > Date.now();
          const refused = !valid || state.unauthorizedAlways || state.unauthorizedOnce;
          state.unauthorizedOnce = false;
          attempt.status = refused ? 401 : 200;
          const response: AxiosResponse = {
            data: refused ? { message: 'invalid token' } : { id },
            status: attempt.status,
            statusText: '',
            headers: new AxiosHeaders(refused ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}),
            config,
            request: {},
          };
          if (!refused) resolve(response);
          else
            reject(
              new AxiosError('Request failed with status code 401', AxiosError.ERR_BAD_REQUEST, config, {}, response),
            );
        },
      };
      config.signal?.addEventListener?.('abort', () => {
        if (!close()) return;
        attempt.status = -1;
        reject(new CanceledError(undefined, config));
      });
      const timeoutMs = config.timeout ?? 0;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          if (!close()) return;
          attempt.status = -2;
          reject(new AxiosError(`timeout of ${timeoutMs}ms exceeded`, AxiosError.ECONNABORTED, config, {}));
        }, timeoutMs);
      }
      if (state.autoApi) entry.deliver();
      else pendingApi.push(entry);
    });

  const api = axios.create({ baseURL: 'https://api.symbl.ai', adapter: apiAdapter });
  const auth = attachTokenAuth(api, {
    providers: symbl(CREDS),
    tokenClient: axios.create({ adapter: tokenAdapter }),
    refreshWindowMs: 1_000,
    expiryMarginMs: 200,
    backgroundRetryMs: 500,
    tokenRequest: {
      timeoutMs: 1_000,
      retries: RETRIES,
      minDelayMs: 10,
      maxDelayMs: 40,
      maxRetryAfterMs: 1_000,
      cooldownMs: mode.cooldownMs,
    },
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'token-invalidated') {
        const token = tokenByFingerprint.get(event.fingerprint);
        if (token !== undefined && !dropped.has(token)) dropped.set(token, state.step);
      }
    },
  });

  const requests: { id: string; result?: PromiseSettledResult<unknown> }[] = [];
  const calls: { what: string; result?: PromiseSettledResult<unknown> }[] = [];
  const controllers: AbortController[] = [];

  function track(entry: { result?: PromiseSettledResult<unknown> }, promise: Promise<unknown>): void {
    promise.then(
      (value) => (entry.result = { status: 'fulfilled', value }),
      (reason: unknown) => (entry.result = { status: 'rejected', reason }),
    );
  }

  async function apply(command: Command): Promise<void> {
    switch (command.kind) {
      case 'send':
        for (let i = 0; i < command.count; i++) {
          const id = String(requests.length + 1);
          const config: AxiosRequestConfig = { url: `/items/${id}`, headers: { 'x-request-id': id } };
          if (command.flavour === 'post') Object.assign(config, { method: 'POST', data: { id } });
          if (command.flavour === 'timeout') config.timeout = 1_500;
          if (command.flavour === 'abortable') {
            const controller = new AbortController();
            controllers.push(controller);
            config.signal = controller.signal;
          }
          const entry: (typeof requests)[number] = { id };
          requests.push(entry);
          track(entry, api.request(config));
        }
        return;
      case 'deliver-api':
        pendingApi[command.pick % Math.max(1, pendingApi.length)]?.deliver();
        return;
      case 'answer-token':
        if (mode.answers === 'prompt') scripted.push(command);
        else pendingTokens[0]?.answer(command.answer, command.lifetimeSeconds);
        return;
      case 'advance':
        await jest.advanceTimersByTimeAsync(command.ms);
        return;
      case 'revoke':
        for (const token of issued.values()) token.revoked = true;
        return;
      case 'api-401':
        state.unauthorizedOnce = command.mode === 'once';
        state.unauthorizedAlways = command.mode === 'always';
        return;
      case 'abort':
        controllers[command.pick % Math.max(1, controllers.length)]?.abort();
        return;
      case 'invalidate': {
        const entry: (typeof calls)[number] = { what: 'invalidate' };
        calls.push(entry);
        track(entry, auth.invalidate());
        return;
      }
      case 'ask-token': {
        const entry: (typeof calls)[number] = { what: 'token' };
        calls.push(entry);
        track(entry, auth.token());
        return;
      }
    }
  }

  const settled = (): boolean =>
    requests.every((entry) => entry.result !== undefined) && calls.every((entry) => entry.result !== undefined);

  /** Runs `work` as one step of the interleaving, then lets everything it set off run. */
  async function step(work: () => Promise<void> | void): Promise<void> {
    state.step++;
    state.stepStartedAt = Date.now();
    await work();
    await quiesce(digests);
  }

  /**
   * The end: the API answers everything, the token endpoint answers or keeps hanging, and fake
   * time runs on until every request has settled and nothing is left in flight. Returns false if
   * that takes more than 100 s of fake time (something hangs).
   */
  async function drain(): Promise<boolean> {
    state.autoApi = true;
    if (mode.ending === 'answers') state.autoToken = true;
    else Object.assign(mode, { answers: 'manual' });
    while (pendingApi.length > 0) await step(() => pendingApi[0]?.deliver());
    while (mode.ending === 'answers' && pendingTokens.length > 0) await step(() => pendingTokens[0]?.answer('ok', 30));
    for (let round = 0; round < 400; round++) {
      if (settled() && state.tokenInFlight === 0 && jest.getTimerCount() === 0) return true;
      await step(() => jest.advanceTimersByTimeAsync(250));
    }
    return false;
  }

  return { auth, state, events, requests, calls, attempts, violations, apply, step, drain };
}

describe('property: random interleavings against a fake token endpoint and a fake API', () => {
  test('every request settles, is replayed at most once, token requests never overlap, and a dropped or expired token is never sent again', async () => {
    let attachesObserved = 0;
    let replaysSeen = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 40, size: 'max' }),
        fc.record({
          answers: fc.constantFrom('manual' as const, 'prompt' as const),
          lifetimeSeconds: fc.constantFrom(1, 2, 3, 30),
          ending: fc.constantFrom('answers' as const, 'hangs' as const),
          cooldownMs: fc.constantFrom(0, 300),
        }),
        fc.integer(),
        async (commands, mode, seed) => {
          useFakeClock(NOW);
          const digests = countDigests();
          // Refresh jitter and backoff jitter come from Math.random: seeded, so a run can be replayed.
          let state = seed >>> 0;
          const random = jest.spyOn(Math, 'random').mockImplementation(() => {
            state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
            return state / 2 ** 32;
          });
          const world = createWorld({ ...mode }, digests);
          try {
            for (const next of commands) await world.step(() => world.apply(next));
            const drained = await world.drain();

            // Every request and every auth.token()/invalidate() call settles.
            expect(drained).toBe(true);
            expect(world.requests.filter((entry) => entry.result === undefined).map((entry) => entry.id)).toEqual([]);
            // ... in a way a caller can switch on.
            const allowed = /^(OK|HTTP 401|ERR_CANCELED|ECONNABORTED|ERR_TOKEN_[A-Z_]+)$/;
            const odd = world.requests.map((entry) => outcomeCode(entry.result!)).filter((code) => !allowed.test(code));
            expect(odd).toEqual([]);
            for (const call of world.calls) {
              if (call.result?.status === 'rejected') expect(isTokenRequestError(call.result.reason)).toBe(true);
              if (call.what === 'invalidate') expect(call.result?.status).toBe('fulfilled');
            }

            // At most one replay per request, and only after a 401.
            let replayed = 0;
            let firstAttempts401 = 0;
            for (const list of world.attempts.values()) {
              expect(list.length).toBeLessThanOrEqual(2);
              if (list[0]?.status === 401) firstAttempts401++;
              if (list.length === 2) {
                replayed++;
                expect(list[0]?.status).toBe(401);
              }
            }
            const replayEvents = world.events.filter((event) => event.type === 'request-replayed').length;
            expect(replayEvents).toBeGreaterThanOrEqual(replayed);
            expect(replayEvents).toBeLessThanOrEqual(firstAttempts401);

            // One token request in flight at a time; each flight is one request per attempt, retries bounded.
            expect(world.state.maxTokenInFlight).toBeLessThanOrEqual(1);
            let reported = 0;
            for (const event of world.events) {
              const attempts =
                event.type === 'token-fetched'
                  ? event.attempts
                  : event.type === 'token-failed'
                    ? ((event.error as { attempts?: number }).attempts ?? 0)
                    : 0;
              expect(attempts).toBeLessThanOrEqual(RETRIES + 1);
              reported += attempts;
            }
            expect(reported).toBe(world.state.tokenRequests);

            // Never a token tokenflight had already dropped (after a 401 or invalidate()), nor an expired one.
            expect(world.violations).toEqual([]);
            attachesObserved += world.state.attachesObserved;
            replaysSeen += replayEvents;
          } finally {
            world.auth.eject();
            jest.useRealTimers();
            digests.restore();
            random.mockRestore();
          }
        },
      ),
      { numRuns: 150 },
    );
    // The observer really sat behind tokenflight's interceptor, and the runs did exercise replays.
    expect(attachesObserved).toBeGreaterThan(0);
    expect(replaysSeen).toBeGreaterThan(0);
  }, 60_000);
});
