import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npm test`'s pretest (scripts/ensure-redis.mjs) makes sure redis-server is there, and says so
// before it installs anything. apt-get is a fake here: it records its arguments and "installs" a
// redis-server script; nothing is installed on this machine.

function machine(withRedis: boolean): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenflight-ensure-redis-'));
  const log = join(dir, 'apt-get.log');
  const aptGet = join(dir, 'apt-get');
  writeFileSync(
    aptGet,
    `#!/bin/sh\necho "$@" >> "${log}"\nif [ "$1" = install ]; then printf '#!/bin/sh\\n' > "${dir}/redis-server"; /bin/chmod +x "${dir}/redis-server"; fi\n`,
  );
  chmodSync(aptGet, 0o755);
  if (withRedis) {
    writeFileSync(join(dir, 'redis-server'), '#!/bin/sh\n');
    chmodSync(join(dir, 'redis-server'), 0o755);
  }
  return { dir, log };
}

function ensureRedis(dir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(process.cwd(), 'scripts', 'ensure-redis.mjs')], {
    encoding: 'utf8',
    env: { PATH: dir, CI: 'false' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the pretest’s redis-server check', () => {
  test('with redis-server on PATH, it says where and installs nothing', () => {
    const { dir, log } = machine(true);
    const { status, stdout } = ensureRedis(dir);
    expect(status).toBe(0);
    expect(stdout).toBe(`[ensure-redis] redis-server found: ${join(dir, 'redis-server')}\n`);
    expect(existsSync(log)).toBe(false);
  });

  test('without it, it says it is installing with apt-get as root before it runs anything (or, not root, how to install it)', () => {
    const { dir, log } = machine(false);
    const { status, stdout, stderr } = ensureRedis(dir);
    expect(status).toBe(0);
    if (process.getuid?.() === 0) {
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^\[ensure-redis\] redis-server is not on PATH: installing it with apt-get, as root/);
      expect(lines.slice(1, 3)).toEqual([
        '[ensure-redis] apt-get update',
        '[ensure-redis] apt-get install -y --no-install-recommends redis-server',
      ]);
      expect(readFileSync(log, 'utf8')).toBe('update\ninstall -y --no-install-recommends redis-server\n');
    } else {
      expect(stderr).toContain('redis-server is not on PATH. Install it to run the Redis suites');
      expect(existsSync(log)).toBe(false);
    }
  });
});
