// Run as a child process with --expose-gc (see failure-bounds-heap.test.ts): 100,000 distinct
// credential sets (one store key each) write a 1 KiB token that lives 1 s into one
// MemoryTokenStore, on a synthetic clock that moves 1 ms per set, the way the token managers of
// short-lived handles do. Nothing reads them again. Prints the heap after a full GC at
// checkpoints, and the entries held at the end, as one JSON line.
import { randomBytes } from 'node:crypto';
import { MemoryTokenStore } from '../../lib/stores/memory.js';

const SETS = Number(process.argv[2] ?? 100_000);
const CHECKPOINTS = [10_000, 25_000, 50_000, 75_000, 100_000].filter((at) => at <= SETS);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

async function main(): Promise<void> {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const store = new MemoryTokenStore({ now: () => clock.now });
  const heapUsed: Record<number, number> = {};
  for (let set = 1; set <= SETS; set++) {
    clock.now += 1;
    await store.set(`credentials-${set}`, {
      accessToken: randomBytes(768).toString('base64url'),
      tokenType: 'Bearer',
      expiresAt: clock.now + 1_000,
      obtainedAt: clock.now,
    });
    if (CHECKPOINTS.includes(set)) {
      gc?.();
      heapUsed[set] = process.memoryUsage().heapUsed;
    }
  }
  console.log(JSON.stringify({ heapUsed, entries: store.size }));
}

void main();
