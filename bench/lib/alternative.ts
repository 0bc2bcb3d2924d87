/**
 * The usual hand-built alternative to tokenflight, as axios-auth-refresh's README shows it: a
 * request interceptor that reads the current token, and createAuthRefresh to refresh on 401.
 */
import type { AxiosInstance } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';

export interface AlternativeOptions {
  /** axios-auth-refresh's own option; true is its default. */
  deduplicateRefresh?: boolean;
}

/** Wires axios-auth-refresh onto `api`; `refresh` must resolve to the new token. Returns a detach function. */
export function withAxiosAuthRefresh(
  api: AxiosInstance,
  initialToken: string,
  refresh: () => Promise<string>,
  options: AlternativeOptions = {},
): () => void {
  let token = initialToken;
  const requestId = api.interceptors.request.use((config) => {
    config.headers['Authorization'] = `Bearer ${token}`;
    return config;
  });
  // axios-auth-refresh's declarations use axios's CommonJS types; the instance is the same object.
  const responseId = createAuthRefresh(
    api as unknown as Parameters<typeof createAuthRefresh>[0],
    async () => {
      token = await refresh();
    },
    options,
  );
  return () => {
    api.interceptors.request.eject(requestId);
    api.interceptors.response.eject(responseId);
  };
}
