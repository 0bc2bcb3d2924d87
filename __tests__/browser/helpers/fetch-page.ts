// The script of the fetch-entry test page, bundled by fetch-site.ts with esbuild for the browser:
// tokenflight/fetch from the built dist/fetch.js (fetch-site.ts points the import there) and
// nothing else, no axios. The suite drives it through `window.tokenFetchPage` (page.evaluate).
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../../lib/fetch.js';

/** What one `auth.fetch` ended with, as the page saw it. */
export interface FetchOutcome {
  status?: number;
  type?: string;
  url?: string;
  redirected?: boolean;
  body?: string;
  /** The name of what it rejected with (`AbortError`, `TypeError`, `TokenflightError`…). */
  error?: string;
  /** The `code` of a tokenflight error, or the message of another. */
  detail?: string;
  /** Whether it rejected with the very reason its signal was aborted with. */
  isReason?: boolean;
}

/** The body of a POST the page sends, built in the page (FormData and Blob cannot cross page.evaluate). */
export type BodyKind = 'string' | 'form-data' | 'blob';

export interface FetchPageApi {
  start(config: { tokenUrl: string; apiOrigin: string }): void;
  get(url: string, init?: { redirect?: RequestRedirect; tokenAuth?: false }): Promise<FetchOutcome>;
  burst(url: string, count: number): Promise<FetchOutcome[]>;
  post(url: string, kind: BodyKind): Promise<FetchOutcome>;
  /** `count` requests, the first of which is aborted (with `reason`) while all wait for the token. */
  abortFirst(url: string, count: number, reason: string): Promise<FetchOutcome[]>;
  close(): void;
}

declare global {
  interface Window {
    tokenFetchPage: FetchPageApi;
  }
}

let auth: TokenFetch | undefined;

function handle(): TokenFetch {
  if (auth === undefined) throw new Error('call tokenFetchPage.start() first');
  return auth;
}

async function outcome(pending: Promise<Response>): Promise<FetchOutcome> {
  try {
    const response = await pending;
    return {
      status: response.status,
      type: response.type,
      url: response.url,
      redirected: response.redirected,
      body: response.type === 'opaqueredirect' ? '' : await response.text(),
    };
  } catch (error) {
    const { name, message, code, isReason } = error as {
      name?: string;
      message?: string;
      code?: unknown;
      isReason?: boolean;
    };
    return {
      ...(isReason !== undefined && { isReason }),
      error: name ?? typeof error,
      detail: typeof code === 'string' ? code : (message ?? String(error)),
    };
  }
}

function bodyOf(kind: BodyKind): { body: BodyInit } {
  switch (kind) {
    case 'string':
      return { body: '{"text":"é ü"}' };
    case 'form-data': {
      const form = new FormData();
      form.append('field', 'value é');
      form.append('file', new Blob([new Uint8Array([0, 1, 2, 255])], { type: 'application/octet-stream' }), 'b.bin');
      return { body: form };
    }
    case 'blob':
      return { body: new Blob(['blob body ', new Uint8Array([0, 200, 255])], { type: 'application/x-test' }) };
  }
}

window.tokenFetchPage = {
  start({ tokenUrl, apiOrigin }) {
    auth?.close();
    auth = createTokenFetch({
      providers: clientCredentials({ tokenUrl, clientId: 'page', clientSecret: 'page-secret', origins: [apiOrigin] }),
    });
  },
  get: (url, init = {}) => outcome(handle().fetch(url, init)),
  burst: (url, count) => Promise.all(Array.from({ length: count }, (_, i) => outcome(handle().fetch(`${url}?n=${i}`)))),
  post: (url, kind) => outcome(handle().fetch(url, { method: 'POST', ...bodyOf(kind) })),
  async abortFirst(url, count, reason) {
    const controller = new AbortController();
    const reasonGiven = new DOMException(reason, 'AbortError');
    const first = outcome(
      handle()
        .fetch(url, { signal: controller.signal })
        .catch((error: unknown) => {
          throw Object.assign(error as Error, { isReason: error === reasonGiven });
        }),
    );
    const rest = Array.from({ length: count - 1 }, (_, i) => outcome(handle().fetch(`${url}?n=${i}`)));
    // Let every request reach the wait for the token before the first is aborted.
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(reasonGiven);
    return Promise.all([first, ...rest]);
  },
  close: () => auth?.close(),
};
