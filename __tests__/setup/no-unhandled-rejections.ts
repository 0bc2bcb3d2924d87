import { afterAll, afterEach } from '@jest/globals';

// tokenflight promises never to leave a rejection unhandled (background refreshes, abandoned
// waits, ejected flights). Any unhandled rejection during a test fails that test.
const unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', record);

afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  const seen = unhandled.splice(0);
  if (seen.length > 0) throw new Error(`unhandled rejection during the test: ${String(seen[0])}`);
});

afterAll(() => {
  process.off('unhandledRejection', record);
});
