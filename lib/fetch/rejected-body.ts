import { waitWithAbort } from '../shared/async.js';

/** How much of a rejected answer's body `isTokenRejected` is shown. */
export const REJECTED_BODY_BYTES = 65_536;

/**
 * The body of an answer that may reject the token, as text, for `isTokenRejected`: read from a
 * clone (the caller can still read the original), at most {@link REJECTED_BODY_BYTES} and for at
 * most `timeoutMs` (beyond either, or when it cannot be read, `undefined`: a body that never ends
 * holds no one), and never longer than the caller's signal allows.
 */
export async function readRejectedBody(
  response: Response,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<unknown> {
  const copy = response.clone();
  if (copy.body === null) return '';
  const reader = copy.body.getReader();
  const read = async (): Promise<string | undefined> => {
    const decoder = new TextDecoder();
    let text = '';
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > REJECTED_BODY_BYTES) return undefined;
      text += decoder.decode(value, { stream: true });
    }
  };
  try {
    return await waitWithAbort(read, {
      signal,
      timeoutMs,
      onAbort: () => signal?.reason as Error,
      onTimeout: () => new Error('the body took too long'),
    });
  } catch (error) {
    if (signal?.aborted === true) throw error;
    return undefined;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
