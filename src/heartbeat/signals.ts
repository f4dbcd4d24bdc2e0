// The heartbeat's Redis state: per-workspace dirty generation, due time, tick lock and counters.
// A clean workspace's tick is one round trip (the claim script), with no Postgres and no brain.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * KEYS: dirty, due, lock, global counters, workspace counters. ARGV: now ms, lock token, lock ttl ms.
 * Returns {0} quiet, {1, generation} claimed, {2} busy (another process is ticking this workspace).
 */
const CLAIM = `
redis.call('HINCRBY', KEYS[4], 'ticks', 1)
redis.call('HINCRBY', KEYS[5], 'ticks', 1)
local gen = redis.call('GET', KEYS[1])
local due = redis.call('GET', KEYS[2])
local isDue = due and tonumber(due) <= tonumber(ARGV[1])
if not gen and not isDue then
  redis.call('HINCRBY', KEYS[4], 'quiet', 1)
  redis.call('HINCRBY', KEYS[5], 'quiet', 1)
  return {0}
end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
  if isDue then redis.call('DEL', KEYS[2]) end
  return {1, gen or '0'}
end
redis.call('HINCRBY', KEYS[4], 'busy', 1)
return {2}
`;

/**
 * KEYS: dirty, lock. ARGV: lock token, claimed generation, clear (1 after a commit, 0 after a failure).
 * Clears the dirty mark only if nothing was marked since the claim. Returns the generation still
 * pending (0 when clean), so the caller can wake again at once.
 */
const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
local gen = redis.call('GET', KEYS[1])
if ARGV[3] == '1' and gen == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 0
end
return tonumber(gen or '0')
`;

export type Claim = { kind: 'quiet' } | { kind: 'busy' } | { kind: 'claimed'; generation: string; token: string };

export const counterNames = ['ticks', 'quiet', 'busy', 'woken', 'spoke', 'vetoed', 'acted', 'model_calls', 'tokens', 'cost_micro_usd', 'replies', 'failed'] as const;
export type CounterName = (typeof counterNames)[number];

export class HeartbeatSignals {
  constructor(
    private readonly redis: Redis,
    /** Key namespace, so tests and deployments sharing a Redis stay apart. */
    private readonly prefix: string,
    private readonly lockTtlMs = 60_000,
  ) {
    redis.defineCommand('tacitClaim', { numberOfKeys: 5, lua: CLAIM });
    redis.defineCommand('tacitRelease', { numberOfKeys: 2, lua: RELEASE });
  }

  private key(kind: string, workspaceId: string): string {
    return `${this.prefix}:${kind}:${workspaceId}`;
  }

  /** Marks the workspace as having news; returns the new dirty generation. */
  async markDirty(workspaceId: string): Promise<number> {
    return this.redis.incr(this.key('dirty', workspaceId));
  }

  /** Asks for a tick no later than `at` (a time-based wake the gate knows about). */
  async setDue(workspaceId: string, at: Date): Promise<void> {
    await this.redis.set(this.key('due', workspaceId), String(at.getTime()));
  }

  async claim(workspaceId: string, now: Date): Promise<Claim> {
    const token = randomUUID();
    const result = (await (this.redis as unknown as ClaimCommands).tacitClaim(
      this.key('dirty', workspaceId),
      this.key('due', workspaceId),
      this.key('lock', workspaceId),
      `${this.prefix}:counters`,
      this.key('counters', workspaceId),
      String(now.getTime()),
      token,
      String(this.lockTtlMs),
    )) as [number, string?];
    if (result[0] === 0) return { kind: 'quiet' };
    if (result[0] === 2) return { kind: 'busy' };
    return { kind: 'claimed', generation: String(result[1] ?? '0'), token };
  }

  /** Releases the tick lock; returns the dirty generation still pending (0 when clean). */
  async release(workspaceId: string, claim: { generation: string; token: string }, committed: boolean): Promise<number> {
    const pending = await (this.redis as unknown as ClaimCommands).tacitRelease(
      this.key('dirty', workspaceId),
      this.key('lock', workspaceId),
      claim.token,
      claim.generation,
      committed ? '1' : '0',
    );
    return Number(pending);
  }

  async count(workspaceId: string, counts: Partial<Record<CounterName, number>>): Promise<void> {
    const entries = Object.entries(counts).filter(([, v]) => v);
    if (entries.length === 0) return;
    const multi = this.redis.multi();
    for (const [name, by] of entries) {
      multi.hincrby(`${this.prefix}:counters`, name, by as number);
      multi.hincrby(this.key('counters', workspaceId), name, by as number);
    }
    await multi.exec();
  }

  async counters(workspaceId?: string): Promise<Record<CounterName, number>> {
    const raw = await this.redis.hgetall(workspaceId ? this.key('counters', workspaceId) : `${this.prefix}:counters`);
    return Object.fromEntries(counterNames.map((n) => [n, Number(raw[n] ?? 0)])) as Record<CounterName, number>;
  }
}

interface ClaimCommands {
  tacitClaim(...args: string[]): Promise<unknown>;
  tacitRelease(...args: string[]): Promise<unknown>;
}
