// The heartbeat's Redis state: per-workspace dirty generation, due time, tick lock and counters.
// A clean workspace's tick is one round trip (the claim script), with no Postgres and no brain.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TickLeaseLostError } from './errors.js';

/**
 * The dirty mark is a generation counter that only grows (so wake job ids built from it never
 * repeat); `seen` is the generation the last committed tick consumed. Dirty means dirty > seen.
 *
 * KEYS: dirty, seen, due, lock, global counters, workspace counters, this hour's timeline.
 * ARGV: now ms, lock token, lock ttl ms, minute of the hour.
 * Returns {0} quiet, {1, generation, due} claimed, {2} busy (another process is ticking it).
 */
const CLAIM = `
redis.call('HINCRBY', KEYS[5], 'ticks', 1)
redis.call('HINCRBY', KEYS[6], 'ticks', 1)
if redis.call('HINCRBY', KEYS[7], ARGV[4] .. ':ticks', 1) == 1 then redis.call('EXPIRE', KEYS[7], 90000) end
local marks = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local gen = tonumber(marks[1] or '0')
local dirty = gen > tonumber(marks[2] or '0')
local isDue = marks[3] and tonumber(marks[3]) <= tonumber(ARGV[1])
if not dirty and not isDue then
  redis.call('HINCRBY', KEYS[5], 'quiet', 1)
  redis.call('HINCRBY', KEYS[6], 'quiet', 1)
  redis.call('HINCRBY', KEYS[7], ARGV[4] .. ':quiet', 1)
  return {0}
end
if redis.call('SET', KEYS[4], ARGV[2], 'NX', 'PX', ARGV[3]) then
  if isDue then redis.call('DEL', KEYS[3]) end
  return {1, tostring(gen), isDue and '1' or '0'}
end
redis.call('HINCRBY', KEYS[5], 'busy', 1)
return {2}
`;

/**
 * KEYS: dirty, seen, lock. ARGV: lock token, claimed generation, committed (1) or failed (0).
 * A committed tick marks its generation seen; a failed one leaves the workspace dirty for the next
 * beat. Returns the generation still unseen (0 when clean), so the caller can wake again at once.
 */
const RELEASE = `
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if ARGV[3] == '1' and tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[2])
end
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
if gen > tonumber(redis.call('GET', KEYS[2]) or '0') then return gen end
return 0
`;

/** KEYS: lock. ARGV: token, ttl ms. Extends the lock only while this holder still owns it (1), else 0. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export type Claim =
  | { kind: 'quiet' }
  | { kind: 'busy' }
  /** `due`: a time-based wake the previous tick asked for has come. */
  | { kind: 'claimed'; generation: string; token: string; due: boolean };

/** One minute of a workspace's heartbeat, for the dashboard's timeline. */
export type TimelinePoint = { minute: number } & Partial<Record<CounterName, number>>;

export const counterNames = [
  'ticks', 'quiet', 'busy', 'woken', 'spoke', 'vetoed', 'acted', 'model_calls', 'tokens', 'cost_micro_usd', 'replies', 'failed', 'fenced', 'quarantined',
] as const;
export type CounterName = (typeof counterNames)[number];

