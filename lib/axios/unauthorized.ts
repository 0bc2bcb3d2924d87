import { AxiosHeaders, type AxiosResponse, type AxiosResponseHeaders, type InternalAxiosRequestConfig } from 'axios';
import { challengeAllowsRefresh, type RejectionPolicy } from '../core/challenge.js';
import { headerText } from '../shared/headers.js';

export { challengeAllowsRefresh, type RejectionPolicy } from '../core/challenge.js';
export { isReplayable } from '../core/replay.js';

/**
 * Rule 5: does this response mean the API rejected the token the request carried? Only for one of
 * `unauthorizedStatuses`, only when it came from the origin the token was sent to (after a
 * redirect to another origin, a 401 is that origin's business), and only when the challenge says
 * so: no `WWW-Authenticate`, or a Bearer challenge without an error or with `invalid_token`.
 */
export function isTokenRejection(
  response: AxiosResponse,
  sentTo: string | undefined,
  provider: string,
  policy: RejectionPolicy,
): boolean {
  if (!policy.unauthorizedStatuses.has(response.status)) return false;
  const answeredBy = finalOrigin(response);
  if (answeredBy !== undefined && answeredBy !== sentTo) return false;
  const challenge = headerText(response.headers, 'www-authenticate');
  if (policy.isTokenRejected === undefined) return challengeAllowsRefresh(challenge);
  const data = transformedData(response);
  return policy.isTokenRejected({ provider, status: response.status, challenge, data });
}

/** The origin that finally answered, when the transport followed redirects and says so. */
function finalOrigin(response: AxiosResponse): string | undefined {
  const request = response.request as { res?: { responseUrl?: unknown }; responseURL?: unknown } | undefined;
  const url = request?.res?.responseUrl ?? request?.responseURL;
  return typeof url === 'string' && URL.canParse(url) ? new URL(url).origin : undefined;
}

/**
 * The body as the caller would see it: the transport hands tokenflight the raw body, and axios
 * runs `transformResponse` (JSON parsing) only after. Run on a copy, never on the response, so
 * axios transforms the original once as usual; a transform that throws leaves the raw body.
 */
function transformedData(response: AxiosResponse): unknown {
  const config = response.config as InternalAxiosRequestConfig | undefined;
  if (config === undefined) return response.data;
  const chain = config.transformResponse;
  const transforms = Array.isArray(chain) ? chain : chain === undefined ? [] : [chain];
  let data: unknown = response.data;
  try {
    const headers = AxiosHeaders.from(response.headers as AxiosResponseHeaders);
    for (const transform of transforms) data = transform.call(config, data, headers, response.status);
  } catch {
    return response.data;
  }
  return data;
}
