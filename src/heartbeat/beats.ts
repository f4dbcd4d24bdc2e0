// The heartbeat's Redis key layout and its beat plan for the sweep: every workspace's keys live in one
// of `BEAT_PARTITIONS` hash-tag partitions, and each partition keeps a sorted set of its workspaces'
// next beats. One script call per partition then ticks every clean workspace that is due (the
// design's dirty-set sweep), instead of one BullMQ scheduler job per workspace.
import { createHash } from 'node:crypto';
import { TIMELINE_LUA } from './timeline.js';

/**
 * Fixed: a workspace's keys are named by its partition, so changing this is a key-layout change
 * (the first start after it restores from Postgres). 16 slots spread over a cluster's masters.
 */
export const BEAT_PARTITIONS = 16;

export type WorkspaceKeyKind = 'state' | 'lock' | 'news';

export function beatPartition(workspaceId: string): number {
  return createHash('sha1').update(workspaceId).digest().readUInt32BE(4) % BEAT_PARTITIONS;
}

/** The common start of a partition's keys; its `{pN}` is the hash tag (one slot on a Redis Cluster). */
export function partitionBase(prefix: string, partition: number): string {
  return `${prefix}:hb:{p${partition}}:`;
}

/**
 * A workspace's heartbeat keys: `state` (dirty, seen, due, interval, its counters and the timeline's
 * ring), `lock`, and the timeline's `news`. Kind before id, so no workspace id can name another's key.
 */
export function workspaceKey(prefix: string, workspaceId: string, kind: WorkspaceKeyKind = 'state'): string {
  return `${partitionBase(prefix, beatPartition(workspaceId))}${kind}:${workspaceId}`;
}

/** The partition's sorted set: workspace id → the time (ms) its next beat is due. */
export function beatsKey(prefix: string, partition: number): string {
  return `${partitionBase(prefix, partition)}beats`;
}

/** SCAN patterns and the parser for a kind of key, whatever its partition (tests and tools). */
export function workspaceKeyPattern(prefix: string, kind: WorkspaceKeyKind): string {
  return `${prefix}:hb:{p*}:${kind}:*`;
}

export function workspaceOfKey(prefix: string, kind: WorkspaceKeyKind, key: string): string | undefined {
  const m = new RegExp(`^${escape(prefix)}:hb:\\{p\\d+\\}:${kind}:(.+)$`).exec(key);
  return m?.[1];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where in each interval the workspace's beats fall: spread by id, so beats do not bunch up. */
export function beatPhase(workspaceId: string, intervalMs: number): number {
  return createHash('sha1').update(workspaceId).digest().readUInt32BE(0) % intervalMs;
}

/** The first beat at or after `now` on the workspace's phase (where BullMQ's `offset` puts them too). */
export function firstBeat(workspaceId: string, intervalMs: number, now: number): number {
  const base = now - (now % intervalMs) + beatPhase(workspaceId, intervalMs);
  return base >= now ? base : base + intervalMs;
}

/**
 * KEYS: the partition's beats, the workspace's state. ARGV: workspace id, interval ms, first beat ms.
 * Keeps the next beat it has when the interval is unchanged (schedule() is repeated freely).
 */
export const PLAN_LUA = `
local before = tonumber(redis.call('HGET', KEYS[2], 'every') or '0')
redis.call('HSET', KEYS[2], 'every', ARGV[2])
if before == tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
`;

/** KEYS: the partition's beats, the workspace's state. ARGV: workspace id. */
export const UNPLAN_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], 'every')
`;

/**
 * KEYS: the partition's beats.
 * ARGV: the partition's key base, now ms (the beats' clock), the tick clock's now ms (for `due`),
 * the tick clock's minute, the most workspaces to take.
 *
 * Every workspace whose beat is due moves to its next beat on its own phase (beats missed while no
 * process swept are skipped, not bunched). A clean one ticks here exactly as CLAIM's quiet path
 * does (ticks, quiet, the timeline's beat, the finished slot); a dirty or due one is returned with
 * its slot, for a tick job that claims it. A slot already finished (a tick job ran it) is passed by.
 * A field that is not a number counts as unset, so one damaged hash cannot stop its partition's sweep.
 * Returns {quiet count, {id, slot, …} for the tick jobs, {lateness ms of each quiet tick}, taken,
 * the partition's next beat ms or '-1' when it has none}.
 */
export const SWEEP_LUA = `${TIMELINE_LUA}
local base, now, clockNow, minute = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[5]))
local quiet, jobs, late = 0, {}, {}
for i = 1, #taken, 2 do
  local id, slot = taken[i], tonumber(taken[i + 1])
  local state = base .. 'state:' .. id
  local m = redis.call('HMGET', state, 'every', 'dirty', 'seen', 'due', 'slot')
  local every = tonumber(m[1] or '0') or 0
  if every <= 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], slot + every * (math.floor((now - slot) / every) + 1), id)
    if slot > (tonumber(m[5] or '0') or 0) then
      local dirty = (tonumber(m[2] or '0') or 0) > (tonumber(m[3] or '0') or 0)
      local isDue = m[4] and (tonumber(m[4]) or math.huge) <= clockNow
      if dirty or isDue then
        jobs[#jobs + 1] = id
        jobs[#jobs + 1] = tostring(slot)
      else
        redis.call('HINCRBY', state, 'ticks', 1)
        beat(state, minute)
        redis.call('HINCRBY', state, 'quiet', 1)
        redis.call('HSET', state, 'slot', slot)
        quiet = quiet + 1
        late[#late + 1] = now - slot
      end
    end
  end
end
local nextBeat = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {quiet, jobs, late, #taken / 2, nextBeat[2] or '-1'}
`;
