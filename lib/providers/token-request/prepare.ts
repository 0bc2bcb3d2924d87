import { isTokenflightError } from '../../shared/errors.js';
import type { TokenEndpoint } from '../endpoint.js';
import { aborted } from './attempt.js';
import type { Failure, TokenRequestContext } from './types.js';

/**
 * The endpoint one attempt sends to: the token endpoint discovered from the issuer (one metadata
 * request for all callers, cached: lib/oauth/discovery.ts) and, for JWT client authentication, a
 * new assertion (new `jti`, `iat` now) in the form. Called before every attempt, so a retry never
 * presents an assertion twice. The assertion's `aud` is the issuer when it was discovered, else the
 * token URL (lib/oauth/client-assertion.ts). The assertion is added to the endpoint's `secrets`, so
 * nothing the server says back can echo it into an error.
 */
export async function prepareEndpoint(endpoint: TokenEndpoint, context: TokenRequestContext): Promise<TokenEndpoint> {
  if (endpoint.issuer === undefined && endpoint.assertion === undefined && context.dpop === undefined) return endpoint;
  let url = endpoint.url;
  let issuer: string | undefined;
  if (endpoint.issuer !== undefined) {
    if (context.discovery === undefined) throw new Error('an endpoint with an issuer needs a discovery');
    const metadata = await context.discovery.metadata({ signal: context.signal });
    url = new URL(metadata.tokenEndpoint);
    issuer = metadata.issuer;
  }
  const proved = await withProof({ ...endpoint, url }, context);
  if (endpoint.assertion === undefined) return proved;
  const fields = await endpoint.assertion.fields({ issuer, tokenEndpoint: url.href }, context.now);
  return {
    ...proved,
    body: { ...endpoint.body, ...fields },
    secrets: [...proved.secrets, ...(fields['client_assertion'] === undefined ? [] : [fields['client_assertion']])],
  };
}

/** With DPoP, a new proof in the `DPoP` header (RFC 9449 §5), scrubbed like the credentials. */
async function withProof(endpoint: TokenEndpoint, context: TokenRequestContext): Promise<TokenEndpoint> {
  if (context.dpop === undefined) return endpoint;
  const proof = await context.dpop.tokenProof(endpoint.method, endpoint.url.href);
  return { ...endpoint, headers: { ...endpoint.headers, DPoP: proof }, secrets: [...endpoint.secrets, proof] };
}

/**
 * Why preparing an attempt failed, as a failure to report, or `undefined` to rethrow the error as it
 * is: a typed error (a discovery failure is a `TokenRequestError` already; a key WebCrypto would
 * not import is an `InvalidOptionError` naming `privateKey`). Otherwise the caller gave up (the
 * handle was closed) or WebCrypto refused to sign.
 */
export function preparationFailure(error: unknown, signal: AbortSignal): Failure | undefined {
  if (isTokenflightError(error) || error instanceof TypeError) return undefined;
  if (signal.aborted) return aborted();
  const name = error instanceof Error ? error.name : 'Error';
  return {
    code: 'ERR_TOKEN_SOURCE_FAILED',
    detail: `the client assertion or DPoP proof could not be signed (${name})`,
    retryable: false,
  };
}
