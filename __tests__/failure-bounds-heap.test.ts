import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, 'helpers/memory-churn.ts');
const MiB = 1024 * 1024;

// Before, MemoryTokenStore kept every entry until its own key was read again,
// so this run held all 100,000 tokens (about 100 MiB) at the end.
describe('memory held for expired tokens and unused providers stays bounded', () => {
  test('the heap stays flat over 100,000 distinct short-lived credential sets in one MemoryTokenStore', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, '100000'], {
      cwd: resolve(__dirname, '..'),
      timeout: 60_000,
    });
    const { heapUsed, entries } = JSON.parse(stdout) as { heapUsed: Record<string, number>; entries: number };
    const figures = Object.entries(heapUsed).map(([sets, bytes]) => `${sets}: ${(bytes / MiB).toFixed(1)} MiB`);
    console.log(`heap after a full GC, by credential sets written: ${figures.join(', ')}; entries held: ${entries}`);
    const values = Object.values(heapUsed);
    expect(values).toHaveLength(5);
    expect(Math.max(...values) - Math.min(...values)).toBeLessThan(4 * MiB);
    expect(entries).toBeLessThanOrEqual(10_000);
  }, 60_000);
});