export class HeartbeatSignals {
  constructor(
    private readonly redis: Redis,
    /** Key namespace, so tests and deployments sharing a Redis stay apart. */
    private readonly prefix: string,
    // Renewed every third of it while the tick runs: short, so a killed process's lock frees soon.
    readonly lockTtlMs = 15_000,
  ) {
    redis.defineCommand('tacitClaim', { numberOfKeys: 7, lua: CLAIM });
    redis.defineCommand('tacitRelease', { numberOfKeys: 3, lua: RELEASE });
    redis.defineCommand('tacitRenew', { numberOfKeys: 1, lua: RENEW });
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

  private key(kind: string, workspaceId: string): string {
    return `${this.prefix}:${kind}:${workspaceId}`;
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
    return this.redis.incr(this.key('dirty', workspaceId));
  }

  /** Asks for a tick at `at` even without news (a time-based wake the gate knows about); null clears it. */
  async setDue(workspaceId: string, at: Date | null): Promise<void> {
    if (at) await this.redis.set(this.key('due', workspaceId), String(at.getTime()));
    else await this.redis.del(this.key('due', workspaceId));
  }

  async claim(workspaceId: string, now: Date): Promise<Claim> {
    const token = randomUUID();
    const { hourKey, minute } = this.bucket(workspaceId, now);
    const result = (await (this.redis as unknown as ClaimCommands).tacitClaim(
      this.key('dirty', workspaceId),
      this.key('seen', workspaceId),
      this.key('due', workspaceId),
      this.key('lock', workspaceId),
      `${this.prefix}:counters`,
      this.key('counters', workspaceId),
      hourKey,
      String(now.getTime()),
      token,
      String(this.lockTtlMs),
      minute,
    )) as [number, string?, string?];
    if (result[0] === 0) return { kind: 'quiet' };
    if (result[0] === 2) return { kind: 'busy' };
    return { kind: 'claimed', generation: String(result[1] ?? '0'), token, due: result[2] === '1' };
  }

  /** Timeline buckets: one hash per workspace and hour, a field per minute and counter, kept 25 h. */
  private bucket(workspaceId: string, at: Date): { hourKey: string; minute: string } {
    const minutes = Math.floor(at.getTime() / 60_000);
    return { hourKey: `${this.prefix}:timeline:${workspaceId}:${Math.floor(minutes / 60)}`, minute: String(minutes % 60) };
  }

  /** Per-minute counts for the last `hours` hours, oldest first (minutes with no ticks are omitted). */
  async timeline(workspaceId: string, now: Date, hours = 1): Promise<TimelinePoint[]> {
    const hourNow = Math.floor(now.getTime() / 3_600_000);
    const pipeline = this.redis.pipeline();
    for (let h = hourNow - hours; h <= hourNow; h++) pipeline.hgetall(`${this.prefix}:timeline:${workspaceId}:${h}`);
    const results = (await pipeline.exec()) ?? [];
    const points = new Map<number, TimelinePoint>();
    results.forEach(([, value], i) => {
      const hour = hourNow - hours + i;
      for (const [field, count] of Object.entries((value ?? {}) as Record<string, string>)) {
        const [m, name] = field.split(':');
        const minute = hour * 60 + Number(m);
        const point = points.get(minute) ?? { minute };
        point[name as CounterName] = Number(count);
        points.set(minute, point);
      }
    });
    const from = Math.floor(now.getTime() / 60_000) - hours * 60;
    return [...points.values()].filter((p) => p.minute > from).sort((a, b) => a.minute - b.minute);
  }

  /** Releases the tick lock; returns the dirty generation still pending (0 when clean). */
  async release(workspaceId: string, claim: { generation: string; token: string }, committed: boolean): Promise<number> {
    const pending = await (this.redis as unknown as ClaimCommands).tacitRelease(
      this.key('dirty', workspaceId),
      this.key('seen', workspaceId),
      this.key('lock', workspaceId),
      claim.token,
      claim.generation,
      committed ? '1' : '0',
    );
    return Number(pending);
  }

  async count(workspaceId: string, counts: Partial<Record<CounterName, number>>, at = new Date()): Promise<void> {
    const entries = Object.entries(counts).filter(([, v]) => v);
    if (entries.length === 0) return;
    const { hourKey, minute } = this.bucket(workspaceId, at);
    const multi = this.redis.multi();
    for (const [name, by] of entries) {
      multi.hincrby(`${this.prefix}:counters`, name, by as number);
      multi.hincrby(this.key('counters', workspaceId), name, by as number);
      multi.hincrby(hourKey, `${minute}:${name}`, by as number);
    }
    multi.expire(hourKey, 90_000);
    await multi.exec();
  }

  async counters(workspaceId?: string): Promise<Record<CounterName, number>> {
    const raw = await this.redis.hgetall(workspaceId ? this.key('counters', workspaceId) : `${this.prefix}:counters`);
    return Object.fromEntries(counterNames.map((n) => [n, Number(raw[n] ?? 0)])) as Record<CounterName, number>;
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
}
