/**
 * Benchmark 5, memory: heap after every 100,000 of 1,000,000 requests through tokenflight (a
 * full GC before each reading), and the heap that attaching 1, 10 and 1,000 providers costs.
 * Run in its own process with --expose-gc: `node --expose-gc --import tsx bench/heap.ts`.
 * Prints one JSON line.
 */
import { tokenflight } from './hot-path.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const collect = gc;

function heapMiB(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed / 1_048_576;
}

const total = Number(process.argv[2] ?? 1_000_000);
const every = total / 10;
const batch = 100;

const attachCost: Record<string, number> = {};
for (const providers of [1, 10, 1_000]) {
  const before = heapMiB();
  const variants = [];
  for (let i = 0; i < 10; i++) variants.push(await tokenflight(providers - 1));
  attachCost[String(providers)] = ((heapMiB() - before) / 10) * 1024; // KiB per attached instance
  variants.length = 0;
}

const variant = await tokenflight();
const checkpoints: [number, number][] = [[0, heapMiB()]];
const started = performance.now();
for (let done = 0; done < total; done += batch) {
  await Promise.all(Array.from({ length: batch }, () => variant.request()));
  if ((done + batch) % every === 0) checkpoints.push([done + batch, heapMiB()]);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ total, seconds, checkpoints, attachCostKiB: attachCost }));
