/**
 * True in a page or a worker, where fetch and XMLHttpRequest follow redirects themselves and never
 * show them (`redirect: 'manual'` gives an opaque answer; the browser drops `Authorization` across
 * origins on its own); false in Node, Deno,
 * Bun and edge runtimes, where a redirect can be read and followed by tokenflight.
 */
export function inBrowser(): boolean {
  const scope = globalThis as { document?: unknown; importScripts?: unknown };
  return typeof scope.document === 'object' || typeof scope.importScripts === 'function';
}
