import { describe } from '@jest/globals';
import { Redis, type RedisOptions } from 'ioredis';
import { REDIS_PORT_VARIABLE } from './redis-server.js';

/** The port of the redis-server started by the global setup, or undefined when the Redis suites are skipped. */
export const redisPort: number | undefined = process.env[REDIS_PORT_VARIABLE]
  ? Number(process.env[REDIS_PORT_VARIABLE])
  : undefined;

/** `describe` when a redis-server is running for the tests, else `describe.skip` (the global setup said why). */
export const describeRedis: (name: string, suite: () => void) => void =
  redisPort === undefined ? describe.skip : describe;

/** A unique key prefix, so suites sharing one Redis never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `tf-test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;
}

/** Opens ioredis clients and closes them all at the end. */
export function createClients(): { open(port?: number, options?: RedisOptions): Redis; closeAll(): void } {
  const clients: Redis[] = [];
  return {
    open(port = redisPort, options = {}) {
      if (port === undefined) throw new Error('no redis-server for the tests');
      const client = new Redis({ host: '127.0.0.1', port, disconnectTimeout: 200, ...options });
      // Connection errors are expected in the outage tests; ioredis reconnects on its own.
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    closeAll() {
      for (const client of clients.splice(0)) client.disconnect();
    },
  };
}
