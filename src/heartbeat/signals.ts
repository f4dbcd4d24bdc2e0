// The heartbeat's Redis state: per-workspace dirty generation, due time, tick lock and counters.
// A clean workspace's tick is one round trip (the claim script), with no Postgres and no brain.
// Every script touches one workspace's keys only, or the sweep's one partition of them (one hash
// slot on a Redis Cluster, beats.ts); the global counters are summed in the process and added to
// Redis once a second.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TickLeaseLostError } from './errors.js';
import { GlobalCounters } from './global-counters.js';
import { beatFields, decodeTimeline, minuteOf, TIMELINE_LUA, type TimelineMinute } from './timeline.js';
import { BEAT_PARTITIONS, beatPartition, beatsKey, firstBeat, partitionBase, PLAN_LUA, SWEEP_LUA, UNPLAN_LUA, workspaceKey } from './beats.js';

/**
 * The dirty mark is a generation counter that only grows (so wake job ids built from it never
 * repeat); `seen` is the generation the last committed tick consumed. Dirty means dirty > seen.
 * Both live in the workspace's state hash with the due time and the workspace's counters: one small
 * hash per workspace instead of a key each (Redis spends ~90 bytes on every key before its value).
 *
 * `slot` is the last scheduled slot whose tick finished: a quiet claim finishes it at once, a claimed
 * tick on its committed release. A job retried after a crash (BullMQ runs stalled jobs again) for a
 * slot already finished is skipped here; one whose release the crash lost, by the tick's Postgres check.
 *
 * KEYS: workspace state, lock, the timeline's news hash.
 * ARGV: now ms, lock token, lock ttl ms, minute (since the epoch), scheduled slot ms (empty for wakes).
 * Returns {0} quiet, {1, generation, due} claimed, {2} busy (another process is ticking it), {3} slot already finished.
 */
const CLAIM = `${TIMELINE_LUA}
local slot = tonumber(ARGV[5])
if slot and slot <= tonumber(redis.call('HGET', KEYS[1], 'slot') or '0') then return {3} end
redis.call('HINCRBY', KEYS[1], 'ticks', 1)
beat(KEYS[1], tonumber(ARGV[4]))
local marks = redis.call('HMGET', KEYS[1], 'dirty', 'seen', 'due')
local gen = tonumber(marks[1] or '0')
local dirty = gen > tonumber(marks[2] or '0')
local isDue = marks[3] and tonumber(marks[3]) <= tonumber(ARGV[1])
if not dirty and not isDue then
  redis.call('HINCRBY', KEYS[1], 'quiet', 1)
  if slot then redis.call('HSET', KEYS[1], 'slot', slot) end
  return {0}
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  if isDue then redis.call('HDEL', KEYS[1], 'due') end
  return {1, tostring(gen), isDue and '1' or '0'}
end
redis.call('HINCRBY', KEYS[1], 'busy', 1)
news(KEYS[3], tonumber(ARGV[4]), newsIndex.busy, 1)
return {2}
`;

/**
 * KEYS: workspace state, lock. ARGV: lock token, claimed generation, committed (1) or failed (0),
 * scheduled slot ms (empty for wakes).
 * A committed tick marks its generation seen and its slot finished; a failed one leaves the workspace
 * dirty for the next beat. Returns the generation still unseen (0 when clean), so the caller can wake again at once.
 */
const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[3] == '1' and tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'seen') or '0') then
  redis.call('HSET', KEYS[1], 'seen', ARGV[2])
end
local slot = tonumber(ARGV[4])
if ARGV[3] == '1' and slot and slot > tonumber(redis.call('HGET', KEYS[1], 'slot') or '0') then
  redis.call('HSET', KEYS[1], 'slot', slot)
end
local marks = redis.call('HMGET', KEYS[1], 'dirty', 'seen')
local gen = tonumber(marks[1] or '0')
if gen > tonumber(marks[2] or '0') then return gen end
return 0
`;

/**
 * KEYS: workspace state, the timeline's news hash.
 * ARGV: minute (since the epoch), then counter name and amount pairs.
 */
const COUNT = `${TIMELINE_LUA}
local minute = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local name, by = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HINCRBY', KEYS[1], name, by)
  if newsIndex[name] then news(KEYS[2], minute, newsIndex[name], by) end
