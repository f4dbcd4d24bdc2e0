// Retention: rows older than their table's window are deleted in small batches by a maintenance
// task, and table sizes are measured for the dashboard. Unconsumed events and pending (or dead)
// outbox rows are never purged; approval_audit is append-only (a trigger refuses deletes) and kept.
import { and, asc, inArray, isNotNull, like, lt, notLike, sql, type SQL } from 'drizzle-orm';
import type { RetentionDays } from '../config.js';
import type { Db } from './client.js';
import { decisions, events, evidence, feedback, incidentSteps, outbox, playgroundMessages, quarantine } from './schema.js';

export interface PurgeOptions {
  now: Date;
  /** Rows per DELETE statement: short statements, short locks. */
  batchRows?: number;
  /** Statements per table per run, so one run is bounded; the next run goes on. */
  maxBatches?: number;
}

/** Rows removed per table (only tables with a window). */
export type PurgeResult = Partial<Record<keyof RetentionDays, number>>;

type Purger = (cutoff: Date, limit: number) => Promise<number>;

/** Each rule deletes up to `limit` rows older than `cutoff`, walking the table's time index. */
function purgers(db: Db): Record<keyof RetentionDays, Purger> {
  const consumedEvents = (cutoff: Date, limit: number, kind: SQL) =>
    db.delete(events).where(inArray(events.id, db.select({ id: events.id }).from(events)
      .where(and(lt(events.receivedAt, cutoff), isNotNull(events.tickId), kind)).limit(limit)))
      .returning({ id: events.id }).then((r) => r.length);
  return {
    chatTextDays: (cutoff, limit) => consumedEvents(cutoff, limit, like(events.kind, 'chat.%')),
    eventDays: (cutoff, limit) => consumedEvents(cutoff, limit, notLike(events.kind, 'chat.%')),
    decisionDays: async (cutoff, limit) => {
      const gone = await db.delete(decisions).where(inArray(decisions.id, db.select({ id: decisions.id }).from(decisions).where(lt(decisions.createdAt, cutoff)).limit(limit)))
        .returning({ id: decisions.id }).then((r) => r.length);
      // Evidence explains decisions (investigations, src/investigate): it is kept as long as they are.
      const evidenceGone = await db.delete(evidence).where(inArray(evidence.id, db.select({ id: evidence.id }).from(evidence).where(lt(evidence.createdAt, cutoff)).limit(limit)))
        .returning({ id: evidence.id }).then((r) => r.length);
      // Feedback is about decisions: kept as long as they are.
      const feedbackGone = await db.delete(feedback).where(inArray(feedback.decisionId, db.select({ id: feedback.decisionId }).from(feedback).where(lt(feedback.at, cutoff)).limit(limit)))
        .returning({ id: feedback.decisionId }).then((r) => r.length);
      // Incident steps (acknowledgements, source syncs, escalations: src/oncall) explain incidents as decisions do.
      // Append-only, so the oldest ids are the oldest rows: walked by the primary key.
      const stepsGone = await db.delete(incidentSteps).where(inArray(incidentSteps.id, db.select({ id: incidentSteps.id }).from(incidentSteps).where(lt(incidentSteps.at, cutoff)).orderBy(asc(incidentSteps.id)).limit(limit)))
        .returning({ id: incidentSteps.id }).then((r) => r.length);
      return Math.max(gone, evidenceGone, feedbackGone, stepsGone);
    },
    outboxDays: (cutoff, limit) =>
      db.delete(outbox).where(inArray(outbox.id, db.select({ id: outbox.id }).from(outbox)
        .where(and(lt(outbox.createdAt, cutoff), inArray(outbox.status, ['sent', 'skipped']))).limit(limit)))
        .returning({ id: outbox.id }).then((r) => r.length),
    quarantineDays: (cutoff, limit) =>
      db.delete(quarantine).where(inArray(quarantine.id, db.select({ id: quarantine.id }).from(quarantine).where(lt(quarantine.receivedAt, cutoff)).limit(limit)))
        .returning({ id: quarantine.id }).then((r) => r.length),
    // No time index here: `seq` grows with time, so walking it oldest first stops at the first batch.
    playgroundMessageDays: (cutoff, limit) =>
      db.delete(playgroundMessages).where(inArray(playgroundMessages.seq, db.select({ seq: playgroundMessages.seq }).from(playgroundMessages)
        .where(lt(playgroundMessages.createdAt, cutoff)).orderBy(asc(playgroundMessages.seq)).limit(limit)))
        .returning({ seq: playgroundMessages.seq }).then((r) => r.length),
  };
}

/** Deletes what is older than each window (0 = kept forever), in batches; returns what it removed. */
export async function purgeExpired(db: Db, days: RetentionDays, opts: PurgeOptions): Promise<PurgeResult> {
  const batchRows = opts.batchRows ?? 1_000;
  const maxBatches = opts.maxBatches ?? 20;
  const removed: PurgeResult = {};
  const rules = purgers(db);
  for (const name of Object.keys(rules) as (keyof RetentionDays)[]) {
    const window = days[name];
    if (!(window > 0)) continue;
    const cutoff = new Date(opts.now.getTime() - window * 86_400_000);
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await rules[name](cutoff, batchRows);
      total += n;
      if (n < batchRows) break;
    }
    removed[name] = total;
  }
  return removed;
}

export interface TableSize {
  table: string;
  /** The planner's estimate; exact (counted up to a bound) where statistics are missing. */
  rows: number;
  /** True when `rows` is a lower bound: the table has at least that many. */
  atLeast: boolean;
  /** Table, indexes and TOAST together. */
  bytes: number;
}

/** The tables that grow with traffic, largest first. */
export const measuredTables = ['events', 'outbox', 'decisions', 'quarantine', 'incidents', 'playground_messages', 'approvals', 'approval_audit', 'memories', 'evidence'] as const;

const COUNT_BOUND = 100_000;

/**
 * Sizes from the catalogue (cheap on any size). Without statistics (reltuples < 0: never analysed,
 * always so on PGlite, which runs no autovacuum) rows are counted, at most COUNT_BOUND of them.
 */
export async function tableSizes(db: Db): Promise<TableSize[]> {
  const result = await db.execute(sql`
    select c.relname as name, c.reltuples::float8 as estimate, pg_total_relation_size(c.oid)::float8 as bytes
    from pg_class c
    where c.oid in (${sql.join(measuredTables.map((t) => sql`to_regclass(${t})`), sql`, `)})`);
  const rows = (result as unknown as { rows: { name: string; estimate: number; bytes: number }[] }).rows;
  const sizes: TableSize[] = [];
  for (const r of rows) {
    let count = Math.round(Number(r.estimate));
    let atLeast = false;
    if (count < 0) {
      const counted = await db.execute(sql`select count(*)::int as n from (select 1 from ${sql.identifier(r.name)} limit ${COUNT_BOUND}) t`);
      count = Number((counted as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0);
      atLeast = count >= COUNT_BOUND;
    }
    sizes.push({ table: r.name, rows: count, atLeast, bytes: Number(r.bytes) });
  }
  return sizes.sort((a, b) => b.bytes - a.bytes);
}

/** The maintenance task: one bounded purge, logged when it removed anything. */
export async function runPurge(db: Db, days: RetentionDays, now: Date, log: { info(obj: object, msg: string): void }): Promise<PurgeResult> {
  const removed = await purgeExpired(db, days, { now });
  if (Object.values(removed).some((n) => n > 0)) log.info({ removed }, 'retention purge removed expired rows');
  return removed;
}
