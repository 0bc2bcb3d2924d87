import { describe, expect, test } from '@jest/globals';
import type { TokenFetch, TokenFetchOptions } from '../../lib/fetch.js';
import { REJECTED_BODY_BYTES } from '../../lib/fetch/rejected-body.js';
import { tokenFetchHarness } from './helpers/token-fetch-harness.js';

// What isTokenRejected is shown of a 401's body through auth.fetch: the text, decoded whole, up to
// REJECTED_BODY_BYTES (beyond, nothing); while it is read, the caller's signal still ends the call.

const harness = tokenFetchHarness();

/** A handle whose API answers are `answer()` (tokens from the loopback token endpoint), and what isTokenRejected saw. */
function make(answer: () => Response, options: Partial<TokenFetchOptions> = {}): { auth: TokenFetch; seen: unknown[] } {
  const seen: unknown[] = [];
  const auth = harness.make({
    fetch: () => Promise.resolve(answer()),
    isTokenRejected: ({ data }) => {
      seen.push(data);
      return false;
    },
    ...options,
  });
  return { auth, seen };
}

const unauthorized = (body: BodyInit): Response =>
  new Response(body, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

/** A body sent in chunks of the given bytes. */
function chunked(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe("isTokenRejected's view of a 401 body", () => {
  test('up to REJECTED_BODY_BYTES it is the text; one byte more, in several chunks, and it is undefined', async () => {
    const half = REJECTED_BODY_BYTES / 2;
    const bytes = (length: number): Uint8Array => new Uint8Array(length).fill(0x61);
    let chunks = [bytes(half), bytes(half)];
    const { auth, seen } = make(() => unauthorized(chunked(...chunks)));
    const atLimit = await auth.fetch(`${harness.api.origin}/api/x`);
    expect(atLimit.status).toBe(401);
    chunks = [bytes(half), bytes(half), bytes(1)];
    const over = await auth.fetch(`${harness.api.origin}/api/x`);
    expect(seen).toEqual(['a'.repeat(REJECTED_BODY_BYTES), undefined]);
    // The caller still reads the whole body of each.
    expect((await atLimit.text()).length).toBe(REJECTED_BODY_BYTES);
    expect((await over.text()).length).toBe(REJECTED_BODY_BYTES + 1);
  });

  test('a character split across two chunks is decoded whole', async () => {
    const bytes = new TextEncoder().encode('jeton refusé');
    const { auth, seen } = make(() => unauthorized(chunked(bytes.slice(0, -1), bytes.slice(-1))));
    await (await auth.fetch(`${harness.api.origin}/api/x`)).text();
    expect(seen).toEqual(['jeton refusé']);
  });

  test("a body that never ends: the caller's abort rejects the call with its reason, isTokenRejected is not asked", async () => {
    const { auth, seen } = make(() => unauthorized(new ReadableStream({ start: () => undefined })));
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = auth.fetch(`${harness.api.origin}/api/x`, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 100);
    await expect(pending).rejects.toBe(reason);
    expect(seen).toEqual([]);
  });

  test("a body that never ends, with the caller's signal never aborted: after tokenRequest.timeoutMs isTokenRejected sees undefined", async () => {
    const { auth, seen } = make(() => unauthorized(new ReadableStream({ start: () => undefined })), {
      tokenRequest: { timeoutMs: 300 },
    });
    const answer = await auth.fetch(`${harness.api.origin}/api/x`, { signal: new AbortController().signal });
    expect(answer.status).toBe(401);
    expect(seen).toEqual([undefined]);
    await answer.body?.cancel();
  });
});
