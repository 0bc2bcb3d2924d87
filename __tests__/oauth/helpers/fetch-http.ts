import type { HttpClient, HttpRequest } from '../../../lib/core/http.js';
import { HttpClientError } from '../../../lib/core/http.js';

/**
 * A plain HttpClient over Node's fetch for the protocol suites (the boundaries' own
 * implementations are tested elsewhere): no redirects, headers in lower case, the body as text,
 * `timeoutMs` and `maxBodyBytes` honoured. Records every request it sends.
 */
export function fetchHttpClient(): HttpClient & { sent: HttpRequest[] } {
  const sent: HttpRequest[] = [];
  return {
    sent,
    async send(request) {
      sent.push(request);
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]);
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        const reason = request.signal.aborted ? 'aborted' : signal.aborted ? 'timeout' : 'network';
        throw new HttpClientError(reason, `request failed (${reason})`, { cause: error });
      }
      const body = await response.text();
      if (new TextEncoder().encode(body).length > request.maxBodyBytes) {
        throw new HttpClientError('too-large', 'the body is larger than maxBodyBytes');
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      return { status: response.status, headers, body };
    },
  };
}
