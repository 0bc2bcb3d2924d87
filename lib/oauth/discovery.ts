import { waitWithAbort } from '../shared/async.js';
import type { HttpClient, HttpResponse } from '../core/http.js';
import { HttpClientError, isHttpClientError } from '../core/http.js';
import { TokenRequestError, type TokenRequestErrorCode } from '../shared/errors.js';
import { displayUrl } from '../shared/url.js';
import { metadataUrls, parseMetadata, type AuthorizationServerMetadata } from './metadata.js';

/**
 * Discovery of an authorization server's metadata from its issuer (RFC 8414, then OpenID Connect
 * Discovery), for every token request of a provider.
 *
 * Simple rules:
 * - One metadata request at a time for all callers: the flight is registered before its first
 *   await and cleared when it settles; a failure is never kept (the next call asks again).
 * - RFC 8414's URL first; OpenID's only when that one answers 404.
 * - Fresh for `refreshAfterMs`; after that the cached metadata is still used while one refresh
 *   runs in the background, for at most `maxStaleMs` (so a failing metadata endpoint does not stop
 *   a working token endpoint); older than that, callers wait for the refresh and share its outcome.
 * - A caller's signal ends only its own wait; `close()` ends the flight and every later call.
 */

/** Limits of discovery. */
export const DISCOVERY_DEFAULTS = {
  /** Time limit of one metadata request, in ms. */
  timeoutMs: 10_000,
  /** Larger metadata is refused (`ERR_TOKEN_TOO_LARGE`); real documents are 1 to 10 KiB. */
  maxBodyBytes: 131_072,
  /** Metadata is fetched again, in the background, once it is this old (1 hour). */
  refreshAfterMs: 3_600_000,
  /** Metadata older than this (24 hours) is not used: callers wait for a successful fetch. */
  maxStaleMs: 86_400_000,
} as const;

/** Limits of one discovery; see {@link DISCOVERY_DEFAULTS}. */
export type DiscoverySettings = { -readonly [K in keyof typeof DISCOVERY_DEFAULTS]: number };

/** What discovery needs; the provider's name and clock, the boundary's HttpClient. */
export interface DiscoveryOptions {
  /** The issuer, as configured (read with `readIssuer`). */
  readonly issuer: string;
  /** The provider's name, for errors. */
  readonly provider: string;
  readonly http: HttpClient;
  /** Epoch ms. */
  readonly now: () => number;
  readonly allowInsecureHttp: boolean;
  readonly settings?: Partial<DiscoverySettings> | undefined;
}

/** A provider's metadata, cached. */
export interface Discovery {
  /** The metadata, fetched or cached; rejects with a `TokenRequestError`. */
  metadata(wait?: { signal?: AbortSignal | undefined }): Promise<AuthorizationServerMetadata>;
  /** Ends the flight in progress and every later call (`ERR_TOKEN_ABORTED`). */
  close(): void;
}

class DiscoveryFailure {
  constructor(
    readonly code: TokenRequestErrorCode,
    readonly detail: string,
    readonly url: string,
    readonly status?: number,
  ) {}
}

function statusFailure(answer: HttpResponse, url: string): DiscoveryFailure {
  const { status } = answer;
  if (status === 0 || (status >= 300 && status < 400)) {
    return new DiscoveryFailure(
      'ERR_TOKEN_REDIRECT',
      `the metadata URL answered with a redirect (HTTP ${status}), not followed`,
      url,
      status,
    );
  }
  if (status === 429)
    return new DiscoveryFailure('ERR_TOKEN_RATE_LIMITED', 'the metadata URL answered HTTP 429', url, status);
  if (status === 408 || status >= 500) {
    return new DiscoveryFailure('ERR_TOKEN_UNAVAILABLE', `the metadata URL answered HTTP ${status}`, url, status);
  }
  return new DiscoveryFailure('ERR_TOKEN_DISCOVERY', `the metadata URL answered HTTP ${status}`, url, status);
}

const TRANSPORT: Readonly<Record<string, TokenRequestErrorCode>> = {
  network: 'ERR_TOKEN_UNAVAILABLE',
  timeout: 'ERR_TOKEN_TIMEOUT',
  'too-large': 'ERR_TOKEN_TOO_LARGE',
  aborted: 'ERR_TOKEN_ABORTED',
};

