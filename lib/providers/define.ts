import { invalidOption } from '../shared/errors.js';
import { displayUrl, expectHttpUrl, expectOrigin } from '../shared/url.js';
import { describe, expectBoolean, expectKnownKeys, expectOptions, expectString } from '../shared/validate.js';
import {
  endpointKey,
  kEndpoint,
  kInsecureHttp,
  kSource,
  type OriginsSource,
  type ResponseShape,
  type SourceContext,
  type SourceSpec,
  type TokenEndpoint,
  type TokenProvider,
} from './endpoint.js';
import { requestToken } from './token-request/index.js';
import type { Discovery } from '../oauth/discovery.js';
import type { DpopBinding } from '../core/dpop.js';
import type { TokenSource } from '../core/manager/token-source.js';

/** Options every provider factory takes. */
export interface ProviderOptions {
  /**
   * The provider's name, to pick it in `auth.token(name)` and `tokenAuth: { provider }`; needed
   * only to tell apart two providers of one kind on one instance.
   */
  name?: string;
  /**
   * The origins its tokens may be sent to, such as `['https://api.example.com']`. A request gets
   * the token only if its final URL has one of these origins.
   * @default the origin of the provider's base URL or token URL; for the OAuth grants
   * (`clientCredentials`, `refreshTokenGrant`) attached to an axios instance that has a `baseURL`,
   * the origin of that `baseURL`
   */
  origins?: readonly string[];
  /**
   * Allow plain `http:` URLs to hosts other than this machine. Tokens and secrets then travel
   * unencrypted: for test rigs only.
   * @default false
   */
  allowInsecureHttp?: boolean;
}

export const PROVIDER_OPTION_KEYS = ['name', 'origins', 'allowInsecureHttp'] as const;

export interface ProviderInput {
  context: string;
  options: Record<string, unknown>;
  defaultName: string;
  /** An OAuth grant: without `origins`, the boundary decides where its tokens go ({@link OriginsSource}). */
  originsFromInstance?: boolean;
  endpoint: Omit<TokenEndpoint, 'url' | 'response'> & {
    url: URL;
    response: Partial<ResponseShape> & Pick<ResponseShape, 'token'>;
  };
}

/** Reads a factory's options object and checks its keys; `keys` are the factory's own options. */
export function readOptions(value: unknown, context: string, keys: readonly string[]): Record<string, unknown> {
  const options = expectOptions(value, context);
  expectKnownKeys(options, [...keys, ...PROVIDER_OPTION_KEYS], context);
  return options;
}

export function insecureAllowed(options: Record<string, unknown>, context: string): boolean {
  return expectBoolean(options['allowInsecureHttp'], 'allowInsecureHttp', context) ?? false;
}

