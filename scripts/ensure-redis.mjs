#!/usr/bin/env node
// Makes sure `redis-server` is on PATH for the Redis test suites.
// - Already there: says so and exits 0.
// - Missing, running as root with apt-get: says so on one line, then
//   `apt-get update && apt-get install -y redis-server` (each command printed before it runs).
// - Otherwise: prints how to install it. Exits 1 under CI=true (the Redis suites must run there),
//   0 elsewhere (the suites are then skipped, with a notice).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(name) {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    try {
      accessSync(join(directory, name), constants.X_OK);
      return join(directory, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(command, args) {
  console.log(`[ensure-redis] ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

const found = onPath('redis-server');
if (found !== undefined) {
  console.log(`[ensure-redis] redis-server found: ${found}`);
  process.exit(0);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && onPath('apt-get') !== undefined) {
  console.log(
    '[ensure-redis] redis-server is not on PATH: installing it with apt-get, as root (the Redis suites need it; ' +
      'install it yourself beforehand to skip this)',
  );
  if (run('apt-get', ['update']) && run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'])) {
    const installed = onPath('redis-server');
    if (installed !== undefined) {
      console.log(`[ensure-redis] redis-server installed: ${installed}`);
      process.exit(0);
    }
  }
  console.error('[ensure-redis] installing redis-server with apt-get failed');
} else {
  console.error(
    '[ensure-redis] redis-server is not on PATH. Install it to run the Redis suites: ' +
      '`sudo apt-get install redis-server` (Debian/Ubuntu), `brew install redis` (macOS), ' +
      'or any Redis 6.2+ whose `redis-server` binary is on PATH.',
  );
}
process.exit(process.env.CI === 'true' ? 1 : 0);