/** One metadata request, ended on time and by close() even if the transport ignores its signal and limits. */
function sendBounded(
  http: HttpClient,
  url: string,
  settings: DiscoverySettings,
  closing: AbortSignal,
): Promise<HttpResponse> {
  const attempt = new AbortController();
  return waitWithAbort(
    () =>
      http.send({
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        signal: attempt.signal,
        timeoutMs: settings.timeoutMs,
        maxBodyBytes: settings.maxBodyBytes,
      }),
    {
      signal: closing,
      timeoutMs: settings.timeoutMs,
      onAbort: () => {
        attempt.abort();
        return new HttpClientError('aborted', 'the handle was closed');
      },
      onTimeout: () => {
        attempt.abort();
        return new HttpClientError('timeout', 'the metadata URL did not answer in time');
      },
    },
  );
}

/**
 * Reads a provider's metadata once for all concurrent callers and keeps it (see the rules above).
 *
 * @example
 * ```ts
 * const discovery = createDiscovery({ issuer, provider: 'oauth2', http, now: Date.now, allowInsecureHttp: false });
 * const { tokenEndpoint, issuer: audience } = await discovery.metadata({ signal });
 * ```
 */
export function createDiscovery(options: DiscoveryOptions): Discovery {
  const settings: DiscoverySettings = { ...DISCOVERY_DEFAULTS, ...options.settings };
  const { issuer, provider, http, now } = options;
  const closing = new AbortController();
  let cached: { metadata: AuthorizationServerMetadata; at: number } | undefined;
  let flight: Promise<AuthorizationServerMetadata> | undefined;
  let sent = 0;

  const fail = (failure: DiscoveryFailure, cause?: unknown): TokenRequestError =>
    new TokenRequestError(`${provider}: discovery of the authorization server failed: ${failure.detail}`, {
      code: failure.code,
      provider,
      url: displayUrl(new URL(failure.url)),
      status: failure.status,
      attempts: sent,
      cause,
    });

  const get = async (url: string): Promise<HttpResponse> => {
    sent++;
    try {
      return await sendBounded(http, url, settings, closing.signal);
    } catch (error) {
      const code = isHttpClientError(error) ? TRANSPORT[error.reason] : undefined;
      throw fail(
        new DiscoveryFailure(code ?? 'ERR_TOKEN_UNAVAILABLE', 'the metadata URL could not be reached', url),
        error,
      );
    }
  };

  const fetchMetadata = async (): Promise<AuthorizationServerMetadata> => {
    sent = 0;
    const [oauthUrl, openidUrl] = metadataUrls(issuer);
    let url = oauthUrl;
    let answer = await get(url);
    if (answer.status === 404) answer = await get((url = openidUrl));
    if (answer.status !== 200) throw fail(statusFailure(answer, url));
    if (answer.body.length > settings.maxBodyBytes) {
      throw fail(new DiscoveryFailure('ERR_TOKEN_TOO_LARGE', 'the metadata is larger than its limit', url));
    }
    const metadata = parseMetadata(answer.body, issuer, options.allowInsecureHttp);
    if ('problem' in metadata)
      throw fail(
        new DiscoveryFailure('ERR_TOKEN_DISCOVERY', `the metadata is unusable: ${metadata.problem}`, url, 200),
      );
    cached = { metadata, at: now() };
    return metadata;
  };

  const refresh = (): Promise<AuthorizationServerMetadata> => {
    flight ??= fetchMetadata().finally(() => (flight = undefined));
    return flight;
  };

  const aborted = (): TokenRequestError =>
    fail(new DiscoveryFailure('ERR_TOKEN_ABORTED', 'the handle was closed', metadataUrls(issuer)[0]));

  return {
    metadata(wait = {}) {
      if (closing.signal.aborted) return Promise.reject(aborted());
      const age = cached === undefined ? Infinity : now() - cached.at;
      if (cached !== undefined && age >= 0 && age < settings.refreshAfterMs) return Promise.resolve(cached.metadata);
      if (cached !== undefined && age >= 0 && age < settings.maxStaleMs) {
        // Stale but usable: refresh behind the callers' backs; a failure leaves the cached metadata.
        refresh().catch(() => undefined);
        return Promise.resolve(cached.metadata);
      }
      return waitWithAbort(refresh, {
        signal: wait.signal,
        timeoutMs: 0,
        onAbort: () => wait.signal?.reason as Error,
        onTimeout: aborted,
      });
    },
    close() {
      closing.abort();
    },
  };
}
