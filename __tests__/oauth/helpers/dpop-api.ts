import {
  createHash,
  createPublicKey,
  randomBytes,
  verify,
  constants,
  type JsonWebKey as NodeJwk,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../../../lib/testing/listen.js';

/**
 * A protected API on 127.0.0.1 that checks every DPoP rule itself, with Node's crypto (none of the
 * code under test): the proof's `typ`, `alg`, public `jwk` and signature; `jti` never seen before,
 * `htm`, `htu`, `iat` within a minute, `ath`; its own nonce when it demands one (and rotates it on
 * request); and the access token: a JWT from the issuer's JWKS, for this resource, bound to the
 * proof's key by `cnf.jkt`. Records what it saw.
 */

/** One request as the API judged it. */
export interface SeenRequest {
  method: string;
  path: string;
  jti: string | undefined;
  nonce: string | undefined;
  status: number;
  /** Why it was refused; undefined when it was served. */
  refused: string | undefined;
}

export interface DpopApi {
  url: string;
  seen: SeenRequest[];
  /** Demand the API's own nonce from now on (or stop). */
  demandNonce(on: boolean): void;
  /** Replace the nonce: proofs with the old one are challenged. */
  rotateNonce(): string;
  close(): Promise<void>;
}

const ALGS: Readonly<Record<string, { kty: string; crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const b64 = (bytes: Buffer): string => bytes.toString('base64url');
const json = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

class Refusal extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies a compact JWS with Node's crypto; returns its header and claims. */
function verifyJws(
  jws: string,
  key: KeyObject,
  alg: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, payload, signature] = jws.split('.');
  if (header === undefined || payload === undefined || signature === undefined || jws.split('.').length !== 3) {
    throw new Refusal('invalid_dpop_proof', 'not a compact JWS');
  }
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  const ok =
    alg === 'EdDSA'
      ? verify(null, data, key, sig)
      : alg === 'ES256'
        ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
        : alg === 'PS256'
          ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
          : verify('sha256', data, key, sig);
  if (!ok) throw new Refusal('invalid_dpop_proof', 'bad signature');
  return { header: json(header), claims: json(payload) };
}

/** RFC 7638, written here again so that the test does not trust the code it tests. */
export function thumbprintOf(jwk: Record<string, unknown>): string {
  const names =
    jwk['kty'] === 'EC' ? ['crv', 'kty', 'x', 'y'] : jwk['kty'] === 'OKP' ? ['crv', 'kty', 'x'] : ['e', 'kty', 'n'];
  const canonical = `{${names.map((name) => `"${name}":${JSON.stringify(jwk[name])}`).join(',')}}`;
  return b64(createHash('sha256').update(canonical).digest());
}

export async function startDpopApi(options: { issuer: string; resource: string }): Promise<DpopApi> {
  const seen: SeenRequest[] = [];
  const jtis = new Set<string>();
  let nonce: string | undefined;
  let demand = false;
  const serverKeys = new Map<string, KeyObject>();

  const serverKey = async (kid: unknown): Promise<KeyObject> => {
    if (serverKeys.size === 0) {
      const { keys } = (await (await fetch(`${options.issuer}/jwks`)).json()) as {
        keys: (NodeJwk & { kid: string })[];
      };
      for (const jwk of keys) serverKeys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
    }
    const key = serverKeys.get(kid as string);
    if (key === undefined) throw new Refusal('invalid_token', 'unknown signing key');
    return key;
  };

  const checkProof = (
    req: IncomingMessage,
    url: URL,
    accessToken: string,
  ): { jti: string; nonce: unknown; jkt: string } => {
    const proof = req.headers['dpop'];
    if (typeof proof !== 'string' || proof.includes(','))
      throw new Refusal('invalid_dpop_proof', 'not exactly one DPoP header');
    const head = json(proof.split('.')[0] ?? '');
    const alg = typeof head['alg'] === 'string' ? head['alg'] : '';
    const jwk = head['jwk'] as Record<string, unknown> | null | undefined;
    if (head['typ'] !== 'dpop+jwt') throw new Refusal('invalid_dpop_proof', 'typ');
    const family = ALGS[alg];
    if (family === undefined || typeof jwk !== 'object' || jwk === null)
      throw new Refusal('invalid_dpop_proof', 'alg or jwk');
    if (jwk['kty'] !== family.kty || (family.crv !== undefined && jwk['crv'] !== family.crv))
      throw new Refusal('invalid_dpop_proof', 'alg does not fit jwk');
    if (PRIVATE_MEMBERS.some((member) => member in jwk))
      throw new Refusal('invalid_dpop_proof', 'private member in jwk');
    const { claims } = verifyJws(proof, createPublicKey({ key: jwk as NodeJwk, format: 'jwk' }), alg);
    const jti = claims['jti'];
    if (typeof jti !== 'string' || jti === '') throw new Refusal('invalid_dpop_proof', 'jti');
    if (jtis.has(jti)) throw new Refusal('invalid_dpop_proof', 'jti replayed');
    jtis.add(jti);
    if (claims['htm'] !== req.method) throw new Refusal('invalid_dpop_proof', 'htm');
    if (claims['htu'] !== `${url.origin}${url.pathname}`) throw new Refusal('invalid_dpop_proof', 'htu');
    const iat = claims['iat'];
    if (typeof iat !== 'number' || Math.abs(iat - Date.now() / 1000) > 60)
      throw new Refusal('invalid_dpop_proof', 'iat');
    if (claims['ath'] !== b64(createHash('sha256').update(accessToken).digest()))
      throw new Refusal('invalid_dpop_proof', 'ath');
    return { jti, nonce: claims['nonce'], jkt: thumbprintOf(jwk) };
  };

  const checkToken = async (accessToken: string, jkt: string): Promise<void> => {
    const head = json(accessToken.split('.')[0] ?? '');
    let claims: Record<string, unknown>;
    try {
      ({ claims } = verifyJws(accessToken, await serverKey(head['kid']), String(head['alg'])));
    } catch {
      throw new Refusal('invalid_token', 'access token signature');
    }
    if (claims['iss'] !== options.issuer || claims['aud'] !== options.resource)
      throw new Refusal('invalid_token', 'iss or aud');
    if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 < Date.now())
      throw new Refusal('invalid_token', 'expired');
    if ((claims['cnf'] as { jkt?: unknown } | undefined)?.jkt !== jkt)
      throw new Refusal('invalid_token', 'cnf.jkt does not match the proof key');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const record: SeenRequest = {
      method: req.method ?? '',
      path: url.pathname,
      jti: undefined,
      nonce: undefined,
      status: 200,
      refused: undefined,
    };
    seen.push(record);
    if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce);
    try {
      const [scheme, accessToken] = (req.headers.authorization ?? '').split(' ');
      if (scheme !== 'DPoP' || accessToken === undefined) throw new Refusal('invalid_token', 'no DPoP authorization');
      const proof = checkProof(req, url, accessToken);
      record.jti = proof.jti;
      record.nonce = typeof proof.nonce === 'string' ? proof.nonce : undefined;
      if (demand && proof.nonce !== nonce) throw new Refusal('use_dpop_nonce', 'the API demands its nonce');
      await checkToken(accessToken, proof.jkt);
      if (redirect(url, record, res)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: url.pathname }));
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal('invalid_token', String(error));
      record.status = 401;
      record.refused = refusal.message;
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', `DPoP algs="ES256 EdDSA RS256 PS256", error="${refusal.error}"`);
      res.end();
    }
  };

  const redirect = (url: URL, record: SeenRequest, res: ServerResponse): boolean => {
    const match = /^\/redirect\/(30[12378])\/(.*)$/.exec(url.pathname);
    if (match === null) return false;
    record.status = Number(match[1]);
    if (url.searchParams.has('rotate')) nonce = b64(randomBytes(16));
    res.writeHead(record.status, { location: url.searchParams.get('to') ?? `/${match[2] ?? ''}` });
    res.end();
    return true;
  };

  const server = createServer((req, res) => void handle(req, res));
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    demandNonce(on) {
      demand = on;
      nonce ??= b64(randomBytes(16));
    },
    rotateNonce() {
      nonce = b64(randomBytes(16));
      return nonce;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