/** Resolves a vendor's path against a base URL option (default or given). */
export function endpointUrl(
  options: Record<string, unknown>,
  context: string,
  base: { key: string; fallback?: string },
  path: string,
): URL {
  const given = options[base.key];
  const baseUrl = expectHttpUrl(
    given === undefined ? base.fallback : given,
    base.key,
    context,
    insecureAllowed(options, context),
  );
  // The vendor's path goes after the base URL's path; a query or fragment would swallow it (or be
  // sent to the token endpoint unasked), so a base URL has neither: refused, never quoted.
  if (baseUrl.search !== '' || baseUrl.hash !== '') {
    throw invalidOption(
      `${context}: expected \`${base.key}\` to have no query string or fragment (${baseUrl.search === '' ? 'a fragment' : 'a query string'} given): the token path ${JSON.stringify(path)} is appended to its path`,
    );
  }
  const prefix = `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;
  return new URL(`${prefix}${path}`);
}

/** A provider's name, origins, where its origins came from and whether plain http is allowed. */
export interface ProviderIdentity {
  name: string;
  origins: readonly string[];
  originsFrom: OriginsSource;
  allowInsecureHttp: boolean;
}

/**
 * A provider's `name` and `origins` options, checked; `defaults.origin` is used when `origins` is
 * not given (marked `'instance'` for an OAuth grant, `defaults.fromInstance`, else `'endpoint'`).
 */
export function readIdentity(
  options: Record<string, unknown>,
  context: string,
  defaults: { name: string; origin: string | undefined; fromInstance?: boolean | undefined },
): ProviderIdentity {
  const allowInsecureHttp = insecureAllowed(options, context);
  const name = options['name'] === undefined ? defaults.name : expectString(options['name'], 'name', context);
  if (/\s/.test(name))
    throw invalidOption(`${context}: expected \`name\` to have no spaces, got ${JSON.stringify(name)}`);
  const givenOrigins = options['origins'];
  if (givenOrigins === undefined && defaults.origin !== undefined) {
    const originsFrom = defaults.fromInstance === true ? 'instance' : 'endpoint';
    return { name, origins: [defaults.origin], originsFrom, allowInsecureHttp };
  }
  // An OAuth grant with a discovered token endpoint: only the boundary's base URL can name its
  // origins (never the issuer's origin: it is where tokens are requested, not where they go).
  if (givenOrigins === undefined && defaults.fromInstance === true) {
    return { name, origins: [], originsFrom: 'instance', allowInsecureHttp };
  }
  if (!Array.isArray(givenOrigins) || givenOrigins.length === 0) {
    throw invalidOption(
      `${context}: expected \`origins\` to be a non-empty array of origins, got ${describe(givenOrigins)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const origins = givenOrigins.map((origin: unknown, index) =>
    expectOrigin(origin, `origins[${index}]`, context, allowInsecureHttp),
  );
  return { name, origins: [...new Set(origins)], originsFrom: 'option', allowInsecureHttp };
}

/**
 * The frozen provider object; what makes its tokens sits behind non-enumerable symbols. The
 * endpoint (its secret headers and body) is held in a closure, reached only by calling
 * `provider[kEndpoint]()`: printing, serialising, cloning or listing the provider's property
 * descriptors shows a function, never a credential (rule 7).
 */
export function freezeProvider(
  identity: ProviderIdentity & { tokenUrl: string },
  spec: SourceSpec,
  endpoint?: TokenEndpoint,
): TokenProvider {
  const provider = {
    name: identity.name,
    origins: Object.freeze([...identity.origins]),
    originsFrom: identity.originsFrom,
    tokenUrl: identity.tokenUrl,
  };
  Object.defineProperty(provider, kSource, { value: spec, enumerable: false });
  Object.defineProperty(provider, kInsecureHttp, { value: identity.allowInsecureHttp, enumerable: false });
  if (endpoint !== undefined) {
    Object.defineProperty(provider, kEndpoint, { value: () => endpoint, enumerable: false });
  }
  return Object.freeze(provider) as TokenProvider;
}

/** A response shape with every field the vendor did not declare filled in. */
export function fullShape(response: Partial<ResponseShape> & Pick<ResponseShape, 'token'>): ResponseShape {
  return {
    expiresIn: undefined,
    expiresInUnit: 'seconds',
    tokenType: undefined,
    success: undefined,
    errorCode: [],
    errorMessage: [],
    ...response,
  };
}

/** Builds a provider whose token comes from one request to a fixed endpoint. */
export function defineProvider(input: ProviderInput): TokenProvider {
  const { context, options } = input;
  const url = input.endpoint.url;
  const { issuer } = input.endpoint;
  if (issuer === undefined) expectHttpUrl(url.href, 'tokenUrl', context, insecureAllowed(options, context));
  const identity = readIdentity(options, context, {
    name: input.defaultName,
    origin: issuer === undefined ? url.origin : undefined,
    fromInstance: input.originsFromInstance === true,
  });
  const endpoint: TokenEndpoint = { ...input.endpoint, response: fullShape(input.endpoint.response) };
  const spec: SourceSpec = {
    rotating: false,
    create: (context) => {
      const discovery = discoveryOf(endpoint, identity, context);
      const dpop = dpopOf(endpoint, context, discovery);
      const fetch = (signal: AbortSignal): ReturnType<TokenSource['fetch']> =>
        requestToken(identity.name, endpoint, { ...context, signal, discovery, dpop });
      const base = endpointKey(endpoint);
      if (dpop === undefined) return { name: identity.name, key: base, fetch };
      const key = endpoint.dpop?.boundKey(base, dpop) ?? (() => base);
      return {
        name: identity.name,
        get key() {
          return key();
        },
        fetch,
        dpop,
      };
    },
  };
  return freezeProvider({ ...identity, tokenUrl: displayUrl(url) }, spec, endpoint);
}

/** The discovery of a provider's token endpoint from its issuer, one per boundary; none without an issuer. */
export function discoveryOf(
  endpoint: TokenEndpoint,
  identity: ProviderIdentity,
  context: SourceContext,
): Discovery | undefined {
  const { issuer, discover } = endpoint;
  if (issuer === undefined || discover === undefined) return undefined;
  return discover({
    issuer,
    provider: identity.name,
    http: context.http,
    now: context.now,
    allowInsecureHttp: identity.allowInsecureHttp,
  });
}

/**
 * The DPoP binding of a provider on one boundary (key, proofs, the boundary's nonces); none without
 * `dpop`. With discovery, the proof's algorithm may come from the server's
 * `dpop_signing_alg_values_supported`.
 */
export function dpopOf(
  endpoint: TokenEndpoint,
  context: SourceContext,
  discovery: Discovery | undefined,
): DpopBinding | undefined {
  const { dpop } = endpoint;
  if (dpop === undefined) return undefined;
  return dpop.bind({
    ...dpop,
    store: context.store,
    nonces: context.nonces,
    now: context.now,
    serverAlgs: async () => (discovery === undefined ? undefined : (await discovery.metadata()).dpopSigningAlgValues),
  });
}

export const path = (dotted: string): readonly string[] => dotted.split('.');