end
`;

/** KEYS: lock. ARGV: token, ttl ms. Extends the lock only while this holder still owns it (1), else 0. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export type Claim =
  | { kind: 'quiet' }
  | { kind: 'busy' }
  /** A retried scheduler job whose slot already ticked (see CLAIM). */
  | { kind: 'skipped'; reason: string }
  /** `due`: a time-based wake the previous tick asked for has come. */
  | { kind: 'claimed'; generation: string; token: string; due: boolean; slot?: number };

/** One minute of a workspace's heartbeat, for the dashboard's timeline. */
export type TimelinePoint = { minute: number } & Partial<Record<CounterName, number>>;

export const counterNames = [
  'ticks', 'quiet', 'busy', 'woken', 'spoke', 'vetoed', 'acted', 'model_calls', 'tokens', 'cost_micro_usd', 'replies', 'failed', 'fenced', 'quarantined',
] as const;
export type CounterName = (typeof counterNames)[number];

export { workspaceKey } from './beats.js';

/** What one sweep of a partition did (see SWEEP_LUA in beats.ts). */
export interface Swept {
  quiet: number;
  /** Dirty or due workspaces, for tick jobs at their slot. */
  due: { workspaceId: string; slot: number }[];
  /** How late each quiet tick ran, ms after its beat. */
  latenessMs: number[];
  /** How many beats it took (the limit when more are waiting). */
  taken: number;
  /** When the partition's next beat is due (ms), null when it has none. */
  nextBeatAt: number | null;
}

export class HeartbeatSignals {
  private readonly global: GlobalCounters<CounterName>;

  constructor(
    private readonly redis: Redis,
    /** Key namespace, so tests and deployments sharing a Redis stay apart. */
    private readonly prefix: string,
    // Renewed every third of it while the tick runs: short, so a killed process's lock frees soon.
    readonly lockTtlMs = 15_000,
  ) {
    this.global = new GlobalCounters(redis, `${prefix}:counters`);
    redis.defineCommand('tacitClaim', { numberOfKeys: 3, lua: CLAIM });
    redis.defineCommand('tacitRelease', { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand('tacitRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('tacitCount', { numberOfKeys: 2, lua: COUNT });
    redis.defineCommand('tacitPlan', { numberOfKeys: 2, lua: PLAN_LUA });
    redis.defineCommand('tacitUnplan', { numberOfKeys: 2, lua: UNPLAN_LUA });
    redis.defineCommand('tacitSweep', { numberOfKeys: 1, lua: SWEEP_LUA });
  }

  /** Puts the workspace in the sweep's beat plan at `intervalMs`, on its phase; repeating it changes nothing. */
  async plan(workspaceId: string, intervalMs: number, now = Date.now()): Promise<void> {
    await this.commands.tacitPlan(
      beatsKey(this.prefix, beatPartition(workspaceId)), this.key('state', workspaceId), workspaceId, String(intervalMs), String(firstBeat(workspaceId, intervalMs, now)),
    );
  }

  async unplan(workspaceId: string): Promise<void> {
    await this.commands.tacitUnplan(beatsKey(this.prefix, beatPartition(workspaceId)), this.key('state', workspaceId), workspaceId);
  }

  /** How many workspaces the sweep's plan holds. */
  async planned(): Promise<number> {
    const counts = await Promise.all(Array.from({ length: BEAT_PARTITIONS }, (_, p) => this.redis.zcard(beatsKey(this.prefix, p))));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** When the workspace's next beat is due (ms), or null when it has none. */
  async nextBeat(workspaceId: string): Promise<number | null> {
    const score = await this.redis.zscore(beatsKey(this.prefix, beatPartition(workspaceId)), workspaceId);
    return score === null ? null : Number(score);
  }

  /** Drops the whole plan (a deployment that went back to one scheduler job per workspace). */
  async dropPlan(): Promise<void> {
    await Promise.all(Array.from({ length: BEAT_PARTITIONS }, (_, p) => this.redis.del(beatsKey(this.prefix, p))));
  }

  /**
   * Ticks the partition's clean workspaces whose beat is due (one script call) and returns the dirty
   * or due ones for tick jobs. `now` is the beats' clock (wall time, shared with BullMQ); `clockNow`
   * the tick clock, for due times and the timeline's minute.
   */
  async sweep(partition: number, now: number, clockNow: Date, limit: number): Promise<Swept> {
    const [quiet, jobs, late, taken, nextBeat] = (await this.commands.tacitSweep(
      beatsKey(this.prefix, partition), partitionBase(this.prefix, partition), String(now), String(clockNow.getTime()), String(minuteOf(clockNow)), String(limit),
    )) as [number, string[], number[], number, string];
    if (quiet > 0) this.global.add({ ticks: quiet, quiet });
    const due: Swept['due'] = [];
    for (let i = 0; i + 1 < jobs.length; i += 2) due.push({ workspaceId: jobs[i] ?? '', slot: Number(jobs[i + 1]) });
    return { quiet, due, latenessMs: late, taken, nextBeatAt: nextBeat === '-1' ? null : Number(nextBeat) };
  }

  private get commands(): ClaimCommands {
    return this.redis as unknown as ClaimCommands;
  }

  /**
   * Keeps a claimed tick's lock alive while the tick runs (renewed every third of its TTL). The lease
   * is lost when the lock was taken over or could not be renewed before it expired; its signal then
   * aborts, and the tick must not commit (the database fence refuses it anyway).
   */
  hold(workspaceId: string, token: string): TickLease {
    const controller = new AbortController();
    const key = this.key('lock', workspaceId);
    let renewedAt = Date.now();
    const lose = (why: string) => {
      if (!controller.signal.aborted) controller.abort(new TickLeaseLostError(workspaceId, why));
    };
    const timer = setInterval(() => {
      (this.redis as unknown as ClaimCommands).tacitRenew(key, token, String(this.lockTtlMs)).then(
        (ok) => {
          if (Number(ok) === 1) renewedAt = Date.now();
          else lose('another tick holds the lock');
        },
        () => {
          if (Date.now() - renewedAt >= this.lockTtlMs) lose('the lock could not be renewed before it expired');
        },
      );
    }, Math.max(Math.floor(this.lockTtlMs / 3), 10));
    timer.unref();
    return {
      signal: controller.signal,
      lost: () => controller.signal.aborted,
      stop: () => clearInterval(timer),
    };
  }

  private key(kind: 'state' | 'lock' | 'news', workspaceId: string): string {
    return workspaceKey(this.prefix, workspaceId, kind);
  }

  /** Marks a thread as being answered; the mark expires on its own if the answer never comes. */
  async beginConversation(workspaceId: string, channelId: string, threadId: string, ttlMs = 120_000): Promise<void> {
    await this.redis.set(this.conversationKey(workspaceId, channelId, threadId), '1', 'PX', ttlMs);
  }

  async endConversation(workspaceId: string, channelId: string, threadId: string): Promise<void> {
    await this.redis.del(this.conversationKey(workspaceId, channelId, threadId));
  }

  async conversing(workspaceId: string, channelId: string, threadId: string): Promise<boolean> {
    return (await this.redis.exists(this.conversationKey(workspaceId, channelId, threadId))) === 1;
  }

  private conversationKey(workspaceId: string, channelId: string, threadId: string): string {
    return `${this.prefix}:conversing:${workspaceId}:${channelId}:${threadId}`;
  }

  /** Marks the workspace as having news; returns the new dirty generation. */
  async markDirty(workspaceId: string): Promise<number> {
    return this.redis.hincrby(this.key('state', workspaceId), 'dirty', 1);
  }

  /** Asks for a tick at `at` even without news (a time-based wake the gate knows about); null clears it. */
  async setDue(workspaceId: string, at: Date | null): Promise<void> {
    if (at) await this.redis.hset(this.key('state', workspaceId), 'due', String(at.getTime()));
    else await this.redis.hdel(this.key('state', workspaceId), 'due');
  }

  /** @param slot a scheduled tick's slot (heartbeat/scheduler.ts scheduledSlot); none for wakes. */
  async claim(workspaceId: string, now: Date, slot?: number): Promise<Claim> {
    const token = randomUUID();
    const result = (await (this.redis as unknown as ClaimCommands).tacitClaim(
      this.key('state', workspaceId),
      this.key('lock', workspaceId),
      this.key('news', workspaceId),
      String(now.getTime()),
      token,
      String(this.lockTtlMs),
      String(minuteOf(now)),
      slot === undefined ? '' : String(slot),
    )) as [number, string?, string?];
    if (result[0] === 3) return { kind: 'skipped', reason: `slot ${slot} already ticked` };
    this.global.add({ ticks: 1, ...(result[0] === 0 ? { quiet: 1 } : result[0] === 2 ? { busy: 1 } : {}) });
    if (result[0] === 0) return { kind: 'quiet' };
    if (result[0] === 2) return { kind: 'busy' };
    return { kind: 'claimed', generation: String(result[1] ?? '0'), token, due: result[2] === '1', ...(slot === undefined ? {} : { slot }) };
  }

  /** Per-minute counts for the last hour (heartbeat/timeline.ts), oldest first; minutes with no ticks are omitted. */
  async timeline(workspaceId: string, now: Date): Promise<TimelineMinute[]> {
    const [ring, news] = await Promise.all([
      this.redis.hmgetBuffer(this.key('state', workspaceId), ...beatFields),
      this.redis.hgetall(this.key('news', workspaceId)),
    ]);
    return decodeTimeline(ring, news, now);
  }

  /** Releases the tick lock; returns the dirty generation still pending (0 when clean). */
  async release(workspaceId: string, claim: { generation: string; token: string; slot?: number }, committed: boolean): Promise<number> {
    const pending = await (this.redis as unknown as ClaimCommands).tacitRelease(
      this.key('state', workspaceId),
      this.key('lock', workspaceId),
      claim.token,
      claim.generation,
      committed ? '1' : '0',
      claim.slot === undefined ? '' : String(claim.slot),
    );
    return Number(pending);
  }

  async count(workspaceId: string, counts: Partial<Record<CounterName, number>>, at = new Date()): Promise<void> {
    const entries = Object.entries(counts).filter(([, v]) => v);
    if (entries.length === 0) return;
    await (this.redis as unknown as ClaimCommands).tacitCount(
      this.key('state', workspaceId),
      this.key('news', workspaceId),
      String(minuteOf(at)),
      ...entries.flatMap(([name, by]) => [name, String(by)]),
    );
    this.global.add(counts);
  }

  /** A workspace's counters, or without one the deployment's (this process's last second included). */
  async counters(workspaceId?: string): Promise<Record<CounterName, number>> {
    const raw: Partial<Record<string, string | number>> = workspaceId ? await this.redis.hgetall(this.key('state', workspaceId)) : await this.global.read();
    return Object.fromEntries(counterNames.map((n) => [n, Number(raw[n] ?? 0)])) as Record<CounterName, number>;
  }

  /** Adds this process's last global counts to Redis (at shutdown). */
  close(): Promise<void> {
    return this.global.close();
  }
}

/** A claimed tick's hold on its workspace lock. */
export interface TickLease {
  /** Aborts when the lease is lost; hand it to slow work (the brain) so it stops in time. */
  signal: AbortSignal;
  lost(): boolean;
  stop(): void;
}

interface ClaimCommands {
  tacitClaim(...args: string[]): Promise<unknown>;
  tacitRelease(...args: string[]): Promise<unknown>;
  tacitRenew(...args: string[]): Promise<unknown>;
  tacitCount(...args: string[]): Promise<unknown>;
  tacitPlan(...args: string[]): Promise<unknown>;
  tacitUnplan(...args: string[]): Promise<unknown>;
  tacitSweep(...args: string[]): Promise<unknown>;
}
