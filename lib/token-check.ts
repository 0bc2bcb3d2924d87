/** Characters of a bearer token (RFC 6750 §2.1 `b64token`). */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** An authentication scheme name (RFC 9110 §11.1 `token`). */
export const TOKEN_TYPE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
