import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import { attachTokenAuth, isTokenflightError, type TokenAuth } from '../../lib/index.js';
import { simulatedProvider, startSimulation, type SeenRequest, type Simulation } from '../../lib/testing/index.js';

describe('rule 8: what a replay sends', () => {
  let sim: Simulation;
  let api: AxiosInstance;
  let auth: TokenAuth;
  beforeAll(async () => {
    sim = await startSimulation();
  });
  afterAll(async () => sim.close());

  beforeEach(async () => {
    api = axios.create({ baseURL: sim.symbl.url });
    auth = attachTokenAuth(api, { providers: simulatedProvider(sim.symbl) });
    await auth.token();
    sim.symbl.resetStats();
    sim.symbl.revokeAll(); // the next request gets a 401, then a replay
  });
  afterEach(() => auth.eject());

  /** The two attempts of the one request the test made: the 401'd one and the replay. */
  function attempts(): [SeenRequest, SeenRequest] {
    const api = sim.symbl.requests.filter((request) => request.kind === 'api');
    expect(api).toHaveLength(2);
    expect(api[0]!.authorization).not.toBe(api[1]!.authorization);
    return [api[0]!, api[1]!];
  }

  const headersOf = (request: SeenRequest) => ({
    contentType: request.headers['content-type'],
    trace: request.headers['x-trace'],
    length: request.headers['content-length'],
  });

  test.each<[string, unknown]>([
    ['a JSON object', { name: 'job', tags: ['a', 'b'], nested: { n: 1 } }],
    ['a string', ' text with surrounding spaces \n'],
    ['a Buffer', Buffer.from('raw-bytes-0123456789')],
    ['URLSearchParams', new URLSearchParams({ a: '1', b: 'two words' })],
  ])('%s body is replayed byte for byte, with its headers', async (_what, body) => {
    const response = await api.post('/api/upload', body, { headers: { 'X-Trace': 'trace-1' } });
    expect(response.status).toBe(200);
    const [first, replay] = attempts();
    expect(replay.body).toBe(first.body);
    expect(replay.body.length).toBeGreaterThan(0);
    expect(headersOf(replay)).toEqual(headersOf(first));
    expect(headersOf(replay).trace).toBe('trace-1');
  });

  test('a FormData body is replayed with the same fields (multipart boundaries are new each time)', async () => {
    const form = new FormData();
    form.append('field', 'value');
    form.append('file', new Blob(['file-contents']), 'a.txt');
    await api.post('/api/upload', form);
    const [first, replay] = attempts();
    const fields = (request: SeenRequest) => {
      const boundary = /boundary=(.+)$/.exec(String(request.headers['content-type']))?.[1] ?? 'none';
      return request.body.split(boundary).join('BOUNDARY');
    };
    expect(fields(replay)).toBe(fields(first));
    expect(replay.body).toContain('file-contents');
    expect(replay.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
  });

  test('a stream body is not replayed empty: the caller gets ERR_BODY_NOT_REPLAYABLE, and the token is still renewed', async () => {
    const error = await api.post('/api/upload', Readable.from(['streamed ', 'once'])).catch((e: unknown) => e);
    expect(isTokenflightError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE', provider: 'symbl' });
    const cause = (error as Error).cause;
    expect(axios.isAxiosError(cause) && cause.response?.status).toBe(401);
    expect(sim.symbl.requests.filter((r) => r.kind === 'api')).toHaveLength(1);
    // The next request goes out with a new token, no 401.
    await expect(api.get('/api/next')).resolves.toMatchObject({ status: 200 });
    expect(sim.symbl.stats.apiUnauthorized).toBe(1);
    expect(sim.symbl.stats.tokensIssued).toBe(1);
  });

  test('tokenAuth.replayBody makes a fresh body for the replay', async () => {
    let made = 0;
    const stream = () => {
      made++;
      return Readable.from(['streamed ', 'twice']);
    };
    const response = await api.post('/api/upload', stream(), {
      headers: { 'Content-Type': 'application/octet-stream' },
      tokenAuth: { replayBody: stream },
    });
    expect(response.status).toBe(200);
    const [first, replay] = attempts();
    expect(replay.body).toBe('streamed twice');
    expect(first.body).toBe('streamed twice');
    expect(made).toBe(2);
  });
});
