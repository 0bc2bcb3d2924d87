import { describe, expect, test } from '@jest/globals';
import { tokenFetchHarness } from './helpers/token-fetch-harness.js';

// How auth.fetch hands a caller's body to the fetch underneath: a body fetch serialises the same
// way each time goes on as the caller gave it, with the URL as given; only a FormData is captured
// in a Request first (so a replay has the same multipart boundary), with the caller's headers.

const harness = tokenFetchHarness();
const make = harness.make;

describe('the body the fetch underneath receives', () => {
  test.each<[string, () => BodyInit]>([
    ['a string', () => '{"a":1}'],
    ['URLSearchParams', () => new URLSearchParams({ q: 'a b' })],
    ['a Uint8Array', () => new Uint8Array([1, 2, 3])],
    ['a Blob', () => new Blob(['blob'])],
  ])('%s: the URL and the body object as the caller gave them, no Request made of them', async (_kind, makeBody) => {
    const received: { input: unknown; body: unknown }[] = [];
    const fetchWithToken = make({
      fetch: (input, init) => {
        received.push({ input, body: init?.body });
        return fetch(input, init);
      },
    });
    const body = makeBody();
    const url = `${harness.api.origin}/api/upload`;
    await (await fetchWithToken.fetch(url, { method: 'POST', body })).text();
    expect(received).toHaveLength(1);
    expect(received[0]?.input).toBe(url);
    expect(received[0]?.body).toBe(body);
  });

  test("a FormData goes with the caller's own headers and its multipart content type", async () => {
    const form = new FormData();
    form.append('field', 'value');
    const before = harness.api.seen.length;
    const answer = await make().fetch(`${harness.api.origin}/api/form`, {
      method: 'POST',
      body: form,
      headers: { 'x-trace': 'trace-1' },
    });
    expect(answer.status).toBe(200);
    const [sent] = harness.api.seen.slice(before).filter((request) => request.path === '/api/form');
    expect(sent?.headers['x-trace']).toBe('trace-1');
    expect(sent?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent?.body.toString()).toContain('name="field"');
  });
});
