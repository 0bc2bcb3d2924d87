import { invalidOption } from '../shared/errors.js';
import { expectRefreshToken } from '../shared/validate.js';
import type { ProviderRuntime } from './runtime.js';

/** A token, as `auth.token()` returns it. */
export interface Token {
  /** The token itself, as the provider issued it. */
  readonly accessToken: string;
  /** `Bearer`, unless the provider says otherwise. */
  readonly tokenType: string;
  /** Epoch ms, or `null` when unknown. */
  readonly expiresAt: number | null;
}

/** What both boundaries' handles do alike: read, drop and resume tokens by provider name. */
export interface TokenOperations {
  readonly token: (name?: string) => Promise<Token>;
  readonly invalidate: (name?: string) => Promise<void>;
  readonly resumeSession: (refreshToken: string, name?: string) => Promise<void>;
  /** The runtime of provider `name` (the first by default); an `InvalidOptionError` if none. */
  readonly pick: (name: string | undefined) => ProviderRuntime;
}

/** The operations of a handle over `runtimes` (keyed by provider name, in the order given). */
export function createTokenOperations(runtimes: ReadonlyMap<string, ProviderRuntime>): TokenOperations {
  const first = [...runtimes.keys()][0] ?? '';
  const pick = (name: string | undefined): ProviderRuntime => {
    const runtime = runtimes.get(name ?? first);
    if (runtime === undefined) {
      throw invalidOption(
        `no provider named "${String(name)}" is attached (attached: ${[...runtimes.keys()].join(', ')})`,
      );
    }
    return runtime;
  };
  return {
    pick,
    token: async (name) => {
      const { token } = await pick(name).manager.get();
      return { accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: token.expiresAt };
    },
    invalidate: async (name) => {
      const targets = name === undefined ? [...runtimes.values()] : [pick(name)];
      await Promise.all(targets.map((runtime) => runtime.manager.invalidate()));
    },
    resumeSession: async (refreshToken, name) => {
      const runtime = pick(name);
      if (!runtime.rotating) {
        throw invalidOption(
          `resumeSession(): provider "${runtime.name}" does not use a refresh token (refreshTokenGrant())`,
        );
      }
      await runtime.manager.resume(expectRefreshToken(refreshToken, 'resumeSession()'));
    },
  };
}
