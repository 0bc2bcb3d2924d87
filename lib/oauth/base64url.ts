/** base64url without padding (RFC 4648 §5), as JOSE uses it (RFC 7515 §2). */

/** `bytes` in base64url, without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The UTF-8 bytes of `text` in base64url. */
export function base64urlText(text: string): string {
  return base64url(new TextEncoder().encode(text));
}

/** `base64` (with or without padding, whitespace ignored) as bytes; `undefined` if it is not base64. */
export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> | undefined {
  const text = base64.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
