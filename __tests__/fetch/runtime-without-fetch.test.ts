import { afterEach, describe, expect, test } from '@jest/globals';
import { tokenFetchHarness } from './helpers/token-fetch-harness.js';

// A runtime with no global fetch (an old Node, an embedded engine): createTokenFetch says at once
// which option to pass, and with `fetch` given, API and token requests both go through it.

const realFetch = globalThis.fetch;
const harness = tokenFetchHarness();
afterEach(() => {
  globalThis.fetch = realFetch;
});

function withoutGlobalFetch(): void {
  Reflect.deleteProperty(globalThis, 'fetch');
  expect(typeof globalThis.fetch).toBe('undefined');
}

describe('createTokenFetch where there is no global fetch', () => {
  test('without the fetch option: a TypeError at construction, code ERR_INVALID_ARG_VALUE, naming `fetch`', () => {
    withoutGlobalFetch();
    let thrown: unknown;
    try {
      harness.make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((thrown as Error).message).toMatch(/no global `fetch`; pass the `fetch` option/);
  });

  test('with the fetch option: the token request and the API request both go through it', async () => {
    const urls: string[] = [];
    const given = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return realFetch(input, init);
    };
    withoutGlobalFetch();
    const auth = harness.make({ fetch: given });
    const answer = await auth.fetch(`${harness.api.origin}/api/items`);
    expect(await answer.json()).toMatchObject({ token: harness.api.latest(), path: '/api/items' });
    expect(urls).toEqual([harness.api.tokenUrl, `${harness.api.origin}/api/items`]);
  });
});
