import { describe, expect, test } from '@jest/globals';
import { build } from 'esbuild';
import { join } from 'node:path';

// DPoP is given by the OAuth grants (lib/providers/oauth-client.ts hands the endpoint its binding
// factory), and a handle's nonces are made when a DPoP provider first needs them: an application
// whose providers cannot do DPoP bundles none of its code. What each scenario loads, from lib/.

const root = join(__dirname, '..', '..');
const DPOP = /^lib\/(core\/dpop|oauth\/dpop-[a-z]+|oauth\/www-authenticate|providers\/token-request\/dpop)\.ts$/;

async function inputsOf(source: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    external: ['axios'],
    logLevel: 'silent',
    outdir: 'out',
  });
  // Inputs that put bytes in the output (a module parsed and then shaken out adds none).
  return Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path),
  );
}

describe('DPoP code is bundled only by what can use it', () => {
  test.each([
    ['attachTokenAuth + customProvider', "export { attachTokenAuth, customProvider } from './lib/index.ts';"],
    ['attachTokenAuth + symbl', "export { attachTokenAuth, symbl } from './lib/index.ts';"],
    ['createTokenFetch + customProvider', "export { createTokenFetch, customProvider } from './lib/fetch.ts';"],
  ])('%s: no DPoP module', async (_name, source) => {
    const inputs = await inputsOf(source);
    expect(inputs).toContain('lib/core/routing.ts');
    expect(inputs.filter((input) => DPOP.test(input))).toEqual([]);
  });

  test.each([
    ['clientCredentials', "export { createTokenFetch, clientCredentials } from './lib/fetch.ts';"],
    ['refreshTokenGrant', "export { attachTokenAuth, refreshTokenGrant } from './lib/index.ts';"],
  ])('%s brings its binding, nonces, proofs and token endpoint outcome', async (_name, source) => {
    const inputs = await inputsOf(source);
    expect(inputs).toEqual(
      expect.arrayContaining([
        'lib/core/dpop.ts',
        'lib/oauth/dpop-nonce.ts',
        'lib/oauth/dpop-proof.ts',
        'lib/providers/token-request/dpop.ts',
      ]),
    );
  });
});
