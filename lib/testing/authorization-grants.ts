import { randomBytes } from 'node:crypto';
import type OAuth2Server from '@node-oauth/oauth2-server';
import type { AuthorizationServerClient, AuthorizationServerStats, RefreshTokenFamily } from './authorization-types.js';

// The authorization server's grants: refresh-token families, the tokens issued from them, the
// counters, and the in-memory model @node-oauth/oauth2-server reads and writes them through.

/** The settings the server changes while it runs (see the `set…` controls of the server). */
export interface AuthorizationTunables {
  accessTokenLifetimeSeconds: number;
  readonly refreshTokenLifetimeSeconds: number;
  tokenLatencyMs: number;
  tokenAnswerDelayMs: number;
  apiLatencyMs: number;
  answersToDrop: number;
}

interface Family {
  readonly id: string;
  readonly clientId: string;
  revoked: boolean;
  rotations: number;
  current: string;
}

interface RefreshRecord {
  readonly family: Family;
  readonly scope: string[] | undefined;
  readonly expiresAt: Date;
  used: boolean;
}

interface AccessRecord {
  readonly family: Family;
  readonly clientId: string;
  readonly scope: string[] | undefined;
  readonly expiresAt: Date;
  revoked: boolean;
}

/** What the model hands the library as the token's `user`: it carries the family across a rotation. */
interface GrantUser {
  readonly id: string;
  readonly familyId: string;
}

/** Every grant the server issued, and the controls over them. */
export interface GrantRegistry {
  readonly stats: AuthorizationServerStats;
  readonly model: OAuth2Server.RefreshTokenModel;
  resetStats(): void;
  issueRefreshToken(clientId: string, scope: string | undefined): string;
  familyOf(refreshToken: string): RefreshTokenFamily | undefined;
  families(): RefreshTokenFamily[];
  revokeAccessTokens(): void;
  revokeFamily(refreshToken: string): void;
}

interface Grants {
  readonly clients: readonly AuthorizationServerClient[];
  readonly tunables: AuthorizationTunables;
  readonly stats: AuthorizationServerStats;
  readonly familiesById: Map<string, Family>;
  readonly refreshTokens: Map<string, RefreshRecord>;
  readonly accessTokens: Map<string, AccessRecord>;
  revoke(family: Family): void;
}

const ZERO_STATS: AuthorizationServerStats = {
  refreshRequests: 0,
  refreshTokenUses: 0,
  rotations: 0,
  reuseDetections: 0,
  revokedFamilies: 0,
  droppedAnswers: 0,
  apiRequests: 0,
  apiSucceeded: 0,
  apiUnauthorized: 0,
};

/** A random opaque token, as the server issues them. */
export const opaqueToken = (): string => randomBytes(32).toString('base64url');

const userOf = (family: Family): GrantUser => ({ id: `user-of-${family.id}`, familyId: family.id });

const snapshot = (family: Family): RefreshTokenFamily => ({
  id: family.id,
  clientId: family.clientId,
  revoked: family.revoked,
  rotations: family.rotations,
  currentRefreshToken: family.current,
});

/** The grants of one server, empty. */
export function createGrantRegistry(
  clients: readonly AuthorizationServerClient[],
  tunables: AuthorizationTunables,
): GrantRegistry {
  const stats: AuthorizationServerStats = { ...ZERO_STATS };
  const families: Family[] = [];
  const grants: Grants = {
    clients,
    tunables,
    stats,
    familiesById: new Map(),
    refreshTokens: new Map(),
    accessTokens: new Map(),
    revoke(family) {
      if (family.revoked) return;
      family.revoked = true;
      stats.revokedFamilies++;
    },
  };
  const { refreshTokens } = grants;
  return {
    stats,
    model: createModel(grants),
    resetStats: () => void Object.assign(stats, ZERO_STATS),
    issueRefreshToken(clientId, scope) {
      const refreshToken = opaqueToken();
      const id = randomBytes(8).toString('hex');
      const family: Family = { id, clientId, revoked: false, rotations: 0, current: refreshToken };
      families.push(family);
      grants.familiesById.set(family.id, family);
      refreshTokens.set(refreshToken, {
        family,
        scope: scope === undefined ? undefined : scope.split(' ').filter((part) => part !== ''),
        expiresAt: new Date(Date.now() + tunables.refreshTokenLifetimeSeconds * 1000),
        used: false,
      });
      return refreshToken;
    },
    familyOf(refreshToken) {
      const family = refreshTokens.get(refreshToken)?.family;
      return family === undefined ? undefined : snapshot(family);
    },
    families: () => families.map(snapshot),
    revokeAccessTokens: () => grants.accessTokens.forEach((record) => (record.revoked = true)),
    revokeFamily(refreshToken) {
      const family = refreshTokens.get(refreshToken)?.family;
      if (family !== undefined) grants.revoke(family);
    },
  };
}

