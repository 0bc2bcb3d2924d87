/**
 * Per-request options, under the `tokenAuth` key of an axios request config (`tokenAuth: false`
 * sends the request without a token).
 *
 * @example
 * ```ts
 * await api.get('/health', { tokenAuth: false });
 * await api.get('/v1/reports', { tokenAuth: { provider: 'symbl-eu' } });
 * await api.post('/upload', createReadStream(file), { tokenAuth: { replayBody: () => createReadStream(file) } });
 * ```
 */
export interface TokenAuthRequestOptions {
  /**
   * Use this provider's token, when several providers serve the request's origin. The request
   * is refused if that provider does not list the origin.
   */
  provider?: string;
  /**
   * Makes a fresh body for the replay after a 401, for bodies that cannot be sent twice
   * (streams). Without it, such a request fails with `ERR_BODY_NOT_REPLAYABLE` instead.
   */
  replayBody?: () => unknown;
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** tokenflight: `false` sends this request without a token; an object picks a provider or a replay body. */
    tokenAuth?: false | TokenAuthRequestOptions;
  }
}
