/**
 * tokenflight demo: one axios instance, four token providers played by a loopback simulation
 * (Symbl, Marsview, SingleView, OAuth 2.0 client credentials). It sends concurrent requests, lets
 * tokens expire, revokes them mid-traffic, and prints what happened, counted at the servers.
 *
 *   npm run demo
 */
import axios from 'axios';
import { attachTokenAuth, type TokenAuthEvent } from '../lib/index.js';
import { simulatedProvider, startSimulation, type ProviderServer } from '../lib/testing/index.js';

const LIFETIME_SECONDS = 2;
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s`;
const color = process.stdout.isTTY
  ? (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m`
  : (_: number, text: string) => text;
const say = (text: string): void => console.log(`${color(2, elapsed())}  ${text}`);
const heading = (text: string): void => console.log(`\n${color(1, text)}`);

function describeEvent(event: TokenAuthEvent): string | undefined {
  switch (event.type) {
    case 'token-fetched':
      return `${event.provider.padEnd(10)} token ${event.fingerprint} fetched (${event.reason}, ${event.durationMs} ms, ${event.attempts} request${event.attempts > 1 ? 's' : ''})`;
    case 'token-adopted':
      return `${event.provider.padEnd(10)} token ${event.fingerprint} taken from the shared store`;
    case 'token-invalidated':
      return `${event.provider.padEnd(10)} token ${event.fingerprint} rejected by the API: dropped`;
    case 'token-failed':
      return `${event.provider.padEnd(10)} token request failed: ${event.error.message}`;
    case 'token-retry':
      return `${event.provider.padEnd(10)} token request retry ${event.attempt} in ${event.delayMs} ms (${event.code})`;
    case 'store-failed':
      return `${event.provider.padEnd(10)} token store ${event.operation} failed; carrying on without it`;
    case 'request-replayed':
      return undefined; // counted, not printed one by one
  }
}

async function main(): Promise<void> {
  const sim = await startSimulation({ tokenLifetimeSeconds: LIFETIME_SECONDS, tokenLatencyMs: 40, apiLatencyMs: 5 });
  const replayed = new Map<string, number>();
  const api = axios.create();
  const auth = attachTokenAuth(api, {
    providers: sim.servers.map((server) => simulatedProvider(server)),
    onEvent: (event) => {
      if (event.type === 'request-replayed') replayed.set(event.provider, (replayed.get(event.provider) ?? 0) + 1);
      const line = describeEvent(event);
      if (line !== undefined) say(color(36, line));
    },
  });

  let sent = 0;
  let succeeded = 0;
  const failures: string[] = [];
  const request = async (server: ProviderServer, i: number): Promise<void> => {
    sent++;
    try {
      const { data } = await api.post(`${server.url}/api/items`, { item: i });
      if ((JSON.parse((data as { body: string }).body) as { item: number }).item !== i) throw new Error('body changed');
      succeeded++;
    } catch (error) {
      failures.push(`${server.kind}: ${(error as Error).message}`);
    }
  };
  const burst = (count: number) =>
    Promise.all(sim.servers.flatMap((server) => Array.from({ length: count }, (_, i) => request(server, i))));

  console.log(
    color(1, 'tokenflight demo') + ` — 4 simulated providers on 127.0.0.1, tokens live ${LIFETIME_SECONDS} s`,
  );
  for (const server of sim.servers) console.log(`  ${server.kind.padEnd(10)} ${server.url}`);

  heading('1. Cold start: 50 concurrent requests per provider, no token yet');
  await burst(50);
  say(`${succeeded}/${sent} requests succeeded`);

  heading(`2. Steady traffic for ${LIFETIME_SECONDS * 3} s while tokens expire (refreshed in the background)`);
  const until = Date.now() + LIFETIME_SECONDS * 3000;
  while (Date.now() < until) {
    await burst(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  say(`${succeeded}/${sent} requests succeeded`);

  heading('3. Revocation: every token revoked, then 50 concurrent requests per provider');
  for (const server of sim.servers) server.revokeAll();
  await burst(50);
  say(`${succeeded}/${sent} requests succeeded`);

  heading('What the servers counted');
  const rows = sim.servers.map((server) => ({
    provider: server.kind,
    'token requests': server.stats.tokenRequests,
    'API requests': server.stats.apiRequests,
    '401s answered': server.stats.apiUnauthorized,
    'replayed by tokenflight': replayed.get(server.kind) ?? 0,
  }));
  console.table(rows);
  console.log(`requests sent by the app: ${sent}, succeeded: ${succeeded}, failed: ${failures.length}`);
  console.log(
    'Every 401 came from the revocation (step 3), was answered by one token request per provider, and was replayed; ' +
      'token expiry (step 2) caused none, because tokens were refreshed ahead of time.',
  );

  auth.eject();
  await sim.close();

  const unauthorizedOutsideRevocation = sim.servers.some((server) => server.stats.apiUnauthorized > 50);
  if (failures.length > 0 || unauthorizedOutsideRevocation) {
    console.error(color(31, `demo FAILED: ${failures.slice(0, 5).join('; ')}`));
    process.exitCode = 1;
  } else {
    console.log(color(32, 'demo OK'));
  }
}

await main();
