import type { HttpClient, HttpResponse } from '../core/http.js';
import { sha256Hex } from '../shared/async.js';
import type { Discovery, DiscoveryOptions } from '../oauth/discovery.js';
import type { SigningKey } from '../oauth/private-key.js';
import type { createDpopKeySource, DpopSettings } from '../oauth/dpop-key.js';
import type { NonceSlot } from '../oauth/dpop-nonce.js';
import type { DpopBinding, DpopBindingOptions } from '../core/dpop.js';
import type { TokenStore } from '../stores/store.js';
import type { TokenSource } from '../core/manager/token-source.js';
import type { Failure, Issued, TokenRequestRetry, TokenRequestSettings } from './token-request/types.js';

/** Where in a JSON response a value is, as property names from the root. */
export type JsonPath = readonly string[];

/** How to read a token endpoint's JSON answer. */
export interface ResponseShape {
  token: JsonPath;
  expiresIn: JsonPath | undefined;
  expiresInUnit: 'seconds' | 'milliseconds';
  tokenType: JsonPath | undefined;
  /** A flag that must be `true` in a successful answer (`status`, `success`). */
  success: JsonPath | undefined;
  /** Where the vendor puts its error code, in order of preference. */
  errorCode: readonly JsonPath[];
  /** Where the vendor puts a human-readable error message, in order of preference. */
  errorMessage: readonly JsonPath[];
}

/** Everything needed to make and read one token request. Internal: users build it through the provider factories. */
export interface TokenEndpoint {
  kind: string;
  url: URL;
  method: 'POST' | 'GET';
  encoding: 'json' | 'form';
  body: Readonly<Record<string, unknown>> | undefined;
  headers: Readonly<Record<string, string>>;
  /** Values scrubbed from anything the endpoint says back before it reaches a message. */
  secrets: readonly string[];
  response: ResponseShape;
  /**
   * Vendor codes that, on a 400, 401 or 403, mean the credential presented is dead for good
   * (`ERR_TOKEN_SESSION_ENDED`): `invalid_grant` for the refresh-token grant. Compared exactly.
   */
  endsSession?: readonly string[] | undefined;
  /** Where a rotated refresh token is in the answer (the refresh-token grant only). */
  refreshToken?: JsonPath | undefined;
  /** Lifetime to assume when the answer carries no expiry and the token is not a JWT with `exp`. */
  defaultLifetimeMs: number | undefined;
  /**
   * The issuer whose metadata names the token endpoint (RFC 8414), when it is discovered; `url` is
   * then the issuer's URL, and each attempt sends to the discovered `token_endpoint`.
   */
  issuer?: string | undefined;
  /**
   * Makes the discovery of `issuer` (lib/oauth/discovery.ts), given by the OAuth grants, so that
   * only they bundle it.
   */
  discover?: ((options: DiscoveryOptions) => Discovery) | undefined;
  /** JWT client authentication (RFC 7523 §2.2): each attempt adds a new assertion signed with `key`. */
  assertion?: ClientAssertionStep | undefined;
  /** DPoP (RFC 9449), given by the OAuth grants: every token request carries a proof. */
  dpop?: EndpointDpop | undefined;
}

/** The `dpop` option of an OAuth grant, read when its factory ran. */
export interface EndpointDpop {
  readonly settings: DpopSettings;
  /** The factory's name, for errors. */
  readonly context: string;
  /** The key made once per provider (shared by every handle it is attached to, unless the store keeps one). */
  readonly shared: ReturnType<typeof createDpopKeySource>;
  /** The provider's stable identity for a store's `keyPair(id, create)`: token endpoint and client ID, hashed. */
  readonly id: Promise<string>;
  /**
   * Makes the provider's binding on one handle (`createDpopBinding`) and its cache key
   * (`boundKey`): given here by the OAuth grants, so only they bundle the DPoP code.
   */
  readonly bind: (options: DpopBindingOptions) => DpopBinding;
  readonly boundKey: (base: Promise<string>, dpop: DpopBinding) => () => Promise<string>;
  /** What a token endpoint's answer means under DPoP (`dpopOutcome`): given here for the same reason. */
  readonly outcome: (outcome: Issued | Failure, response: HttpResponse, dpop: DpopBinding) => Issued | Failure;
}

/** How an endpoint that authenticates with JWT assertions signs one, given by the OAuth grants. */
export interface ClientAssertionStep {
  /** The signing key, for its identity in the cache key. */
  readonly key: SigningKey;
  /**
   * The form fields of a new assertion (`client_id`, `client_assertion_type`, `client_assertion`)
   * for a token endpoint, with the issuer when it was discovered.
   */
  fields(
    server: { issuer: string | undefined; tokenEndpoint: string },
    now: () => number,
  ): Promise<Record<string, string>>;
}

