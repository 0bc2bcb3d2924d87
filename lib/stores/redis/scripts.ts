import { createHash } from 'node:crypto';

/** A Lua script, sent by its SHA-1 (EVALSHA) and by its source when Redis does not have it yet. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Each script touches one key, so they run on Redis Cluster without hash tags.

/** Newer wins: replaces the entry only with a token that expires later (null = never), or as late but obtained later. */
export const SET_IF_NEWER = lua(`
local current = redis.call('GET', KEYS[1])
if current then
  local ok, entry = pcall(cjson.decode, current)
  if ok and type(entry) == 'table' and type(entry.obtainedAt) == 'number' then
    local held = entry.expiresAt
    if type(held) ~= 'number' then held = math.huge end
    local offered = tonumber(ARGV[2])
    if offered < 0 then offered = math.huge end
    local obtained = tonumber(ARGV[3])
    if not (offered > held or (offered == held and obtained > entry.obtainedAt)) then
      return current
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return ARGV[1]
`);

/** Compare-and-delete of a token entry, by the SHA-256 of its token (stored beside it in clear). */
export const DELETE_IF_TOKEN = lua(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, entry = pcall(cjson.decode, current)
if ok and type(entry) == 'table' and entry.fp == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** Extends a lock's time to live, if its owner still holds it. */
export const RENEW_IF_OWNER = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Compare-and-delete of a lock, by its owner id (redis.io, "Distributed locks with Redis"). */
export const RELEASE_IF_OWNER = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);
