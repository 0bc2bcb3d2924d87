import { computeExpiresAt } from '../../core/manager/expiry.js';
import { BEARER_TOKEN, TOKEN_TYPE, tooLong } from '../../shared/token-check.js';
import { isRefreshToken } from '../../shared/validate.js';
import { readPath, type TokenEndpoint } from '../endpoint.js';
import type { Failure, Issued, ResponseMeta } from './types.js';
import { firstCode, firstText } from './vendor-text.js';

const where = (path: readonly string[]): string => `\`${path.join('.')}\``;

function malformed(detail: string, status: number): Failure {
  return { code: 'ERR_TOKEN_MALFORMED', detail, retryable: false, status };
}

/** Some servers answer 200 to a refusal: an explicit failure flag or an OAuth `error` wins over any token. */
function readRefusal(endpoint: TokenEndpoint, json: Record<string, unknown>, status: number): Failure | undefined {
  const shape = endpoint.response;
  const flag = shape.success === undefined ? undefined : readPath(json, shape.success);
  const refused =
    (shape.success !== undefined && flag !== true) ||
    json['success'] === false ||
    json['status'] === false ||
    (typeof json['error'] === 'string' && json['error'] !== '');
  if (!refused) return undefined;
  const code = firstCode(json, shape.errorCode, endpoint.secrets);
  const providerCode = code.reported;
  const message = firstText(json, shape.errorMessage, endpoint.secrets);
  const said = [code.said, message].filter(Boolean).join(' ');
  return {
    code: 'ERR_TOKEN_CREDENTIALS',
    detail: `the token endpoint answered HTTP ${status} but reported a failure${said === '' ? '' : `: ${said}`}`,
    retryable: false,
    status,
    providerCode,
  };
}

function readAccessToken(path: readonly string[], json: Record<string, unknown>, status: number): string | Failure {
  const accessToken = readPath(json, path);
  if (typeof accessToken !== 'string' || accessToken === '') {
    const got =
      accessToken === undefined
        ? 'it is missing'
        : accessToken === ''
          ? 'it is empty'
          : `it is ${typeof accessToken === 'object' ? (accessToken === null ? 'null' : 'an object') : `a ${typeof accessToken}`}`;
    return malformed(`the token response has no token at ${where(path)} (${got})`, status);
  }
  const length = tooLong(accessToken);
  if (length !== undefined) {
    return { code: 'ERR_TOKEN_TOO_LARGE', detail: `the token at ${where(path)} ${length}`, retryable: false, status };
  }
  if (!BEARER_TOKEN.test(accessToken)) {
    return malformed(`the token at ${where(path)} has characters a bearer token cannot have`, status);
  }
  return accessToken;
}

function readTokenType(
  path: readonly string[] | undefined,
  json: Record<string, unknown>,
  status: number,
): string | Failure {
  if (path === undefined) return 'Bearer';
  const type = readPath(json, path);
  if (type === undefined || type === null || type === '') return 'Bearer';
  if (typeof type !== 'string' || !TOKEN_TYPE.test(type)) {
    return malformed(`the token type at ${where(path)} is not a valid scheme name`, status);
  }
  return type.toLowerCase() === 'bearer' ? 'Bearer' : type;
}

/** The lifetime in ms when the response gives a positive one; 0 and absent mean "unknown". */
function readExpiresIn(
  endpoint: TokenEndpoint,
  json: Record<string, unknown>,
  status: number,
): number | undefined | Failure {
  const shape = endpoint.response;
  if (shape.expiresIn === undefined) return undefined;
  const raw = readPath(json, shape.expiresIn);
  const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    return value > 0 ? value * (shape.expiresInUnit === 'seconds' ? 1000 : 1) : undefined;
  }
  if (value === undefined || value === null) return undefined;
  return malformed(`the lifetime at ${where(shape.expiresIn)} is not a non-negative number`, status);
}

/** The readers return a string, a number, undefined, or a failure: the only object. */
const isFailure = (value: string | number | undefined | Failure): value is Failure => typeof value === 'object';

/** A rotated refresh token, if the endpoint declares where it is and the answer has one. */
function readRefreshToken(
  path: readonly string[] | undefined,
  json: Record<string, unknown>,
  status: number,
): string | undefined | Failure {
  if (path === undefined) return undefined;
  const value = readPath(json, path);
  if (value === undefined || value === null) return undefined;
  const length = typeof value === 'string' ? tooLong(value) : undefined;
  if (length !== undefined) {
    return {
      code: 'ERR_TOKEN_TOO_LARGE',
      detail: `the refresh token at ${where(path)} ${length}`,
      retryable: false,
      status,
    };
  }
  if (!isRefreshToken(value)) {
    return malformed(`the refresh token at ${where(path)} is not a non-empty string of visible characters`, status);
  }
  return value;
}

/** The token in a successful answer's JSON body, or why there is none. */
export function readToken(
  endpoint: TokenEndpoint,
  json: Record<string, unknown>,
  meta: ResponseMeta,
): Issued | Failure {
  const { status } = meta;
  // Read first: a rotated refresh token is kept whatever else is wrong with the answer.
  const refreshToken = readRefreshToken(endpoint.refreshToken, json, status);
  if (isFailure(refreshToken)) return refreshToken;
  const keeping = (failure: Failure): Failure => (refreshToken === undefined ? failure : { ...failure, refreshToken });
  const refusal = readRefusal(endpoint, json, status);
  if (refusal !== undefined) return keeping(refusal);
  const accessToken = readAccessToken(endpoint.response.token, json, status);
  if (isFailure(accessToken)) return keeping(accessToken);
  const tokenType = readTokenType(endpoint.response.tokenType, json, status);
  if (isFailure(tokenType)) return keeping(tokenType);
  const expiresInMs = readExpiresIn(endpoint, json, status);
  if (isFailure(expiresInMs)) return keeping(expiresInMs);

  const serverDateMs = meta.serverDate === undefined ? NaN : Date.parse(meta.serverDate);
  const expiresAt = computeExpiresAt({
    expiresInMs,
    accessToken,
    sentAt: meta.sentAt,
    receivedAt: meta.receivedAt,
    serverDateMs: Number.isNaN(serverDateMs) ? undefined : serverDateMs,
    defaultLifetimeMs: endpoint.defaultLifetimeMs,
  });
  if (expiresAt !== null && expiresAt <= meta.receivedAt) {
    // A vendor may hand back its cached token with the lifetime it has left (Symbl documents it):
    // asked again a moment later, it issues a new one.
    return keeping({
      code: 'ERR_TOKEN_EXPIRED',
      detail: `the token endpoint answered with a token that had expired ${meta.receivedAt - expiresAt} ms before the answer arrived`,
      retryable: true,
      status,
    });
  }
  return { token: { accessToken, tokenType, expiresAt, obtainedAt: meta.sentAt }, refreshToken };
}
