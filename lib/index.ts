/**
 * Bearer tokens for axios: one cached token per provider, one token request for every 401, and a
 * transparent replay. Start with {@link attachTokenAuth} and a provider factory.
 *
 * @module tokenflight
 */
export { attachTokenAuth } from './axios/attach.js';
export type { Token, TokenAuth } from './axios/attach.js';
export type { RejectionContext, TokenAuthBaseOptions, TokenAuthOptions, TokenRequestOptions } from './axios/options.js';
export type { TokenAuthRequestOptions } from './axios/request-options.js';
export { DEFAULTS } from './shared/defaults.js';
export { isTokenflightError, isTokenRequestError, TokenflightError, TokenRequestError } from './shared/errors.js';
export type { InvalidOptionError, TokenflightErrorCode, TokenRequestErrorCode } from './shared/errors.js';
export type { RefreshReason, TokenAuthEvent, TokenAuthEventType } from './shared/events.js';
export type { TokenAuthLogFields, TokenAuthLogger, TokenAuthLogLevel } from './shared/logger.js';
export { clientCredentials } from './providers/client-credentials.js';
export type { ClientAuthMethod, ClientCredentialsOptions } from './providers/client-credentials.js';
export type { ClientKeyOptions, PrivateCryptoKey, PrivateJwk } from './providers/client-key-options.js';
export type { DpopCryptoKey, DpopKeyPair, DpopOptions } from './oauth/dpop-key.js';
export type { AsymmetricAlgorithm } from './oauth/jws.js';
export { customProvider } from './providers/custom.js';
export type { CustomProviderOptions, CustomToken, GetTokenContext } from './providers/custom.js';
export type { ProviderOptions } from './providers/define.js';
export type { OriginsSource, TokenProvider } from './providers/endpoint.js';
export { jsonProvider } from './providers/json.js';
export type { JsonProviderOptions, JsonValue } from './providers/json.js';
export { marsview } from './providers/marsview.js';
export { refreshTokenGrant } from './providers/refresh-token.js';
export type { RefreshTokenGrantOptions } from './providers/refresh-token.js';
export type { MarsviewOptions } from './providers/marsview.js';
export { singleView } from './providers/single-view.js';
export type { SingleViewOptions } from './providers/single-view.js';
export { symbl } from './providers/symbl.js';
export type { SymblOptions } from './providers/symbl.js';
export type {
  StoredToken,
  TokenStore,
  TokenStoreLock,
  TokenStoreLockOptions,
  TokenStoreSetOptions,
  StoredKeyPair,
} from './stores/store.js';
export { MemoryTokenStore } from './stores/memory.js';
export type { MemoryTokenStoreOptions } from './stores/memory.js';
