const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/**
 * SHA-256 of a string (its UTF-8 bytes), in hex. WebCrypto where there is one (Node 20+, Deno,
 * Bun, browsers in a secure context); elsewhere (a page on plain http at a LAN address or a dev
 * hostname has no `crypto.subtle`) @noble/hashes, loaded only then. Both give the same digest, so
 * store keys made from it are the same in every runtime and a shared store keeps its entries.
 */
export async function sha256Hex(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (subtle !== undefined) return hex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
  const { sha256Bytes } = await import('./sha256-js.js');
  return hex(sha256Bytes(bytes));
}

/** A short, one-way token fingerprint for logs and events: the first 8 hex digits of its SHA-256. */
export async function fingerprint(token: string): Promise<string> {
  return (await sha256Hex(token)).slice(0, 8);
}
