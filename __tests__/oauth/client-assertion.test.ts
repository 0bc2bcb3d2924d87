import { createHmac, createPublicKey, verify } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import {
  ASSERTION_LIFETIME_SECONDS,
  CLIENT_ASSERTION_TYPE,
  assertionAudience,
  clientAssertionFields,
  createClientAssertion,
} from '../../lib/oauth/client-assertion.js';
import { readPrivateKey, secretSigningKey } from '../../lib/oauth/private-key.js';
import { makeClientKeys } from './helpers/client-keys.js';
import { claimsOf, headerOf } from './helpers/dpop-send.js';

const NOW = 1_700_000_000_999;
const keys = makeClientKeys();
const fixed = { now: () => NOW, randomBytes: (length: number) => new Uint8Array(length).fill(7) };

describe('createClientAssertion', () => {
  test('an assertion claims iss and sub = the client, aud, a jti, iat and a short exp, and names alg and kid', async () => {
    const key = readPrivateKey({ privateKey: keys.ec.pem, keyId: 'k1' }, 'test()');
    const assertion = await createClientAssertion(
      { clientId: 'client-1', audience: 'https://as.example.com', key },
      fixed,
    );
    expect(headerOf(assertion)).toEqual({ alg: 'ES256', kid: 'k1' });
    const iat = Math.floor(NOW / 1000);
    expect(claimsOf(assertion)).toEqual({
      iss: 'client-1',
      sub: 'client-1',
      aud: 'https://as.example.com',
      jti: Buffer.alloc(16, 7).toString('base64url'),
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
    });
    expect(ASSERTION_LIFETIME_SECONDS).toBeLessThanOrEqual(300);
    const [header, payload, signature] = assertion.split('.') as [string, string, string];
    const publicKey = createPublicKey({ key: keys.ec.publicJwk as never, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  test('an assertion without a key ID has no kid', async () => {
    const assertion = await createClientAssertion(
      { clientId: 'c', audience: 'a', key: readPrivateKey({ privateKey: keys.ed.pem }, 'test()') },
      fixed,
    );
    expect(headerOf(assertion)).toEqual({ alg: 'EdDSA' });
  });

  test('a client_secret_jwt assertion is an HS256 MAC with the client secret', async () => {
    const secret = 'a-client-secret-of-more-than-thirty-two-bytes';
    const assertion = await createClientAssertion(
      { clientId: 'c', audience: 'a', key: secretSigningKey(secret) },
      fixed,
    );
    const [header, payload, signature] = assertion.split('.') as [string, string, string];
    expect(headerOf(assertion)).toEqual({ alg: 'HS256' });
    expect(signature).toBe(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'));
  });
});

test('the form fields name the client, the assertion type of RFC 7523 and a new assertion each time', async () => {
  const key = secretSigningKey('a-client-secret-of-more-than-thirty-two-bytes');
  const request = { clientId: 'client-1', audience: 'https://as.example.com', key };
  const first = await clientAssertionFields(request, {
    now: Date.now,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
  });
  const second = await clientAssertionFields(request, {
    now: Date.now,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
  });
  expect(first).toEqual({
    client_id: 'client-1',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: expect.any(String),
  });
  expect(CLIENT_ASSERTION_TYPE).toBe(first.client_assertion_type);
  expect(claimsOf(first.client_assertion)['jti']).not.toBe(claimsOf(second.client_assertion)['jti']);
});

test('the audience is the issuer when discovery found it, else the token endpoint', () => {
  expect(assertionAudience({ issuer: 'https://as.example.com', tokenEndpoint: 'https://as.example.com/token' })).toBe(
    'https://as.example.com',
  );
  expect(assertionAudience({ issuer: undefined, tokenEndpoint: 'https://as.example.com/token' })).toBe(
    'https://as.example.com/token',
  );
  expect(assertionAudience({ tokenEndpoint: 'https://as.example.com/token' })).toBe('https://as.example.com/token');
});
