import axios, { isAxiosError } from 'axios';
import { Readable } from 'node:stream';
import { attachTokenAuth } from '../../lib/index.js';
import type { TokenAuthBaseOptions } from '../../lib/core/options.js';
import { createTokenFetch } from '../../lib/fetch.js';

/** One request, as a rule suite writes it whatever the boundary. */
export interface NeutralRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  /** A string, or `stream` for a body that cannot be sent twice (a Node stream for axios, a ReadableStream for fetch). */
  body?: string | { stream: string };
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** What came back: the status and body text (axios's rejection for a status is turned into its response). */
export interface NeutralAnswer {
  status: number;
  body: string;
}

/** A boundary, set up with the given options: send requests, read or drop tokens, close. */
export interface NeutralHandle {
  send(request: NeutralRequest): Promise<NeutralAnswer>;
  token(): Promise<{ accessToken: string }>;
  invalidate(): Promise<void>;
  close(): void;
}

export type Transport = (options: TokenAuthBaseOptions) => NeutralHandle;

const viaAxios: Transport = (options) => {
  const api = axios.create();
  const auth = attachTokenAuth(api, options);
  return {
    async send({ url, method = 'GET', body, headers, signal }) {
      const data = typeof body === 'object' ? Readable.from([Buffer.from(body.stream)]) : body;
      try {
        const response = await api.request<string>({
          url,
          method,
          data,
          ...(headers && { headers }),
          ...(signal && { signal }),
          responseType: 'text',
          transformResponse: [],
        });
        return { status: response.status, body: response.data };
      } catch (error) {
        if (isAxiosError(error) && error.response !== undefined)
          return { status: error.response.status, body: String(error.response.data) };
        throw error;
      }
    },
    token: () => auth.token(),
    invalidate: () => auth.invalidate(),
    close: () => auth.eject(),
  };
};

const viaFetch: Transport = (options) => {
  const auth = createTokenFetch(options);
  return {
    async send({ url, method = 'GET', body, headers, signal }) {
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        ...(headers && { headers }),
        ...(signal && { signal }),
      };
      if (typeof body === 'string') init.body = body;
      else if (body !== undefined) {
        init.body = new Blob([body.stream]).stream();
        init.duplex = 'half';
      }
      const response = await auth.fetch(url, init);
      return { status: response.status, body: await response.text() };
    },
    token: () => auth.token(),
    invalidate: () => auth.invalidate(),
    close: () => auth.close(),
  };
};

/** Both boundaries, for `describe.each`: a transport-neutral rule runs the same cases over each. */
export const TRANSPORTS: readonly (readonly [string, Transport])[] = [
  ['axios', viaAxios],
  ['fetch', viaFetch],
];