/**
 * @internal The key under which a built-in provider keeps a function that returns its endpoint
 * description (a function, so that no inspection of the provider reaches the secrets in it).
 */
export const kEndpoint = Symbol.for('tokenflight.endpoint');
/** @internal The key under which every provider keeps its {@link SourceSpec}. */
export const kSource = Symbol.for('tokenflight.source');
/** @internal The key under which a provider keeps its `allowInsecureHttp` option, for origins decided by a boundary. */
export const kInsecureHttp = Symbol.for('tokenflight.allowInsecureHttp');

/**
 * Where a provider's `origins` came from:
 *
 * - `'option'`: its `origins` option;
 * - `'endpoint'`: the origin of its base URL or token URL (a vendor whose token endpoint and API
 *   share one origin);
 * - `'instance'`: an OAuth grant ({@link clientCredentials}, {@link refreshTokenGrant}) given no
 *   `origins`. Its token endpoint is an authorization server, rarely the API, so the boundary
 *   decides: `attachTokenAuth` serves the origin of the axios instance's `baseURL` when it has one
 *   (the token endpoint's origin, `origins`, otherwise); a boundary without a base URL refuses it.
 */
export type OriginsSource = 'option' | 'endpoint' | 'instance';

/** @internal What a provider's token source is made with, once per `attachTokenAuth`. */
export interface SourceContext {
  /** What token requests go through: the boundary's HttpClient (never the intercepted instance or the wrapped fetch). */
  http: HttpClient;
  settings: TokenRequestSettings;
  now: () => number;
  random: () => number;
  onRetry: (retry: TokenRequestRetry) => void;
  /** The handle's store: a DPoP key pair is kept there when it has `keyPair`. */
  store: Pick<TokenStore, 'keyPair'>;
  /** The handle's DPoP nonces, per origin, shared with its API requests (made when first needed). */
  nonces: NonceSlot;
}

/** @internal How a provider makes its token source. */
export interface SourceSpec {
  /** True when its credential rotates (a refresh token used once): it needs a store with a lock. */
  readonly rotating: boolean;
  create(context: SourceContext): TokenSource;
}

/**
 * A token source made by {@link symbl}, {@link marsview}, {@link singleView},
 * {@link clientCredentials}, {@link jsonProvider}, {@link customProvider} or
 * {@link refreshTokenGrant}, to pass to `attachTokenAuth`.
 * It holds the credentials; printing or serialising it shows only its name, origins and token URL.
 */
export interface TokenProvider {
  /** The name used by `auth.token(name)`, `auth.invalidate(name)` and `tokenAuth: { provider }`. */
  readonly name: string;
  /**
   * The origins this provider's tokens may be sent to. For an OAuth grant given no `origins`
   * (`originsFrom: 'instance'`), the origin of its token URL, which `attachTokenAuth` replaces with
   * that of the instance's `baseURL` when the instance has one; none for one given `issuer` (the
   * issuer's origin is never served), which needs that `baseURL`.
   */
  readonly origins: readonly string[];
  /** Whether `origins` was given, or which default it is: see {@link OriginsSource}. */
  readonly originsFrom: OriginsSource;
  /**
   * The token endpoint, without query string; the issuer for an OAuth grant whose token endpoint is
   * discovered from its `issuer`; `custom:<name>` for a {@link customProvider}.
   */
  readonly tokenUrl: string;
  /** @internal */
  readonly [kSource]: SourceSpec;
  /** @internal */
  readonly [kInsecureHttp]: boolean;
}

export function readPath(value: unknown, path: JsonPath): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, segment)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * The cache and single-flight key of an endpoint: a SHA-256 of everything that changes which token
 * it issues (kind, URL, method, body, headers), so two tenants of one provider never share a token
 * and a rotated secret never reuses a token minted with the old one. Credentials never appear in it.
 */
export async function endpointKey(endpoint: TokenEndpoint): Promise<string> {
  const parts: unknown[] = [
    'tokenflight/v1',
    endpoint.kind,
    endpoint.url.href,
    endpoint.method,
    endpoint.encoding,
    endpoint.body ?? null,
    endpoint.headers,
  ];
  // Appended only when present, so the keys of endpoints without them stay as they were (a shared
  // store keeps its entries across an upgrade). A key is named by its identity, a one-way hash.
  if (endpoint.issuer !== undefined) parts.push({ issuer: endpoint.issuer });
  if (endpoint.assertion !== undefined) parts.push({ assertionKey: await endpoint.assertion.key.identity() });
  return sha256Hex(JSON.stringify(canonical(parts)));
}
