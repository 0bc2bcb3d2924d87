/**
 * `npm run bench`: every benchmark in one run, side by side with bare axios and axios-auth-refresh,
 * then docs/benchmarks.md and its SVG charts are written from what was measured.
 *
 * Options: --quick, --only=<sections>, --help (bench/lib/args.ts; `npm run bench -- --help`). An
 * unknown option is refused with exit code 2 before anything runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { runAmplification, type AmplificationRow } from './amplification.js';
import { runFetch, type FetchResult } from './fetch.js';
import { runDpop, type DpopResult } from './dpop.js';
import { runFleet, type FleetResult } from './fleet.js';
import {
  axiosAuthRefresh,
  bareAxios,
  bareAxiosWithHeader,
  plumbing,
  runHotPath,
  tokenflight,
  type HotPathResult,
} from './hot-path.js';
import { runLatency, type LatencyRow } from './latency.js';
import { runRefresh, type RefreshResult } from './refresh.js';
import { BenchUsageError, readBenchArgs, USAGE, type BenchArgs } from './lib/args.js';
import { barChart, lineChart } from './lib/svg.js';
import { fixed, percent, type Spread } from './lib/stats.js';

function readArgsOrExit(): BenchArgs {
  try {
    return readBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`npm run bench: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const { help, quick, only } = readArgsOrExit();
if (help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const wanted = (name: string): boolean => only === undefined || (only as readonly string[]).includes(name);
const root = join(import.meta.dirname, '..');
const docs = join(root, 'docs');
const charts = join(docs, 'benchmarks');
mkdirSync(charts, { recursive: true });

const log = (text: string): void => console.log(`[bench] ${text}`);
const version = (pkg: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

interface ScaleResult {
  perRequest: HotPathResult;
  heap: { total: number; seconds: number; checkpoints: [number, number][]; attachCostKiB: Record<string, number> };
}

interface Results {
  hot?: HotPathResult;
  amplification?: AmplificationRow[];
  latency?: Awaited<ReturnType<typeof runLatency>>;
  fleet?: FleetResult;
  scale?: ScaleResult;
  refresh?: RefreshResult;
  fetch?: FetchResult;
  dpop?: DpopResult;
}
const resultsFile = join(charts, 'results.json');
const reportFile = join(docs, 'benchmarks.md');
const results: Results = {};
const started = Date.now();

const BARE = 'bare axios';
const STATIC = 'bare axios, static Authorization header';
const TF = 'tokenflight';
const ALT = 'axios-auth-refresh + header interceptor';
const PLUMB_OLD = 'plumbing: response interceptor';
const PLUMB_NEW = 'plumbing: wrapped adapter';

if (wanted('hot')) {
  log('1/8 hot path: bare axios vs tokenflight vs axios-auth-refresh, interleaved rounds');
  results.hot = await runHotPath(
    [
      bareAxios(),
      bareAxiosWithHeader(),
      await tokenflight(),
      axiosAuthRefresh(),
      plumbing('response interceptor'),
      plumbing('wrapped adapter'),
    ],
    [
      [TF, BARE],
      [TF, STATIC],
      [TF, ALT],
      [ALT, BARE],
      [STATIC, BARE],
      [PLUMB_OLD, STATIC],
      [PLUMB_NEW, STATIC],
    ],
    quick ? { rounds: 60 } : { rounds: 600 },
  );
}

if (wanted('amplification')) {
  log('2/8 refresh amplification: 1,000 concurrent requests after a revocation');
  results.amplification = await runAmplification({ concurrency: 1_000 });
}

if (wanted('latency')) {
  log('3/8 latency across token rotations with a 300 ms token endpoint');
  results.latency = await runLatency(quick ? { durationMs: 4_000 } : { durationMs: 10_000 });
}

if (wanted('fleet')) {
  log('4/8 fleet: processes sharing one token, memory store vs Redis store');
  results.fleet = await runFleet({ sizes: quick ? [2, 4] : [2, 4, 8], rotations: quick ? 2 : 3 });
}

if (wanted('scale')) {
  log('5/8 scale: 1, 10 and 1,000 providers; heap over 1,000,000 requests');
  const perRequest = await runHotPath(
    [
      await tokenflight(0, '1 provider'),
      await tokenflight(9, '10 providers'),
      await tokenflight(999, '1,000 providers'),
    ],
    [
      ['10 providers', '1 provider'],
      ['1,000 providers', '1 provider'],
    ],
    quick ? { rounds: 30 } : { rounds: 240 },
  );
  const heapOut = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'heap.ts'), String(quick ? 100_000 : 1_000_000)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  results.scale = { perRequest, heap: JSON.parse(heapOut.trim().split('\n').at(-1)!) as ScaleResult['heap'] };
}

if (wanted('refresh')) {
  log('6/8 rotating refresh tokens: a fleet sharing one session, tokenflight vs axios-auth-refresh');
  results.refresh = await runRefresh({ sizes: quick ? [2] : [2, 4, 8], rounds: quick ? 4 : 10 });
}

if (wanted('fetch')) {
  log(
    '7/8 tokenflight/fetch: hot path vs bare fetch, 1,000 concurrent calls after a revocation vs a hand-written wrapper',
  );
  results.fetch = await runFetch(
    quick
      ? { rounds: 20, requestsPerRound: 50, concurrency: 1_000 }
      : { rounds: 100, requestsPerRound: 100, concurrency: 1_000 },
  );
}

if (wanted('dpop')) {
  log('8/8 DPoP: a request through auth.fetch vs bare fetch signing one ES256 proof per call with the same key');
  results.dpop = await runDpop(quick ? { rounds: 10, requestsPerRound: 50 } : { rounds: 60, requestsPerRound: 100 });
}

log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; writing docs/benchmarks.md`);
writeFileSync(reportFile, keepBundleSize(keepUnmeasured(report())));
writeFileSync(resultsFile, JSON.stringify({ ...previousResults(), ...results }, null, 2) + '\n');

/** The "Bundle size" section is measured by `npm run check:size`, not here: kept word for word, before the Targets. */
function keepBundleSize(fresh: string): string {
  if (!existsSync(reportFile)) return fresh;
  const kept = readFileSync(reportFile, 'utf8')
    .split(/^(?=## )/m)
    .find((part) => part.startsWith('## Bundle size'));
  if (kept === undefined) return fresh;
  const at = fresh.search(/^## Targets/m);
  return at === -1 ? `${fresh}\n${kept}` : `${fresh.slice(0, at)}${kept}${fresh.slice(at)}`;
}

/** With --only: the results of the sections this run did not measure, as the last run left them. */
function previousResults(): Results {
  if (only === undefined || !existsSync(resultsFile)) return {};
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as Results;
}

/** The numbered sections of the report, and the lines of its Targets, as the last run wrote them. */
function splitReport(text: string): { sections: Map<string, string>; targets: Map<string, string> } {
  const sections = new Map<string, string>();
  const targets = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m)) {
    const number = /^## (\d+)\./.exec(part)?.[1];
    if (number !== undefined) sections.set(number, part);
    if (part.startsWith('## Targets')) {
      for (const line of part.split('\n').filter((l) => l.startsWith('- ')))
        targets.set(line.split(':')[0] ?? line, line);
    }
  }
  return { sections, targets };
}

/** With --only: the sections this run did not measure are kept, word for word, from the last report. */
function keepUnmeasured(fresh: string): string {
  if (only === undefined || !existsSync(reportFile)) return fresh;
  const before = splitReport(readFileSync(reportFile, 'utf8'));
  const now = splitReport(fresh);
  const names = ['hot', 'amplification', 'latency', 'fleet', 'scale', 'refresh', 'fetch', 'dpop'];
  const header = fresh.split(/^(?=## )/m)[0] ?? '';
  const sections = names.map((name, index) => {
    const number = String(index + 1);
    return (wanted(name) ? now : before).sections.get(number) ?? '';
  });
  const targets = new Map([...before.targets, ...now.targets]);
  return [
    header,
    ...sections.filter((part) => part !== ''),
    `## Targets\n\n${[...targets.values()].join('\n')}\n`,
  ].join('');
}

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

function ns(s: Spread): string {
  return `${fixed(s.median)} (${fixed(s.p25)}–${fixed(s.p75)})`;
}

function ratio(s: Spread): string {
  return `**${s.median.toFixed(3)}** (${s.p25.toFixed(3)}–${s.p75.toFixed(3)})`;
}

function report(): string {
  const parts: string[] = [];
  parts.push(`# Benchmarks

Generated by \`npm run bench\`${quick ? ' (`--quick`)' : ''} on ${new Date().toISOString().slice(0, 10)}. Everything below was
measured ${only === undefined ? 'in one run ' : ''}on this machine${only === undefined ? '' : ` (this run measured ${only.join(', ')}; the other sections keep the figures of the last run that measured them)`}; re-run the command to regenerate this page and its charts.
Shared machines are noisy: read the **ratios measured within one round** and the medians with
their spread (25th–75th percentile of the rounds), not absolute times.

| machine | |
| --- | --- |
| CPU | ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} |
| memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |
| Node.js | ${process.version} |
| axios | ${version('axios')} |
| axios-auth-refresh | ${version('axios-auth-refresh')} |
| tinybench | ${version('tinybench')} |
| tokenflight | ${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version} (this checkout) |
`);

  if (results.hot !== undefined) {
    const hot = results.hot;
    const tfBare = hot.ratios[`${TF} / ${BARE}`]!;
    const tfStatic = hot.ratios[`${TF} / ${STATIC}`]!;
    const tfAlt = hot.ratios[`${TF} / ${ALT}`]!;
    const staticBare = hot.ratios[`${STATIC} / ${BARE}`]!;
    const plumbOld = hot.ratios[`${PLUMB_OLD} / ${STATIC}`]!;
    const plumbNew = hot.ratios[`${PLUMB_NEW} / ${STATIC}`]!;
    parts.push(`## 1. Hot path: a request whose token is cached

Every variant goes through the same in-process adapter (a 200 with a small JSON body, no I/O),
so the figures are axios plus the auth plugin and nothing else. The alternative is
axios-auth-refresh with a request interceptor that sets the header, as its README shows.
"Static Authorization header" is bare axios with the token set once in its defaults: no plugin at
all, but the same header on the wire, which is what any approach that sends a token pays axios.
${hot.rounds} rounds of tinybench, ${hot.iterations} requests per variant per round (tens of
milliseconds a round), the order of the variants rotating between rounds. This machine's speed
drifts by up to 2× over seconds (CPU throttling on a shared VM), so ratios are taken between
variants measured within the same short round, and the table shows the median over all rounds.

${table(
  ['variant', 'ns per request, median (p25–p75 of rounds)'],
  Object.entries(hot.nsPerOp).map(([name, s]) => [name, ns(s)]),
)}

${table(
  ['ratio (within each round)', 'median (p25–p75)', 'target', 'met?'],
  [
    ['tokenflight / bare axios', ratio(tfBare), '≤ 1.03', tfBare.median <= 1.03 ? 'yes' : 'no'],
    [
      'tokenflight / bare axios with the same static header',
      ratio(tfStatic),
      '≤ 1.03',
      tfStatic.median <= 1.03 ? 'yes' : 'no',
    ],
    ['tokenflight / axios-auth-refresh', ratio(tfAlt), '≤ 1.00', tfAlt.median <= 1.0 ? 'yes' : 'no'],
    ['axios-auth-refresh / bare axios', ratio(hot.ratios[`${ALT} / ${BARE}`]!), '', ''],
    ['bare axios with a static header / bare axios', ratio(staticBare), '', ''],
  ],
)}

Where the difference to bare axios goes: an \`Authorization\` header alone costs axios
${percent(staticBare.median)} per request here (bare axios with a static header vs without), whatever
sets it. What remains, ${percent(tfStatic.median)} against bare axios sending the same header${
      tfStatic.median < 1
        ? " (below zero: tokenflight writes its header straight into the request's headers, after axios has merged the defaults that carry the static one)"
        : ''
    }, is tokenflight:
the plumbing of the send boundary, the two properties tokenflight writes on the request config
(the redirect guard and its per-request state), and the routing and token check.

The send boundary's plumbing, measured alone (a static header, no token logic): a synchronous
request interceptor that wraps the adapter, plus one promise hop on the adapter's answer to catch
a 401, costs ${percent(plumbNew.median)} over bare axios with the header. 0.1.0's plumbing (a
synchronous request interceptor and a response interceptor, whose promise hop every request paid,
and which let other interceptors see the replay) cost ${percent(plumbOld.median)} in the same rounds.

${table(
  ['plumbing alone (within each round)', 'median (p25–p75)'],
  [
    ['wrapped adapter (0.2) / bare axios with a static header', ratio(plumbNew)],
    ['response interceptor (0.1.0) / bare axios with a static header', ratio(plumbOld)],
  ],
)}

![hot path](benchmarks/hot-path.svg)

How the hot path is kept cheap: the origin of a relative URL comes from a cached lookup of its
\`baseURL\` (no URL parsing per request); the token check is one clock read and one comparison;
the \`Authorization\` slot is written directly (\`AxiosHeaders.set()\` validates and normalises on
every call, which costs more than everything else tokenflight does); and when the token is ready
tokenflight's one interceptor is \`synchronous\`, so axios adds no promise hop for it, and the
wrapper of the adapter is made once per adapter setting, not per request. Only requests that must
wait for a token take a promise hop of their own.
`);
    writeFileSync(
      join(charts, 'hot-path.svg'),
      barChart(
        'cost per request over bare axios, token cached (median of per-round ratios)',
        '%',
        [
          [STATIC, `${STATIC} / ${BARE}`],
          [TF, `${TF} / ${BARE}`],
          [ALT, `${ALT} / ${BARE}`],
        ].map(([label, key]) => ({ label: label!, value: Number(((hot.ratios[key!]!.median - 1) * 100).toFixed(1)) })),
        760,
      ),
    );
  }

  if (results.amplification !== undefined) {
    parts.push(`## 2. Refresh amplification: 1,000 concurrent requests after a revocation

The loopback Symbl simulation; the token is revoked while the client still holds it, then 1,000
requests are sent at once. Counts are taken at the server. The limit is one token request; every
request was already in flight with the revoked token, so 1,000 upstream 401s is the floor.

${table(
  ['approach', 'requests', 'succeeded', 'failed', 'token requests', 'upstream 401s', 'wall time (median)'],
  results.amplification.map((r) => [
    r.approach,
    r.requests,
    r.succeeded,
    r.failed,
    `**${r.tokenRequests}**`,
    r.upstream401s,
    `${fixed(r.wallMs)} ms`,
  ]),
)}

Each approach ran ${results.amplification[0]?.warmUps ?? 0} unrecorded bursts first (the JIT warms up over the first few), then
${results.amplification[0]?.repetitions ?? 0} recorded ones in rotating order; the wall time is their median, and a count shown as
\`a–b\` varied between them. The counts are the result; the wall time of a burst over loopback
HTTP in one process varies by tens of percent from run to run on this machine, so read it as
context only.

axios-auth-refresh in its default configuration makes one token request, but the requests that
were already in flight when the refresh started are rejected instead of replayed (its issue #307):
the application sees those failures. tokenflight replays every one.

![amplification](benchmarks/amplification.svg)
`);
    writeFileSync(
      join(charts, 'amplification.svg'),
      barChart(
        'requests that failed, of 1,000 sent after a revocation',
        'failed',
        results.amplification.map((r) => ({
          label: r.approach.replace('axios-auth-refresh', 'a-a-r'),
          value: Number(r.failed.split('–').at(-1)),
          note: `(${r.tokenRequests} token request${r.tokenRequests === '1' ? '' : 's'})`,
        })),
        760,
      ),
    );
  }

  if (results.latency !== undefined) {
    const { options, rows } = results.latency;
    parts.push(`## 3. Latency across token rotations, slow token endpoint

${options.users} closed-loop users send requests back to back for ${options.durationMs / 1000} s; tokens live
${options.lifetimeSeconds} s and the token endpoint takes ${options.tokenLatencyMs} ms to answer (the API takes 2 ms).
"Waited" counts requests slower than half the token endpoint's latency: they waited on it.

${table(
  [
    'approach',
    'requests',
    'failed',
    'p50',
    'p99',
    'max',
    'waited on the token endpoint',
    'token requests',
    'upstream 401s',
  ],
  rows.map((r: LatencyRow) => [
    r.approach,
    r.requests,
    r.failed,
    `${r.p50Ms.toFixed(1)} ms`,
    `${r.p99Ms.toFixed(1)} ms`,
    `${r.maxMs.toFixed(1)} ms`,
    `**${r.waitedOnTokenEndpoint}**`,
    r.tokenRequests,
    r.upstream401s,
  ]),
)}

![latency](benchmarks/latency.svg)
`);
    writeFileSync(
      join(charts, 'latency.svg'),
      lineChart(
        'worst request latency per 250 ms, tokens rotating every few seconds',
        'ms since start',
        'ms',
        rows.map((r) => ({
          label: r.approach.replace(/ \(.*\)$/, ''),
          points: r.timeline,
        })),
        760,
      ),
    );
  }

  if (results.fleet !== undefined) {
    parts.push(`## 4. Fleet: processes sharing one token

${results.fleet.description}

${table(
  ['processes', 'store', 'rotations', 'token requests', 'per rotation', 'requests', 'failed'],
  results.fleet.rows.map((r) => [
    r.processes,
    r.store,
    r.rotations,
    r.tokenRequests,
    `**${r.perRotation.toFixed(2)}**`,
    r.requests,
    r.failed,
  ]),
)}

![fleet](benchmarks/fleet.svg)
`);
    writeFileSync(
      join(charts, 'fleet.svg'),
      barChart(
        'token requests per rotation',
        '',
        results.fleet.rows.map((r) => ({
          label: `${r.processes} processes, ${r.store} store`,
          value: Number(r.perRotation.toFixed(2)),
          color: r.store === 'Redis' ? '#2563eb' : '#9ca3af',
        })),
      ),
    );
  }

  if (results.scale !== undefined) {
    const { perRequest, heap } = results.scale;
    const first = heap.checkpoints[1]?.[1] ?? heap.checkpoints[0]![1];
    const last = heap.checkpoints.at(-1)![1];
    parts.push(`## 5. Scale: many providers, many requests

Per-request cost with 1, 10 and 1,000 providers attached to one instance (each on its own
origin; the request goes to the first one):

${table(
  ['providers', 'ns per request, median (p25–p75)'],
  Object.entries(perRequest.nsPerOp).map(([name, s]) => [name, ns(s)]),
)}

${table(
  ['ratio (within each round)', 'median (p25–p75)'],
  Object.entries(perRequest.ratios).map(([name, s]) => [name, ratio(s)]),
)}

Heap for one instance with N providers attached (average of 10 instances, after a full GC):
${Object.entries(heap.attachCostKiB)
  .map(([providers, kib]) => `${providers} provider${providers === '1' ? '' : 's'}: ${fixed(kib)} KiB`)
  .join('; ')}.

Heap after a full GC every ${fixed(heap.total / 10)} requests, ${fixed(heap.total)} requests in
${heap.seconds.toFixed(0)} s: ${heap.checkpoints.map(([n, mib]) => `${fixed(n / 1000)}k: ${mib.toFixed(2)} MiB`).join(', ')}.
From the first checkpoint to the last the heap changed by **${(last - first).toFixed(2)} MiB**
(${percent(last / first)}): flat, no leak.

![heap](benchmarks/heap.svg)
`);
    writeFileSync(
      join(charts, 'heap.svg'),
      lineChart(
        'heap used after a full GC (MiB)',
        'requests',
        'MiB',
        [{ label: 'tokenflight', points: heap.checkpoints }],
        720,
        280,
      ),
    );
  }

  if (results.refresh !== undefined) {
    parts.push(`## 6. Rotating refresh tokens: a fleet sharing one session

${results.refresh.description}

${table(
  [
    'approach',
    'processes',
    'rounds',
    'rotations',
    'refresh-token uses',
    'uses per rotation (limit 1)',
    'reuse detections',
    'revoked families',
    'requests',
    'failed',
  ],
  results.refresh.rows.map((r) => [
    r.approach,
    r.processes,
    r.rounds,
    r.rotations,
    r.refreshTokenUses,
    `**${Number.isFinite(r.usesPerRotation) ? r.usesPerRotation.toFixed(2) : '–'}**`,
    r.reuseDetections,
    r.revokedFamilies,
    r.requests,
    r.failed,
  ]),
)}

With its own copy of the refresh token in each process, the second process to refresh presents a
token the first has already used: the server takes it for theft and revokes the session, and every
request after that fails until the user signs in again. tokenflight presents each refresh token
once per fleet: the holder of the store's lock rotates it, the others take up its result.
`);
  }

  if (results.fetch !== undefined) {
    const { hot, tokenflight: tf, handWritten } = results.fetch;
    parts.push(`## 7. tokenflight/fetch: hot path, and 1,000 concurrent calls after a revocation

\`auth.fetch\` with a cached token against bare \`fetch\` sending the same static \`Authorization\`
header to the same in-process server: ${hot.rounds} interleaved rounds of ${hot.requestsPerRound} sequential
requests each, median time per request.

${table(
  ['contender', 'µs per request (median of rounds)', 'ratio to bare fetch'],
  [
    ['bare fetch, static Authorization header', hot.bareUs.toFixed(0), '1'],
    ['auth.fetch (tokenflight/fetch)', hot.tokenflightUs.toFixed(0), `**${hot.ratio.toFixed(3)}**`],
  ],
)}

${fixed(tf.concurrency)} concurrent calls after the server revoked the token (its token endpoint answers in
50 ms), against a hand-written fetch wrapper with a shared refresh promise (one refresh at a time;
a 401 that arrives after a refresh ended starts another).

${table(
  ['approach', 'token requests', 'failed', 'wall time (ms)'],
  [
    ['tokenflight/fetch', `**${tf.tokenRequests}**`, tf.failures, tf.wallMs.toFixed(0)],
    ['hand-written wrapper', handWritten.tokenRequests, handWritten.failures, handWritten.wallMs.toFixed(0)],
  ],
)}
`);
  }

  if (results.dpop !== undefined) {
    const { bare, tokenflight: tf, ratio, pairRatios, rounds, requestsPerRound } = results.dpop;
    parts.push(`## 8. DPoP: a request through auth.fetch against the floor of one ES256 signature

\`auth.fetch\` with a cached DPoP-bound token (a new proof per send: \`jti\`, \`htm\`, \`htu\`, \`iat\`, the
API's nonce, \`ath\` hashed once per token) against bare \`fetch\` signing one ES256 proof per call with
the same non-extractable key, the same nonce and an \`ath\` hashed once, to the same in-process
server: ${rounds} interleaved rounds of ${requestsPerRound} sequential requests each.

${table(
  ['contender', 'µs per request: median (p25–p75, min–max of rounds)'],
  [
    [
      'bare fetch + one ES256 proof',
      `${bare.median.toFixed(0)} (${bare.p25.toFixed(0)}–${bare.p75.toFixed(0)}, ${bare.min.toFixed(0)}–${bare.max.toFixed(0)})`,
    ],
    [
      'auth.fetch with dpop',
      `${tf.median.toFixed(0)} (${tf.p25.toFixed(0)}–${tf.p75.toFixed(0)}, ${tf.min.toFixed(0)}–${tf.max.toFixed(0)})`,
    ],
  ],
)}

Ratio of medians **${ratio.toFixed(3)}**; ratio per interleaved pair of rounds: median ${pairRatios.median.toFixed(3)}, p25–p75 ${pairRatios.p25.toFixed(3)}–${pairRatios.p75.toFixed(3)}.
`);
  }

  parts.push(`## Targets

${targets().join('\n')}
`);
  return parts.join('\n');
}

function targets(): string[] {
  const lines: string[] = [];
  const hot = results.hot;
  if (hot !== undefined) {
    const bare = hot.ratios[`${TF} / ${BARE}`]!.median;
    const alt = hot.ratios[`${TF} / ${ALT}`]!.median;
    const sameHeader = hot.ratios[`${TF} / ${STATIC}`]!.median;
    lines.push(
      `- Hot path within 3% of bare axios: **${bare <= 1.03 ? 'met' : 'not met'}** (${percent(bare)}; ${percent(sameHeader)} over bare axios sending the same static header, and the header alone costs axios ${percent(hot.ratios[`${STATIC} / ${BARE}`]!.median)}).`,
    );
    lines.push(`- Hot path not slower than the alternative: **${alt <= 1 ? 'met' : 'not met'}** (${percent(alt)}).`);
  }
  const amp = results.amplification?.find((r) => r.approach === 'tokenflight');
  if (amp !== undefined)
    lines.push(
      `- One token request for 1,000 concurrent 401s: **${amp.tokenRequests === '1' ? 'met' : 'not met'}** (${amp.tokenRequests} in each of ${amp.repetitions} runs; ${amp.failed} failed).`,
    );
  const proactive = results.latency?.rows[0];
  if (proactive !== undefined)
    lines.push(
      `- No request waits on the token endpoint (proactive refresh): **${proactive.waitedOnTokenEndpoint === 0 ? 'met' : 'not met'}** (${proactive.waitedOnTokenEndpoint} of ${proactive.requests} waited).`,
    );
  const redis = results.fleet?.rows.filter((r) => r.store === 'Redis');
  if (redis !== undefined && redis.length > 0)
    lines.push(
      `- One token request per rotation per fleet with Redis: **${redis.every((r) => r.perRotation <= 1) ? 'met' : 'not met'}** (${redis.map((r) => `${r.processes}: ${r.perRotation.toFixed(2)}`).join(', ')}).`,
    );
  const rotating = results.refresh?.rows.filter((r) => r.approach.startsWith('tokenflight'));
  if (rotating !== undefined && rotating.length > 0)
    lines.push(
      `- Each refresh token used at most once across a fleet: **${rotating.every((r) => r.usesPerRotation <= 1 && r.reuseDetections === 0 && r.failed === 0) ? 'met' : 'not met'}** (${rotating.map((r) => `${r.processes} processes: ${r.usesPerRotation.toFixed(2)} uses per rotation, ${r.reuseDetections} reuses, ${r.failed} failed`).join('; ')}).`,
    );
  if (results.dpop !== undefined) {
    lines.push(
      `- A DPoP request within 1.10× of bare fetch signing one ES256 proof per call: **${results.dpop.ratio <= 1.1 ? 'met' : 'not met'}** (${results.dpop.ratio.toFixed(3)}×).`,
    );
  }
  const fetchResult = results.fetch;
  if (fetchResult !== undefined) {
    lines.push(
      `- auth.fetch within 3% of bare fetch with the same header: **${fetchResult.hot.ratio <= 1.03 ? 'met' : 'not met'}** (${percent(fetchResult.hot.ratio)}).`,
    );
    lines.push(
      `- auth.fetch, one token request and no failure for 1,000 concurrent calls after a revocation: **${fetchResult.tokenflight.tokenRequests === 1 && fetchResult.tokenflight.failures === 0 ? 'met' : 'not met'}** (${fetchResult.tokenflight.tokenRequests} token request, ${fetchResult.tokenflight.failures} failed).`,
    );
  }
  const heap = results.scale?.heap;
  if (heap !== undefined) {
    const first = heap.checkpoints[1]?.[1] ?? 0;
    const growth = heap.checkpoints.at(-1)![1] - first;
    lines.push(
      `- Heap flat over ${fixed(heap.total)} requests: **${growth < 1 ? 'met' : 'not met'}** (${growth.toFixed(2)} MiB from the first checkpoint to the last).`,
    );
  }
  return lines;
}