// The model's checks and updates are synchronous, so the event loop orders concurrent refreshes:
// the first to reach revokeToken() uses the token up, every later one is a reuse.
function createModel(grants: Grants): OAuth2Server.RefreshTokenModel {
  const { stats, refreshTokens, accessTokens } = grants;
  return {
    getClient: (clientId, clientSecret) => {
      const client = grants.clients.find((candidate) => candidate.clientId === clientId);
      const given = clientSecret === '' ? undefined : clientSecret;
      if (client === undefined || given !== client.clientSecret) return Promise.resolve(false);
      return Promise.resolve({ id: client.clientId, grants: ['refresh_token'] });
    },
    getRefreshToken: (refreshToken) => {
      stats.refreshTokenUses++;
      const record = refreshTokens.get(refreshToken);
      if (record === undefined) return Promise.resolve(false);
      if (record.used) {
        stats.reuseDetections++;
        grants.revoke(record.family);
      }
      if (record.used || record.family.revoked) return Promise.resolve(false);
      return Promise.resolve({
        refreshToken,
        refreshTokenExpiresAt: record.expiresAt,
        ...(record.scope === undefined ? {} : { scope: record.scope }),
        client: { id: record.family.clientId, grants: ['refresh_token'] },
        user: userOf(record.family),
      });
    },
    revokeToken: (token) => {
      const record = refreshTokens.get(token.refreshToken);
      if (record === undefined) return Promise.resolve(false);
      if (record.used) {
        // Another request used it since getRefreshToken() looked: a concurrent reuse.
        stats.reuseDetections++;
        grants.revoke(record.family);
        return Promise.resolve(false);
      }
      record.used = true;
      return Promise.resolve(!record.family.revoked);
    },
    saveToken: (token, client, user) => Promise.resolve(saveToken(grants, token, client, user as GrantUser)),
    getAccessToken: (accessToken) => {
      const record = accessTokens.get(accessToken);
      if (record === undefined || record.revoked || record.family.revoked) return Promise.resolve(false);
      return Promise.resolve({
        accessToken,
        accessTokenExpiresAt: record.expiresAt,
        ...(record.scope === undefined ? {} : { scope: record.scope }),
        client: { id: record.clientId, grants: ['refresh_token'] },
        user: userOf(record.family),
      });
    },
  };
}

function saveToken(
  grants: Grants,
  token: OAuth2Server.Token,
  client: OAuth2Server.Client,
  user: GrantUser,
): OAuth2Server.Token | false {
  const family = grants.familiesById.get(user.familyId);
  if (family === undefined) return false;
  const { scope } = token;
  const { accessTokenLifetimeSeconds, refreshTokenLifetimeSeconds } = grants.tunables;
  const expiresAt = new Date(Date.now() + accessTokenLifetimeSeconds * 1000);
  grants.accessTokens.set(token.accessToken, { family, clientId: client.id, scope, expiresAt, revoked: false });
  // Without rotation (`rotateRefreshTokens: false`) the library issues no refresh token: the old one stays.
  if (token.refreshToken !== undefined) {
    grants.refreshTokens.set(token.refreshToken, {
      family,
      scope,
      expiresAt: token.refreshTokenExpiresAt ?? new Date(Date.now() + refreshTokenLifetimeSeconds * 1000),
      used: false,
    });
    family.current = token.refreshToken;
    family.rotations++;
    grants.stats.rotations++;
  }
  return { ...token, accessTokenExpiresAt: expiresAt, client, user };
}
