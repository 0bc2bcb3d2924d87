/** Stops the `redis-server` the global setup (`redis-server.ts`) started. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.tokenflightTestRedis?.stop();
  globalThis.tokenflightTestRedis = undefined;
}
