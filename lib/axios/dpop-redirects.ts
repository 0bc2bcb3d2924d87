import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

/**
 * What following a DPoP request's redirects is handed (by lib/axios/dpop-send.ts): this module is
 * loaded with `import()` when a DPoP request first meets a redirect, and imports nothing of
 * tokenflight's, so that it is a chunk of its own that no other application loads.
 */
export interface Following<Answer extends { readonly response: AxiosResponse; readonly error?: AxiosError }> {
  /** The request as the caller's config gave it (for errors). */
  readonly config: InternalAxiosRequestConfig;
  /** The request's `maxRedirects` (21 when unset). */
  readonly limit: number;
  /** One hop with a new proof (and its nonce re-send). */
  readonly sendHop: (hop: InternalAxiosRequestConfig) => Promise<Answer>;
  /** The first hop to another origin, without token or proof: the transport follows the rest. */
  readonly leave: (hop: InternalAxiosRequestConfig) => Promise<AxiosResponse>;
  /** The body of a 307/308 hop: the same, or `replayBody`'s for a stream (else `ERR_BODY_NOT_REPLAYABLE`). */
  readonly bodyAgain: (hop: InternalAxiosRequestConfig, status: number) => unknown;
  readonly urlOf: (hop: InternalAxiosRequestConfig) => string;
}

/**
 * Follows the redirects of a DPoP request that the transport was told not to follow
 * (`maxRedirects: 0`): each same-origin hop goes with the token and a new proof for that hop
 * (RFC 9449 §4.3), signed after the previous answer, so with its `DPoP-Nonce` if it had one; the
 * first hop to another origin goes without either (rule 1). Methods and bodies change as
 * follow-redirects changes them: 301 and 302 after a POST, and 303 after anything but GET and
 * HEAD, become a GET without a body or its `Content-*` headers; 307 and 308 keep both. Past
 * `limit` redirects, `ERR_FR_TOO_MANY_REDIRECTS`, as follow-redirects rejects.
 */
export async function followRedirects<Answer extends { readonly response: AxiosResponse; readonly error?: AxiosError }>(
  following: Following<Answer>,
  first: InternalAxiosRequestConfig,
  answered: Answer,
): Promise<AxiosResponse> {
  const { config, limit } = following;
  let hop = first;
  let answer = answered;
  for (let redirects = 0; ; redirects++) {
    const { response } = answer;
    const location = AxiosHeaders.from(response.headers as AxiosHeaders).get('location');
    // REDIRECT_STATUSES (lib/shared/headers.ts), written out: this chunk imports nothing of tokenflight's.
    if (![301, 302, 303, 307, 308].includes(response.status) || typeof location !== 'string') {
      if (answer.error !== undefined) throw answer.error;
      return response;
    }
    if (redirects >= limit) {
      const { request } = response as { request?: unknown };
      throw new AxiosError('Maximum number of redirects exceeded', 'ERR_FR_TOO_MANY_REDIRECTS', config, request);
    }
    const from = following.urlOf(hop);
    const url = new URL(location, from);
    const method = String(hop.method ?? 'get').toUpperCase();
    const headers = new AxiosHeaders(hop.headers);
    // The Location is the whole URL: no baseURL in front of it, no params after it.
    const next: InternalAxiosRequestConfig = { ...hop, url: url.href, headers };
    delete next.baseURL;
    delete next.params;
    const status = response.status;
    if (((status === 301 || status === 302) && method === 'POST') || (status === 303 && !/^(GET|HEAD)$/.test(method))) {
      next.method = 'get';
      next.data = undefined;
      for (const key of Object.keys(headers)) if (/^content-/i.test(key)) Reflect.deleteProperty(headers, key);
    } else next.data = following.bodyAgain(hop, status);
    if (url.origin !== new URL(from).origin) {
      // Rule 1: the token and its proof stay behind.
      for (const key of Object.keys(headers))
        if (/^(authorization|dpop)$/i.test(key)) Reflect.deleteProperty(headers, key);
      return following.leave({ ...next, maxRedirects: limit - redirects - 1 });
    }
    hop = next;
    answer = await following.sendHop(hop);
  }
}
