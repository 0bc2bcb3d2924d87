import { describe, expect, test } from '@jest/globals';
import axios, { AxiosHeaders, type AxiosResponse } from 'axios';
import { axiosHttpClient } from '../../lib/axios/http-client.js';
import type { HttpRequest } from '../../lib/core/http.js';

// A tokenClient is the caller's own axios instance: its response interceptors may hand the axios
// HttpClient headers that are not what axios's transport made. The core reads Retry-After,
// WWW-Authenticate and DPoP-Nonce from what the HttpClient gives back, so a header an interceptor
// removed must be absent there, not the text "undefined", "null" or "false".

const request: HttpRequest = {
  method: 'POST',
  url: 'http://127.0.0.1:9/token',
  headers: { accept: 'application/json' },
  body: 'grant_type=client_credentials',
  signal: new AbortController().signal,
  timeoutMs: 5_000,
  maxBodyBytes: 1_048_576,
};

/** An instance whose transport answers 429 with a Retry-After, and whose interceptor rewrites the headers. */
function tokenClient(rewrite: (headers: AxiosHeaders) => AxiosResponse['headers']) {
  const instance = axios.create();
  instance.defaults.adapter = (config) =>
    Promise.resolve({
      data: '{"error":"slow_down"}',
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'Retry-After': '7', 'X-Trace': 'abc' },
      config,
    });
  instance.interceptors.response.use((response) => ({
    ...response,
    headers: rewrite(response.headers as AxiosHeaders),
  }));
  return instance;
}

describe("the axios HttpClient reads the headers a tokenClient's interceptor hands back", () => {
  test('a plain object: names in lower case, undefined and null values absent, an array joined', async () => {
    const instance = tokenClient(() => ({
      'Retry-After': '7',
      'X-Trace': undefined,
      'DPoP-Nonce': null,
      'Set-Cookie': ['a=1', 'b=2'],
    }));
    const answer = await axiosHttpClient(instance).send(request);
    expect(answer.status).toBe(429);
    expect(answer.headers).toEqual({ 'retry-after': '7', 'set-cookie': 'a=1, b=2' });
  });

  test('AxiosHeaders with a header unset (set to false, as axios unsets one): that header is absent', async () => {
    const instance = tokenClient((headers) => headers.set('X-Trace', false as unknown as string));
    const answer = await axiosHttpClient(instance).send(request);
    expect(answer.headers).toEqual({ 'retry-after': '7' });
  });
});
