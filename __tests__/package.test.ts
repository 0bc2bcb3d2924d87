import { beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProviderServer } from '../lib/testing/index.js';
import { installInto, pack } from '../scripts/lib/tarball.js';

// The packed tarball, installed into a scratch app the way a user installs it. `npm test` builds
// dist/ first; this suite checks what ships, not the sources.
const root = process.cwd();

let app: string;
let files: string[];

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 60_000 });
}

describe('the packed package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.cjs')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
    app = mkdtempSync(join(tmpdir(), 'tokenflight-app-'));
    const packed = pack(app);
    files = packed.files;
    installInto(app, packed.tarball, ['axios', 'ioredis']);
  }, 180_000);

  test('ships the builds, their declarations, the README and the licence, and nothing else', () => {
    expect(files.filter((file) => !file.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    for (const entry of ['index', 'fetch', 'testing', 'redis', 'browser']) {
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) expect(files).toContain(`dist/${entry}${ext}`);
    }
    expect(files).toContain('dist/cli.js');
  });

  test('`npx tokenflight token symbl --base-url …` prints a token from the simulation', async () => {
    const server = await startProviderServer('symbl');
    try {
      const { stdout } = await promisify(execFile)(
        'npx',
        ['--no', 'tokenflight', 'token', 'symbl', '--base-url', server.url],
        {
          cwd: app,
          timeout: 60_000,
          env: {
            ...process.env,
            SYMBL_APP_ID: server.credentials['appId'],
            SYMBL_APP_SECRET: server.credentials['appSecret'],
          },
        },
      );
      expect(server.tokens.map((token) => token.accessToken)).toEqual([stdout.trim()]);
    } finally {
      await server.close();
    }
  });

  test('require() loads it without Node’s require-of-ESM', () => {
    const out = node([
      '--no-experimental-require-module',
      '-e',
      "const t = require('tokenflight'); const k = require('tokenflight/testing'); const r = require('tokenflight/redis'); const b = require('tokenflight/browser'); console.log(typeof t.attachTokenAuth, typeof t.symbl, typeof k.startSimulation, typeof r.RedisTokenStore, typeof b.BrowserTokenStore)",
    ]);
    expect(out.trim()).toBe('function function function function function');
  });

  test('import loads the ES module build', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "import { attachTokenAuth, TokenRequestError } from 'tokenflight'; import { startSimulation } from 'tokenflight/testing'; import { RedisTokenStore } from 'tokenflight/redis'; import { BrowserTokenStore } from 'tokenflight/browser'; console.log(typeof attachTokenAuth, typeof TokenRequestError, typeof startSimulation, typeof RedisTokenStore, typeof BrowserTokenStore)",
    ]);
    expect(out.trim()).toBe('function function function function function');
  });

  test('startAuthorizationServer() names its optional peer when it is not installed, from require() and import', () => {
    // The scratch app has axios and ioredis only: optional peers are not installed with the package.
    const report = '(error) => console.log(error.message)';
    const required = node([
      '--no-experimental-require-module',
      '-e',
      `require('tokenflight/testing').startAuthorizationServer().then(() => console.log('started'), ${report})`,
    ]);
    const imported = node([
      '--input-type=module',
      '-e',
      `import { startAuthorizationServer } from 'tokenflight/testing'; await startAuthorizationServer().then(() => console.log('started'), ${report});`,
    ]);
    for (const out of [required, imported]) {
      expect(out.trim()).toBe(
        'startAuthorizationServer() needs @node-oauth/oauth2-server, an optional peer dependency of tokenflight: npm install --save-dev @node-oauth/oauth2-server@5',
      );
    }
  });

  test('the CommonJS build works end to end: one token request for many requests, a replay after a revocation', () => {
    const script = `
      const axios = require('axios');
      const { attachTokenAuth } = require('tokenflight');
      const { startSimulation, simulatedProvider } = require('tokenflight/testing');
      (async () => {
        const sim = await startSimulation();
        const api = axios.create({ baseURL: sim.symbl.url });
        const auth = attachTokenAuth(api, { providers: simulatedProvider(sim.symbl) });
        await Promise.all(Array.from({ length: 20 }, () => api.get('/api/x')));
        sim.symbl.revokeAll();
        await Promise.all(Array.from({ length: 20 }, () => api.get('/api/y')));
        console.log(JSON.stringify(sim.symbl.stats));
        auth.eject();
        await sim.close();
      })();
    `;
    const stats = JSON.parse(node(['--no-experimental-require-module', '-e', script])) as Record<string, number>;
    expect(stats).toMatchObject({ tokenRequests: 2, apiSucceeded: 40, apiUnauthorized: 20 });
  });
});
