import type { HttpClient } from './http.js';
import type { DpopBinding } from './dpop.js';
import type { NonceSlot } from '../oauth/dpop-nonce.js';
import type { BaseSettings } from './options.js';
import { kSource, type TokenProvider } from '../providers/endpoint.js';
import type { Routable } from './routing.js';
import { createTokenManager, type TokenManager } from './manager/token-manager.js';

/** One provider on a boundary: where its tokens may go, and the token manager that holds them. */
export interface ProviderRuntime extends Routable {
  readonly manager: TokenManager;
  /** True when its refresh token rotates (`refreshTokenGrant`): `resumeSession` applies to it. */
  readonly rotating: boolean;
  /** Its DPoP key, proofs and nonces, when its tokens are DPoP-bound (`dpop` on an OAuth grant). */
  readonly dpop: DpopBinding | undefined;
}

/**
 * Makes the token source and token manager of `provider`, its token requests sent through `http`
 * (the boundary's HttpClient: never the intercepted instance or the wrapped fetch). `nonces` are the
 * handle's DPoP nonces, one store for all its providers' token requests and API requests.
 */
export function createRuntime(
  provider: TokenProvider,
  origins: readonly string[],
  settings: BaseSettings,
  http: HttpClient,
  nonces: NonceSlot,
): ProviderRuntime {
  const { emit, tokenRequest } = settings;
  const source = provider[kSource].create({
    http,
    settings: tokenRequest,
    now: Date.now,
    random: Math.random,
    onRetry: (retry) => emit({ type: 'token-retry', provider: provider.name, ...retry }),
    store: settings.store,
    nonces,
  });
  const manager = createTokenManager({
    source,
    store: settings.store,
    now: Date.now,
    random: Math.random,
    refreshWindowMs: settings.refreshWindowMs,
    expiryMarginMs: settings.expiryMarginMs,
    backgroundRetryMs: settings.backgroundRetryMs,
    cooldownMs: tokenRequest.cooldownMs,
    storeTimeoutMs: settings.storeTimeoutMs,
    lockTtlMs: settings.lockTtlMs,
    emit,
  });
  return { name: provider.name, origins, manager, rotating: source.rotation !== undefined, dpop: source.dpop };
}
