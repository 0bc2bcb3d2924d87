import axios, {
  type AxiosError,
  AxiosHeaders,
  isAxiosError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import type { DpopBinding, SentTokenFacts } from '../core/dpop.js';
import { inBrowser } from '../shared/environment.js';
import { TokenflightError } from '../shared/errors.js';
import { headerText, REDIRECT_STATUSES, writeHeader } from '../shared/headers.js';
import { isReplayable } from './unauthorized.js';

/** What one request at the axios boundary shares across its sends, as DPoP needs it. */
export interface ProvingExchange {
  readonly adapter: AxiosAdapter;
  readonly runtime: { readonly dpop?: DpopBinding | undefined };
  /** DPoP nonce re-sends so far: at most one per request. */
  nonceResends: number;
}

/** What a send's proof and body rules need of the token it carries (`SentToken`). */
export interface ProvingSend {
  readonly provider: string;
  readonly replayBody?: () => unknown;
}

/** follow-redirects' limit when `maxRedirects` is not set. */
const DEFAULT_MAX_REDIRECTS = 21;

/**
 * One send of a DPoP-bound token through the adapter (RFC 9449 §4.3: each request carries a proof
 * of its own method and URL). axios's transports follow redirects below the adapter, and
 * follow-redirects' `beforeRedirect` is synchronous while a proof's signature is not, so a
 * same-origin redirect would carry the first URL's proof. Outside browsers, tokenflight follows
 * redirects itself here (the transport gets `maxRedirects: 0`): each same-origin hop goes with the
 * token and a new proof for that hop, with the origin's latest nonce; the first hop to another
 * origin goes without either, and the transport follows the rest. Methods and bodies change as
 * follow-redirects changes them. In browsers, XMLHttpRequest and fetch follow out of sight.
 */
export async function sendWithProofs(
  exchange: ProvingExchange,
  config: InternalAxiosRequestConfig,
  token: SentTokenFacts,
  sent: ProvingSend,
): Promise<AxiosResponse> {
  const proof = await exchange.runtime.dpop?.proofForSend(token, String(config.method ?? 'get'), requestUrl(config));
  // A token the server issued as Bearer goes as one, without proofs, and the transport follows redirects.
  if (proof === undefined) return exchange.adapter(config);
  const limit = inBrowser() ? 0 : (config.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
  const first = limit === 0 ? config : { ...config, maxRedirects: 0 };
  const answer = await sendHop(exchange, first, token, sent, proof);
  const { status, headers } = answer.response;
  if (limit === 0 || !REDIRECT_STATUSES.has(status) || headerText(headers, 'location') === undefined) {
    if (answer.error !== undefined) throw answer.error;
    return answer.response;
  }
  const { followRedirects } = await import('./dpop-redirects.js');
  return followRedirects(
    {
      config,
      limit,
      sendHop: (hop) => sendHop(exchange, hop, token, sent, undefined),
      leave: exchange.adapter,
      bodyAgain: (hop, status) => {
        if (isReplayable(hop.data)) return hop.data as unknown;
        if (sent.replayBody === undefined) throw streamBody(sent, `redirected (HTTP ${status})`, hop);
        return sent.replayBody();
      },
      urlOf: requestUrl,
    },
    first,
    answer,
  );
}

/** An answer, and what axios rejected it with when `validateStatus` refused its status. */
interface Answer {
  readonly response: AxiosResponse;
  readonly error?: AxiosError;
}

/** One hop with a new proof; a nonce challenge sends it once more at once, with a new proof and the nonce. */
async function sendHop(
  exchange: ProvingExchange,
  config: InternalAxiosRequestConfig,
  token: SentTokenFacts,
  sent: ProvingSend,
  made: string | undefined,
): Promise<Answer> {
  const url = requestUrl(config);
  const proof = made ?? (await exchange.runtime.dpop?.proofForSend(token, String(config.method ?? 'get'), url));
  if (proof !== undefined) writeHeader(config.headers, 'DPoP', proof);
  let answer: Answer;
  try {
    answer = { response: await exchange.adapter(config) };
  } catch (error) {
    if (!isAxiosError(error) || error.response === undefined) throw error;
    answer = { response: error.response, error };
  }
  if (proof === undefined || !asksNonce(exchange, url, answer.response)) return answer;
  if (sent.replayBody === undefined && !isReplayable(config.data)) {
    throw streamBody(
      sent,
      `asked for a DPoP nonce (HTTP ${answer.response.status}; kept for the next requests) in answer to`,
      config,
    );
  }
  const again: InternalAxiosRequestConfig = { ...config, headers: new AxiosHeaders(config.headers) };
  if (sent.replayBody !== undefined) again.data = sent.replayBody();
  return sendHop(exchange, again, token, sent, undefined);
}

/** The answer's nonce remembered; true when it is a nonce challenge this request may answer (once). */
function asksNonce(exchange: ProvingExchange, url: string, response: AxiosResponse): boolean {
  const header = (name: string): string | undefined => headerText(response.headers, name);
  const again =
    exchange.runtime.dpop?.shouldResend(url, { status: response.status, header }, exchange.nonceResends) ?? false;
  if (again) exchange.nonceResends++;
  return again;
}

/** A request whose stream body would have to be sent once more: `ERR_BODY_NOT_REPLAYABLE` (rule 8). */
function streamBody(sent: ProvingSend, what: string, config: InternalAxiosRequestConfig): TokenflightError {
  return new TokenflightError(
    `The API ${what} a ${String(config.method).toUpperCase()} request whose body is a stream, which cannot be sent twice; ` +
      'pass `tokenAuth: { replayBody: () => newStream }` to send such requests again',
    { code: 'ERR_BODY_NOT_REPLAYABLE', provider: sent.provider },
  );
}

/** The absolute URL a request goes to, as axios builds it (baseURL, url, params), for a DPoP proof's `htu`. */
export function requestUrl(config: InternalAxiosRequestConfig): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(axios.getUri(config), page).href;
}
