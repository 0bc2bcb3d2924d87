import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** One test client key, in every form `privateKey` takes, and its public JWK for the server. */
export interface ClientKey {
  kid: string;
  pem: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
  keyObject: KeyObject;
}

function clientKey(kid: string, pair: { privateKey: KeyObject; publicKey: KeyObject }): ClientKey {
  return {
    kid,
    pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateJwk: pair.privateKey.export({ format: 'jwk' }),
    publicJwk: { ...(pair.publicKey.export({ format: 'jwk' }) as JsonWebKey), kid } as JsonWebKey,
    keyObject: pair.privateKey,
  };
}

/** An RSA 2048, an EC P-256 and an Ed25519 key, made with Node's crypto (not the code under test). */
export function makeClientKeys(): { rsa: ClientKey; ec: ClientKey; ed: ClientKey } {
  return {
    rsa: clientKey('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 })),
    ec: clientKey('ec', generateKeyPairSync('ec', { namedCurve: 'P-256' })),
    ed: clientKey('ed', generateKeyPairSync('ed25519')),
  };
}
