// Redis is a cache of schedules, never their only copy. This module notices when Redis has lost its
// state (restarted without persistence, failed over to an empty replica) and rebuilds it from
// Postgres: heartbeat and maintenance schedules, dirty flags, queued deliveries, conversations and
// approved actions. A marker key says "restored"; while it is missing `/readyz` answers 503.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.js';
import { events, outbox, workspaces } from '../db/schema.js';
import type { Logger } from '../log.js';

/** One part of what Redis held, rebuilt from Postgres; returns how many things it restored. */
export interface RestoreStep {
  name: string;
  /** `lost`: Redis came back without the marker (empty), not an ordinary start-up. */
  run(lost: boolean): Promise<number>;
}

export interface RestoreOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  steps: RestoreStep[];
  /** How often each process looks for the marker. Only detection runs on a timer; the state is in Postgres. */
  checkEveryMs: number;
  lockTtlMs?: number;
}

/** KEYS: lock, marker. ARGV: token, marker value. The marker is set only while the lock is still ours. */
const FINISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`;
/** KEYS: lock. ARGV: token, ttl ms (0 releases). */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

/**
 * The marker key. Its version names the layout of what Redis holds: the heartbeat's keys changed shape
 * (v2: one state hash per workspace, issue 21), so a Redis of the old layout is restored as after a
 * loss: every workspace ticks once and asks again for its due times.
 */
export function restoreMarker(prefix: string): string {
  return `${prefix}:restored:v2`;
}

export class ScheduleRestore {
  private restoring: Promise<void> | undefined;
  private checking = false;
  private closed = false;
  /** Not ready before the start-up restore is done, even when Redis kept the marker from a previous run. */
  private startedUp = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onReady = () => void this.check();
  private readonly marker: string;
  private readonly lock: string;

  constructor(private readonly opts: RestoreOptions) {
    this.marker = restoreMarker(opts.prefix);
    this.lock = `${opts.prefix}:restore-lock`;
  }

  /** Restores (or waits for another process's restore) at start-up, then watches for Redis losing it. */
  async start(): Promise<void> {
    await this.restore('start-up');
    this.startedUp = true;
    this.timer = setInterval(() => void this.check(), this.opts.checkEveryMs);
    this.timer.unref();
    // A reconnect is the likeliest moment to find Redis empty: look at once rather than at the next check.
    this.opts.redis.on('ready', this.onReady);
  }

  /** For `/readyz`: false while a restore runs here or the marker is missing (which starts one). */
  async ready(): Promise<boolean> {
    if (this.restoring || !this.startedUp) return false;
    const present = await withTimeout(this.opts.redis.exists(this.marker), 1_000).catch(() => null);
    if (present === 0) void this.check();
    return present === 1;
  }

  /** Restores when the marker is missing; a no-op while Redis is unreachable (the next check tries again). */
  async check(): Promise<void> {
    if (this.checking || this.restoring || this.closed) return;
    this.checking = true;
    try {
      if ((await this.opts.redis.exists(this.marker)) === 0) await this.restore('redis-empty');
    } catch (err) {
      this.opts.log.warn({ err }, 'restoring schedules failed; trying again at the next check');
    } finally {
      this.checking = false;
    }
  }

  restore(reason: 'start-up' | 'redis-empty'): Promise<void> {
    this.restoring ??= this.run(reason).finally(() => {
      this.restoring = undefined;
    });
    return this.restoring;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.opts.redis.off('ready', this.onReady);
    await this.restoring?.catch(() => undefined);
  }

  private async run(reason: 'start-up' | 'redis-empty'): Promise<void> {
    const { redis, checkEveryMs } = this.opts;
    const ttl = this.opts.lockTtlMs ?? 30_000;
    while (!this.closed) {
      const lost = (await redis.exists(this.marker)) === 0;
      if (!lost && reason === 'redis-empty') return; // another process has restored meanwhile
      const token = randomUUID();
      if (await redis.set(this.lock, token, 'PX', ttl, 'NX')) {
        if (await this.runSteps(token, ttl, lost, reason)) return;
        continue; // the lock vanished mid-way (Redis emptied again): start over
      }
      // Another process is restoring: wait for its marker, or for its lock to expire if it died.
      await new Promise((resolve) => setTimeout(resolve, Math.min(checkEveryMs, 500)));
      const [held, marked] = await Promise.all([redis.exists(this.lock), redis.exists(this.marker)]);
      if (!held && marked) return;
    }
  }

  private async runSteps(token: string, ttl: number, lost: boolean, reason: string): Promise<boolean> {
    const { redis, log } = this.opts;
    const renew = setInterval(() => void redis.eval(RENEW, 1, this.lock, token, String(ttl)).catch(() => undefined), ttl / 3);
    const started = Date.now();
    const restored: Record<string, number> = {};
    const stepMs: Record<string, number> = {};
    try {
      if (lost) log.warn({ reason }, 'Redis holds no schedules (restarted empty?); restoring them from Postgres');
      for (const step of this.opts.steps) {
        const stepStarted = Date.now();
        restored[step.name] = await step.run(lost);
        stepMs[step.name] = Date.now() - stepStarted;
      }
    } catch (err) {
      await redis.eval(RENEW, 1, this.lock, token, '0').catch(() => undefined);
      throw err;
    } finally {
      clearInterval(renew);
    }
    const epoch = Date.now();
    const done = Number(await redis.eval(FINISH, 2, this.lock, this.marker, token, String(epoch))) === 1;
    if (done) log.info({ reason, lost, restored, stepMs, durationMs: epoch - started, epoch }, 'schedules restored');
    else log.warn({ reason }, 'lost the restore lock before finishing (Redis emptied again?); restoring again');
    return done;
  }
}

/** What the steps restore through: the heartbeat, maintenance, delivery, conversations and actions. */
export interface RestoreDeps {
  db: Db;
  defaultIntervalMs: number;
  schedule(list: { workspaceId: string; intervalMs: number }[]): Promise<void>;
  markDirty(workspaceId: string): Promise<unknown>;
  /** Maintenance (and the dream sweep) schedulers; `runNow` also runs each task once now. */
  scheduleMaintenance(runNow: boolean): Promise<number>;
  deliver(outboxIds: string[]): Promise<void>;
  converse(eventId: number, workspaceId: string): Promise<void>;
  /** Expires overdue approvals and re-enqueues approved ones whose execution was lost. */
  reconcileActions(): Promise<{ expired: number; resumed: number }>;
  batchSize?: number;
}

/** A mention older than this is not answered after a loss: a reply that late is noise, not help. */
const MENTION_LOOKBACK_MS = 60 * 60_000;

export function restoreSteps(deps: RestoreDeps): RestoreStep[] {
  const batch = deps.batchSize ?? 500;
  const { db } = deps;
  return [
    { name: 'heartbeats', run: () => scheduleHeartbeats(deps) },
    { name: 'maintenance', run: () => deps.scheduleMaintenance(true) },
    {
      // After a loss every workspace ticks once: that also re-asks for time-based wakes (reminders,
      // quiet hours ending) whose due marks were lost. Otherwise only unconsumed events need a tick.
      name: 'dirty',
      run: async (lost) => {
        if (lost) return pageWorkspaces(db, batch, (rows) => inChunks(rows.map((r) => r.id), batch, deps.markDirty));
        const dirty = await db.selectDistinct({ id: events.workspaceId }).from(events).where(isNull(events.tickId));
        await inChunks(dirty.map((d) => d.id), batch, deps.markDirty);
        return dirty.length;
      },
    },
    {
      name: 'outbox',
      run: async () => {
        let count = 0;
        for (let after = ''; ;) {
          const rows = await db.select({ id: outbox.id }).from(outbox)
            .where(and(eq(outbox.status, 'pending'), gt(outbox.id, after))).orderBy(asc(outbox.id)).limit(batch * 2);
          await deps.deliver(rows.map((r) => r.id));
          count += rows.length;
          const last = rows.at(-1);
          if (!last || rows.length < batch * 2) return count;
          after = last.id;
        }
      },
    },
    {
      name: 'conversations',
      run: async () => {
        const unanswered = await db.select({ id: events.id, workspaceId: events.workspaceId }).from(events).where(and(
          eq(events.kind, 'chat.mention'),
          gt(events.receivedAt, sql`now() - make_interval(secs => ${MENTION_LOOKBACK_MS / 1000})`),
          sql`not exists (select 1 from ${outbox} o where o.workspace_id = ${events.workspaceId} and o.idempotency_key = 'reply:' || ${events.id})`,
        ));
        await inChunks(unanswered, batch, (m) => deps.converse(m.id, m.workspaceId));
        return unanswered.length;
      },
    },
    { name: 'approved actions', run: async () => (await deps.reconcileActions()).resumed },
  ];
}

/**
 * A maintenance check for a scheduler lost on its own (the marker still there): fewer schedulers in
 * Redis than workspaces in Postgres re-creates them all (idempotent). Returns how many were re-created.
 */
export async function restoreMissingHeartbeats(deps: RestoreDeps & { schedulerCount(): Promise<number> }, log: Logger): Promise<number> {
  const [row] = await deps.db.select({ n: sql<number>`count(*)::int` }).from(workspaces).where(isNull(workspaces.removedAt));
  const expected = row?.n ?? 0;
  const present = await deps.schedulerCount();
  if (present >= expected) return 0;
  log.warn({ expected, present }, 'heartbeat schedulers missing from Redis; restoring them from Postgres');
  return scheduleHeartbeats(deps);
}

function scheduleHeartbeats(deps: RestoreDeps): Promise<number> {
  return pageWorkspaces(deps.db, deps.batchSize ?? 500, async (rows) => {
    await deps.schedule(rows.map((w) => ({ workspaceId: w.id, intervalMs: Number(w.settings.heartbeatIntervalMs ?? deps.defaultIntervalMs) })));
  });
}

type WorkspaceRow = { id: string; settings: Record<string, unknown> };

/** Every workspace that is not removed, by id, `batch` at a time; returns how many were seen. */
async function pageWorkspaces(db: Db, batch: number, each: (rows: WorkspaceRow[]) => Promise<unknown>): Promise<number> {
  let count = 0;
  for (let after = ''; ;) {
    const rows = await db.select({ id: workspaces.id, settings: workspaces.settings }).from(workspaces)
      .where(and(isNull(workspaces.removedAt), gt(workspaces.id, after))).orderBy(asc(workspaces.id)).limit(batch);
    if (rows.length > 0) await each(rows);
    count += rows.length;
    const last = rows.at(-1);
    if (!last || rows.length < batch) return count;
    after = last.id;
  }
}

/** Runs `fn` for every item, `size` at a time concurrently (one connection pipelines them). */
async function inChunks<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
