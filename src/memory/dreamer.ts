// Dreaming, the running part: one consolidation per workspace at a time (a Redis lock), by Claude when
// the brain can consolidate and by rules otherwise, every proposal judged before it is applied in one
// transaction, every run recorded in memory_dreams. A BullMQ sweep finds workspaces that are due.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, inArray, ne, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Brain, ConsolidateProposal } from '../brain/port.js';
import { readSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { events, memories, memoryDreams, workspaces } from '../db/schema.js';
import type { Logger } from '../log.js';
import { judgeProposal, rulesProposal, type DreamEntry } from './dream.js';
import type { IndexBounds } from './render.js';
import { reconcileStaged, refreshRows, shownRows } from './store.js';

export interface DreamOptions {
  /** New entries since the last dream before another is worth it. */
  minNewEntries: number;
  /** No new events in the workspace for this long: it is idle. */
  idleMs: number;
  /** At most one dream per workspace in this interval (a day by default). */
  minIntervalMs: number;
  lockMs: number;
}

export const defaultDreamOptions: DreamOptions = { minNewEntries: 5, idleMs: 30 * 60_000, minIntervalMs: 24 * 3_600_000, lockMs: 5 * 60_000 };

export interface DreamResult {
  outcome: 'applied' | 'refused' | 'noop' | 'failed' | 'busy';
  engine: string;
  before: number;
  after: number;
  detail: Record<string, unknown>;
}

export interface DreamDeps {
  db: Db;
  connection: Redis;
  prefix: string;
  brain: Brain;
  log: Logger;
  bounds: IndexBounds;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Runs one dream for the workspace now, unless another is running. */
export async function dream(deps: DreamDeps, workspaceId: string, now: Date, lockMs: number): Promise<DreamResult> {
  const key = `${deps.prefix}:memory:dream-lock:${workspaceId}`;
  const token = randomUUID();
  if ((await deps.connection.set(key, token, 'PX', lockMs, 'NX')) !== 'OK') return { outcome: 'busy', engine: 'none', before: 0, after: 0, detail: {} };
  try {
    return await dreamLocked(deps, workspaceId, now);
  } finally {
    await deps.connection.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

async function dreamLocked(deps: DreamDeps, workspaceId: string, now: Date): Promise<DreamResult> {
  const log = deps.log.child({ workspaceId });
  await reconcileStaged(deps.db, workspaceId, now);
  const [ws] = await deps.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  const timezone = readSettings(ws?.settings).timezone;
  // Checked just now: a failed check is the evidence that lets an entry be retired.
  const rows = await refreshRows(deps.db, workspaceId, await shownRows(deps.db, workspaceId, 5_000), now);
  const before: DreamEntry[] = rows.map((r) => ({ id: r.id, topic: r.topic, hint: r.hint, body: r.body, sourceRefs: r.sourceRefs, createdAt: r.createdAt, staleReason: r.status === 'stale' ? r.staleReason ?? 'a live check failed' : null }));
  const { engine, proposal, usage } = await propose(deps, log, workspaceId, now, timezone, before);
  const record = async (outcome: DreamResult['outcome'] & ('applied' | 'refused' | 'noop' | 'failed'), after: number, detail: Record<string, unknown>): Promise<DreamResult> => {
    await deps.db.insert(memoryDreams).values({ id: `dream_${randomUUID()}`, workspaceId, engine, outcome, before: before.length, after, detail: { ...detail, ...(usage ? { tokens: usage } : {}) }, startedAt: now });
    return { outcome, engine, before: before.length, after, detail };
  };
  if (!proposal) return record('failed', before.length, { reason: 'the engine gave no proposal' });
  const verdict = judgeProposal(before, proposal);
  if (!verdict.ok) {
    log.warn({ engine, reason: verdict.reason }, 'memory rewrite refused');
    return record('refused', before.length, { reason: verdict.reason, ...verdict.detail });
  }
  if (verdict.merged === 0 && verdict.rewritten === 0 && verdict.retired.length === 0 && verdict.dropped.length === 0) return record('noop', before.length, {});
  await deps.db.transaction(async (tx) => {
    const live = inArray(memories.status, ['active', 'stale']);
    for (const e of verdict.entries) {
      const [keep, ...merged] = e.from;
      if (!keep) continue;
      await tx.update(memories).set({ topic: e.topic, hint: e.hint, body: e.body, sourceRefs: e.sources, updatedAt: now }).where(and(eq(memories.id, keep), live));
      if (merged.length > 0) {
        await tx.update(memories).set({ status: 'superseded', supersededBy: keep, staleReason: `merged into ${keep}`, updatedAt: now }).where(and(inArray(memories.id, merged), live));
      }
    }
    for (const r of verdict.retired) {
      await tx.update(memories).set({ status: 'superseded', staleReason: r.reason, updatedAt: now }).where(and(eq(memories.id, r.id), live));
    }
    if (verdict.dropped.length > 0) {
      await tx.update(memories).set({ status: 'superseded', staleReason: 'dropped to keep the index within its bounds', updatedAt: now }).where(and(inArray(memories.id, verdict.dropped), live));
    }
  });
  log.info({ engine, before: before.length, after: verdict.entries.length, merged: verdict.merged, retired: verdict.retired.length }, 'memory consolidated');
  return record('applied', verdict.entries.length, {
    merged: verdict.entries.filter((e) => e.from.length > 1).map((e) => e.from),
    rewritten: verdict.rewritten,
    retired: verdict.retired,
    dropped: verdict.dropped,
  });
}

async function propose(deps: DreamDeps, log: Logger, workspaceId: string, now: Date, timezone: string, before: DreamEntry[]) {
  const rules = () => rulesProposal(before, { timezone, bounds: deps.bounds });
  if (!deps.brain.consolidate || before.length === 0) return { engine: 'rules', proposal: rules(), usage: undefined };
  try {
    const { proposal, usage } = await deps.brain.consolidate({
      workspaceId, now, timezone, maxEntries: deps.bounds.maxLines - 1,
      entries: before.map((e) => ({ id: e.id, topic: e.topic, hint: e.hint, body: e.body, sources: e.sourceRefs, createdAt: e.createdAt, staleReason: e.staleReason })),
    });
    return { engine: deps.brain.name, proposal: proposal as ConsolidateProposal, usage };
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'consolidation by the model failed; consolidating by rules');
    return { engine: 'rules (fallback)', proposal: rules(), usage: undefined };
  }
}

/** Workspaces due a dream: enough new entries since the last one, idle, and none within the interval. */
export async function dueWorkspaces(db: Db, now: Date, o: DreamOptions): Promise<string[]> {
  const counts = await db
    .select({ workspaceId: memories.workspaceId, n: sql<number>`count(*)::int` })
    .from(memories)
    .where(and(inArray(memories.status, ['active', 'stale']), gt(memories.createdAt, sql`coalesce((select max(d.finished_at) from memory_dreams d where d.workspace_id = ${memories.workspaceId} and d.outcome <> 'failed'), 'epoch'::timestamptz)`)))
    .groupBy(memories.workspaceId);
  const due: string[] = [];
  for (const c of counts) {
    if (c.n < o.minNewEntries) continue;
    const [last] = await db.select({ at: memoryDreams.finishedAt }).from(memoryDreams).where(and(eq(memoryDreams.workspaceId, c.workspaceId), ne(memoryDreams.outcome, 'failed'))).orderBy(desc(memoryDreams.finishedAt)).limit(1);
    if (last && now.getTime() - last.at.getTime() < o.minIntervalMs) continue;
    const [latest] = await db.select({ at: events.receivedAt }).from(events).where(eq(events.workspaceId, c.workspaceId)).orderBy(desc(events.id)).limit(1);
    if (latest && now.getTime() - latest.at.getTime() < o.idleMs) continue;
    due.push(c.workspaceId);
  }
  return due;
}
