import { invalidOption } from '../shared/errors.js';
import { expectHttpUrl, isLoopbackHost } from '../shared/url.js';

/**
 * Where an authorization server's metadata is found from its issuer (RFC 8414 §3.1, OpenID
 * Connect Discovery §4), and what tokenflight takes from it.
 */

/**
 * Reads the `issuer` option: an absolute https URL (plain http only to a loopback host, or with
 * `allowInsecureHttp`, as every URL option) without query or fragment (RFC 8414 §2).
 */
export function readIssuer(value: unknown, context: string, allowInsecureHttp: boolean): string {
  const url = expectHttpUrl(value, 'issuer', context, allowInsecureHttp);
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value as string)) {
    throw invalidOption(`${context}: expected \`issuer\` to be a URL without query or fragment (RFC 8414 §2)`);
  }
  return value as string;
}

/**
 * The two metadata URLs of an issuer, in the order they are tried: RFC 8414's, with
 * `/.well-known/oauth-authorization-server` inserted between the host and the issuer's path (a
 * final `/` of the path dropped), then OpenID's, `/.well-known/openid-configuration` appended to
 * the issuer.
 *
 * @example
 * ```ts
 * metadataUrls('https://as.example.com/tenant');
 * // ['https://as.example.com/.well-known/oauth-authorization-server/tenant',
 * //  'https://as.example.com/tenant/.well-known/openid-configuration']
 * ```
 */
export function metadataUrls(issuer: string): [string, string] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * What tokenflight uses of an authorization server's metadata. It names the server's `issuer`
 * (the audience of client assertions) but offers no origin: the issuer's origin is where tokens
 * are requested, never where they are sent, so nothing here may widen a provider's `origins`.
 */
export interface AuthorizationServerMetadata {
  /** Equal to the configured issuer, character for character. */
  readonly issuer: string;
  /** Where token requests go: https, or http to a loopback host. */
  readonly tokenEndpoint: string;
  /** `dpop_signing_alg_values_supported` (RFC 9449 §5.1), when listed. */
  readonly dpopSigningAlgValues: readonly string[] | undefined;
  /** `token_endpoint_auth_methods_supported`, when listed. */
  readonly tokenEndpointAuthMethods: readonly string[] | undefined;
  /** `token_endpoint_auth_signing_alg_values_supported`, when listed. */
  readonly tokenEndpointAuthSigningAlgValues: readonly string[] | undefined;
}

function stringList(json: Record<string, unknown>, name: string): readonly string[] | undefined | { problem: string } {
  const value = json[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    return { problem: `its \`${name}\` is not a list of strings` };
  }
  return Object.freeze([...value]);
}

function tokenEndpoint(value: unknown, allowInsecureHttp: boolean): string | { problem: string } {
  if (typeof value !== 'string' || !URL.canParse(value)) return { problem: 'it has no `token_endpoint` URL' };
  const url = new URL(value);
  const secure =
    url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname)));
  if (!secure) return { problem: 'its `token_endpoint` is not https' };
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    return { problem: 'its `token_endpoint` carries user info or a fragment' };
  }
  return value;
}

/**
 * The metadata in `body`, checked (RFC 8414 §3.2, §3.3): a JSON object whose `issuer` is exactly
 * `issuer` and whose `token_endpoint` is https (or loopback http); the lists tokenflight reads, when
 * present, lists of strings. Else why not, in words for an error message.
 */
export function parseMetadata(
  body: string,
  issuer: string,
  allowInsecureHttp: boolean,
): AuthorizationServerMetadata | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { problem: 'it is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { problem: 'it is not a JSON object' };
  const fields = json as Record<string, unknown>;
  if (fields['issuer'] !== issuer) return { problem: 'its `issuer` is not the configured issuer (RFC 8414 §3.3)' };
  const endpoint = tokenEndpoint(fields['token_endpoint'], allowInsecureHttp);
  if (typeof endpoint !== 'string') return endpoint;
  const dpop = stringList(fields, 'dpop_signing_alg_values_supported');
  const methods = stringList(fields, 'token_endpoint_auth_methods_supported');
  const algs = stringList(fields, 'token_endpoint_auth_signing_alg_values_supported');
  for (const list of [dpop, methods, algs]) if (list !== undefined && 'problem' in list) return list;
  return Object.freeze({
    issuer,
    tokenEndpoint: endpoint,
    dpopSigningAlgValues: dpop as readonly string[] | undefined,
    tokenEndpointAuthMethods: methods as readonly string[] | undefined,
    tokenEndpointAuthSigningAlgValues: algs as readonly string[] | undefined,
  });
}
