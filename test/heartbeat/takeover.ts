// Measures how survivors take over a killed process's ticks, from Redis alone: the tick locks it held
// when it died (found because they are never renewed and run out at their TTL instead of being
// released), and when a survivor's tick for each of those workspaces commits (the workspace's `seen`
// generation moves past the one it had at the kill: signals.ts RELEASE sets it only on commit).
import type { Redis } from 'ioredis';
import { BEAT_PARTITIONS, beatsKey, workspaceKey, workspaceKeyPattern, workspaceOfKey } from '../../src/heartbeat/beats.js';

export interface OrphanedTick {
  workspaceId: string;
  /** When the dead holder's lock ran out (first poll that no longer saw it). */
  lockFreedAt: number;
  /** When a survivor's tick claimed the workspace (its lock seen again, with a new token), if a poll saw it. */
  claimedAt?: number;
  /** When a survivor's tick of the workspace committed (first poll that saw `seen` move on). */
  committedAt: number;
  /**
   * The heartbeat queue's lateness meanwhile (the most, between the lock running out and the claim):
   * how long the oldest tick job waiting in the queue had been due. It is the same for every
   * workspace, orphaned or not: capacity, not take-over.
   */
  queueLatenessMs: number;
}

export interface TakeoverReport {
  /** Tick locks present just after the kill, whoever held them. */
  locksAtKill: number;
  /** Those the killed process held: never renewed, gone when their TTL ran out. */
  orphaned: OrphanedTick[];
}

interface Watched {
  workspaceId: string;
  token: string;
  expiresAt: number;
  lastTtl: number;
  renewed: boolean;
  goneAt?: number;
  claimedAt?: number;
  seenAtKill: number;
  committedAt?: number;
}

/** Workspaces whose tick lock exists now (keys as signals.ts names them, so a new layout follows). */
async function lockedWorkspaces(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', workspaceKeyPattern(prefix, 'lock'), 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const id = workspaceOfKey(prefix, 'lock', key);
      if (id !== undefined) found.push(id);
    }
  } while (cursor !== '0');
  return found;
}

/**
 * How late the heartbeat is running: the oldest beat the sweep has not taken yet, or the oldest
 * waiting tick job, whichever has been due longer (0 when nothing is overdue). BullMQ takes jobs
 * from the right end of the wait list; a beat's job id ends in the time its beat was due.
 */
export async function heartbeatLateness(redis: Redis, prefix: string, now = Date.now()): Promise<number> {
  const oldestBeats = await Promise.all(Array.from({ length: BEAT_PARTITIONS }, (_, p) => redis.zrange(beatsKey(prefix, p), 0, 0, 'WITHSCORES')));
  const sweep = Math.max(0, ...oldestBeats.map(([, score]) => (score === undefined ? 0 : now - Number(score))));
  const id = await redis.lindex(`${prefix}:heartbeat:wait`, -1);
  if (!id) return sweep;
  // A scheduler's job (`repeat:<scheduler>:<slot>`) or a sweep's (`beat.<workspace>.<slot>`).
  const slot = /^(?:repeat:.+:|beat\..+\.)(\d+)$/.exec(id)?.[1];
  if (slot) return Math.max(sweep, now - Number(slot));
  const [timestamp, delay] = await redis.hmget(`${prefix}:heartbeat:${id}`, 'timestamp', 'delay');
  return Math.max(sweep, timestamp ? now - Number(timestamp) - Number(delay ?? 0) : 0);
}

export async function countLocks(redis: Redis, prefix: string): Promise<number> {
  return (await lockedWorkspaces(redis, prefix)).length;
}

/**
 * Call right after the SIGKILL. Polls every `pollMs` until each lock seen at the kill is gone and each
 * orphaned workspace has a committed tick again, or `timeoutMs` passes.
 */
export async function watchTakeover(redis: Redis, prefix: string, { pollMs = 50, timeoutMs = 40_000 } = {}): Promise<TakeoverReport> {
  const started = Date.now();
  const ids = await lockedWorkspaces(redis, prefix);
  const read = async (list: string[]) => {
    const pipe = redis.pipeline();
    for (const id of list) pipe.get(workspaceKey(prefix, id, 'lock')).pttl(workspaceKey(prefix, id, 'lock')).hget(workspaceKey(prefix, id), 'seen');
    const replies = (await pipe.exec()) ?? [];
    return list.map((id, i) => ({
      id,
      token: replies[i * 3]?.[1] as string | null,
      ttl: Number(replies[i * 3 + 1]?.[1]),
      seen: Number(replies[i * 3 + 2]?.[1] ?? 0),
    }));
  };
  const now0 = Date.now();
  const watched: Watched[] = (await read(ids))
    .filter((r) => r.token !== null && r.ttl > 0)
    .map((r) => ({ workspaceId: r.id, token: r.token ?? '', expiresAt: now0 + r.ttl, lastTtl: r.ttl, renewed: false, seenAtKill: r.seen }));
  const lateness: { at: number; ms: number }[] = [];
  const orphan = (w: Watched) => !w.renewed && w.goneAt !== undefined && Math.abs(w.goneAt - w.expiresAt) < 1_500;
  while (Date.now() - started < timeoutMs) {
    const pending = watched.filter((w) => w.goneAt === undefined || (orphan(w) && w.committedAt === undefined));
    if (pending.length === 0) break;
    const at = Date.now();
    lateness.push({ at, ms: await heartbeatLateness(redis, prefix, at) });
    for (const r of await read(pending.map((w) => w.workspaceId))) {
      const w = pending.find((x) => x.workspaceId === r.id);
      if (!w) continue;
      if (w.goneAt === undefined) {
        if (r.token !== w.token || r.ttl <= 0) w.goneAt = at;
        else {
          // A live holder renews every third of the TTL, so its remaining time jumps back up.
          if (r.ttl > w.lastTtl + pollMs * 2) w.renewed = true;
          w.lastTtl = r.ttl;
        }
      }
      if (w.goneAt !== undefined && w.claimedAt === undefined && r.token !== null && r.token !== w.token) w.claimedAt = at;
      if (w.committedAt === undefined && r.seen > w.seenAtKill) w.committedAt = at;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const latenessBetween = (from: number, to: number) => Math.max(0, ...lateness.filter((l) => l.at >= from && l.at <= to).map((l) => l.ms));
  return {
    locksAtKill: watched.length,
    orphaned: watched.filter(orphan).map((w) => {
      const lockFreedAt = w.goneAt ?? Number.NaN;
      const committedAt = w.committedAt ?? Number.NaN;
      return { workspaceId: w.workspaceId, lockFreedAt, ...(w.claimedAt ? { claimedAt: w.claimedAt } : {}), committedAt, queueLatenessMs: latenessBetween(lockFreedAt, w.claimedAt ?? committedAt) };
    }),
  };
}
