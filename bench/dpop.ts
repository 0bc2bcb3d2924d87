/**
 * A DPoP request through `auth.fetch` (a DPoP-bound token cached, a new ES256 proof per send with
 * the API's nonce and the token's `ath`) against the physical floor: bare `fetch` that signs one
 * ES256 proof per call with the same key, the same nonce and an `ath` hashed once, to one loopback
 * server, in interleaved rounds (median of per-request times, and the spread of the rounds).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { clientCredentials, createTokenFetch } from '../lib/fetch.js';
import { spread, type Spread } from './lib/stats.js';

const NONCE = 'bench-nonce-0123456789';

async function startServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  let issued = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const headers = { 'content-type': 'application/json', 'dpop-nonce': NONCE };
      if (req.url === '/token') {
        res.writeHead(200, headers);
        res.end(JSON.stringify({ access_token: `tok-${++issued}`, token_type: 'DPoP', expires_in: 3600 }));
        return;
      }
      const ok = req.headers.authorization?.startsWith('DPoP ') === true && typeof req.headers.dpop === 'string';
      res.writeHead(ok ? 200 : 401, headers);
      res.end(ok ? '{"ok":true}' : '{"error":"invalid_token"}');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

/** The floor: one ES256 signature per call, everything else as cheap as it gets. */
async function bareSigner(keyPair: CryptoKeyPair, accessToken: string) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { crv, kty, x, y } }));
  const ath = createHash('sha256').update(accessToken).digest('base64url');
  return async (method: string, htu: string): Promise<string> => {
    const claims = {
      jti: b64(randomBytes(16)),
      htm: method,
      htu,
      iat: Math.floor(Date.now() / 1000),
      nonce: NONCE,
      ath,
    };
    const input = `${header}.${b64(JSON.stringify(claims))}`;
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      keyPair.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${b64(new Uint8Array(signature))}`;
  };
}

export interface DpopResult {
  rounds: number;
  requestsPerRound: number;
  /** µs per request: the median of the rounds and their spread. */
  bare: Spread;
  tokenflight: Spread;
  /** tokenflight's median over bare's median. */
  ratio: number;
  /** The ratio of each interleaved pair of rounds. */
  pairRatios: Spread;
}

export async function runDpop(options: { rounds: number; requestsPerRound: number }): Promise<DpopResult> {
  const server = await startServer();
  const url = `${server.origin}/api/items`;
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: `${server.origin}/token`,
      clientId: 'c',
      clientSecret: 's',
      dpop: { keyPair },
      origins: [server.origin],
    }),
  });
  const { accessToken } = await auth.token();
  await (await auth.fetch(url)).arrayBuffer(); // the API's nonce learned
  const sign = await bareSigner(keyPair, accessToken);
  const authorization = `DPoP ${accessToken}`;
  type Name = 'bare' | 'tokenflight';
  const contenders: Record<Name, () => Promise<Response>> = {
    bare: async () => fetch(url, { headers: { authorization, dpop: await sign('GET', url) } }),
    tokenflight: () => auth.fetch(url),
  };
  const times: Record<Name, number[]> = { bare: [], tokenflight: [] };
  const round = async (name: Name): Promise<void> => {
    const started = performance.now();
    for (let i = 0; i < options.requestsPerRound; i++) await (await contenders[name]()).arrayBuffer();
    times[name].push(((performance.now() - started) * 1000) / options.requestsPerRound);
  };
  for (let warm = 0; warm < 3; warm++) {
    await round('bare');
    await round('tokenflight');
  }
  times.bare.length = 0;
  times.tokenflight.length = 0;
  for (let i = 0; i < options.rounds; i++) {
    // Interleaved, in alternating order, so that drift in the machine's load hits both alike.
    const order: Name[] = i % 2 === 0 ? ['bare', 'tokenflight'] : ['tokenflight', 'bare'];
    for (const name of order) await round(name);
  }
  auth.close();
  await server.close();
  const bare = spread(times.bare);
  const tokenflight = spread(times.tokenflight);
  const pairs = times.bare.map((bareUs, i) => (times.tokenflight[i] ?? NaN) / bareUs);
  return { ...options, bare, tokenflight, ratio: tokenflight.median / bare.median, pairRatios: spread(pairs) };
}

if (process.argv[1]?.endsWith('dpop.ts') === true) {
  const quick = process.argv.includes('--quick');
  const result = await runDpop(quick ? { rounds: 10, requestsPerRound: 50 } : { rounds: 40, requestsPerRound: 100 });
  console.log(JSON.stringify(result, null, 2));
}
