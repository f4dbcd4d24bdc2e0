// Memory rows in Postgres: staging inside the tick's transaction, activation once what an entry records
// is verified, verify-on-read with the verdicts persisted, recall and forget.
import { randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Intent } from '../core/decisions.js';
import { redactSecrets } from '../core/redact.js';
import type { Db, Tx } from '../db/client.js';
import { approvals, memories, outbox } from '../db/schema.js';
import { verifyEntries, type LiveIncidents } from './checks.js';
import { policyClaim } from './guard.js';
import { cleanRefs } from './refs.js';
import { renderIndex, type IndexBounds, type IndexEntry } from './render.js';

export type MemoryRow = typeof memories.$inferSelect;
export type PendingOn = NonNullable<MemoryRow['pendingOn']>;
export type ShownRow = MemoryRow & { status: 'active' | 'stale' };

export const newMemoryId = (): string => `mem_${randomBytes(5).toString('hex')}`;

const LIMITS = { topic: 100, hint: 200, body: 2_000 };

/** A `remember` intent made safe to store: secrets redacted (again), references cleaned, sizes capped. */
export function cleanIntent(i: Extract<Intent, { type: 'remember' }>): { topic: string; hint: string; body: string; sourceRefs: string[] } | { refused: string } {
  const clean = (text: string, max: number) => redactSecrets(text.replace(/\s+/g, ' ').trim()).text.slice(0, max);
  const entry = { topic: clean(i.topic, LIMITS.topic), hint: clean(i.hint, LIMITS.hint), body: redactSecrets(i.body.trim()).text.slice(0, LIMITS.body), sourceRefs: cleanRefs(i.sources) };
  if (!entry.topic || !entry.hint || !entry.body) return { refused: 'it is empty' };
  if (entry.sourceRefs.length === 0) return { refused: 'it has no source references (like incident:<id> or repo:<owner/name>)' };
  const claim = policyClaim(`${entry.topic}. ${entry.hint}. ${entry.body}`);
  if (claim) return { refused: `it reads like a policy change ("${claim.slice(0, 60)}"); settings change only through /tacit commands` };
  return entry;
}

export interface StageRequest {
  workspaceId: string;
  decisionId: string;
  intents: Extract<Intent, { type: 'remember' }>[];
  outboxIds: string[];
  approvalOutboxIds: string[];
  now: Date;
}

/**
 * What a staged entry waits for. A decision that asked for approval is remembering the action: the
 * entry waits for that approval's action to run and pass its verify step (with several approvals, the
 * one whose action the entry names, else the first). Otherwise it waits for the decision's first
 * message to be delivered. Nothing said (every message vetoed) means nothing verifies it: not kept.
 */
async function pendingOnFor(tx: Tx, req: StageRequest, entry: { topic: string; hint: string; body: string; sourceRefs: string[] }): Promise<PendingOn | null> {
  if (req.approvalOutboxIds.length > 0) {
    const asked = await tx.select({ id: approvals.id, action: approvals.action }).from(approvals).where(eq(approvals.decisionId, req.decisionId)).orderBy(approvals.createdAt, approvals.id);
    const text = `${entry.topic} ${entry.hint} ${entry.body}`;
    const named = asked.find((a) => entry.sourceRefs.includes(`action:${a.action}`)) ?? asked.find((a) => text.includes(a.action));
    const approval = named ?? asked[0];
    if (approval) return { kind: 'approval', id: approval.id };
  }
  const first = req.outboxIds[0];
  return first ? { kind: 'outbox', id: first } : null;
}

export async function stageEntries(tx: Tx, req: StageRequest): Promise<{ notes: string[] }> {
  const notes: string[] = [];
  for (const intent of req.intents) {
    const entry = cleanIntent(intent);
    if ('refused' in entry) {
      notes.push(`memory not kept: ${entry.refused}`);
      continue;
    }
    const pendingOn = await pendingOnFor(tx, req, entry);
    if (!pendingOn) {
      notes.push(`memory "${entry.topic}" not kept: nothing was said, so nothing can verify it`);
      continue;
    }
    const id = newMemoryId();
    await tx.insert(memories).values({ id, workspaceId: req.workspaceId, ...entry, status: 'staged', decisionId: req.decisionId, pendingOn, createdAt: req.now, updatedAt: req.now });
    notes.push(`memory ${id} "${entry.topic}" staged until ${pendingOn.kind === 'outbox' ? 'its message is delivered' : 'its action is verified'}`);
  }
  return { notes };
}

const pendingOnIs = (p: PendingOn) => sql`${memories.pendingOn} = ${JSON.stringify(p)}::jsonb`;

/** Staged entries waiting on `p` become active; returns their ids. */
export async function activate(db: Db, p: PendingOn, now: Date): Promise<string[]> {
  const rows = await db
    .update(memories)
    .set({ status: 'active', verifiedAt: now, updatedAt: now })
    .where(and(eq(memories.status, 'staged'), pendingOnIs(p)))
    .returning({ id: memories.id });
  return rows.map((r) => r.id);
}

/** What `p` recorded did not happen: its staged entries are deleted, leaving nothing behind. */
export async function dropStaged(db: Db, p: PendingOn): Promise<string[]> {
  const rows = await db.delete(memories).where(and(eq(memories.status, 'staged'), pendingOnIs(p))).returning({ id: memories.id });
  return rows.map((r) => r.id);
}

/**
 * Catches up on activations a crash may have missed: entries staged on a message that was sent become
 * active; on a message that died, or an approval denied, expired or failed, they are dropped.
 * (An executed approval is left to `onActionFinished`, which alone knows whether its verify step passed.)
 */
export async function reconcileStaged(db: Db, workspaceId: string, now: Date): Promise<{ activated: number; dropped: number }> {
  const staged = await db.select({ id: memories.id, pendingOn: memories.pendingOn }).from(memories).where(and(eq(memories.workspaceId, workspaceId), eq(memories.status, 'staged')));
  if (staged.length === 0) return { activated: 0, dropped: 0 };
  const outboxIds = staged.flatMap((s) => (s.pendingOn?.kind === 'outbox' ? [s.pendingOn.id] : []));
  const approvalIds = staged.flatMap((s) => (s.pendingOn?.kind === 'approval' ? [s.pendingOn.id] : []));
  const sent = outboxIds.length === 0 ? [] : await db.select({ id: outbox.id, status: outbox.status }).from(outbox).where(inArray(outbox.id, outboxIds));
  const asked = approvalIds.length === 0 ? [] : await db.select({ id: approvals.id, status: approvals.status }).from(approvals).where(inArray(approvals.id, approvalIds));
  let activated = 0;
  let dropped = 0;
  for (const o of sent) {
    if (o.status === 'sent') activated += (await activate(db, { kind: 'outbox', id: o.id }, now)).length;
    if (o.status === 'dead' || o.status === 'skipped') dropped += (await dropStaged(db, { kind: 'outbox', id: o.id })).length;
  }
  for (const a of asked) {
    if (a.status === 'denied' || a.status === 'expired' || a.status === 'failed') dropped += (await dropStaged(db, { kind: 'approval', id: a.id })).length;
  }
  return { activated, dropped };
}

/** Active and stale entries, newest first. */
export async function shownRows(db: Db, workspaceId: string, limit = 1_000): Promise<ShownRow[]> {
  const rows = await db
    .select()
    .from(memories)
    .where(and(eq(memories.workspaceId, workspaceId), inArray(memories.status, ['active', 'stale'])))
    .orderBy(desc(memories.createdAt), desc(memories.id))
    .limit(limit);
  return rows as ShownRow[];
}

/**
 * Verify-on-read: checks the rows against live state and persists what changed (a failed check makes an
 * entry stale with the reason; an entry whose checks pass again is active again). Returns the rows as they now are.
 */
export async function refreshRows(db: Db, workspaceId: string, rows: ShownRow[], now: Date, live?: LiveIncidents): Promise<ShownRow[]> {
  if (rows.length === 0) return rows;
  const verdicts = await verifyEntries(db, workspaceId, rows, live);
  const out: ShownRow[] = [];
  for (const row of rows) {
    const v = verdicts.get(row.id);
    const status = v?.staleReason ? 'stale' : 'active';
    const staleReason = v?.staleReason ?? null;
    if (!v || (status === row.status && staleReason === row.staleReason)) {
      out.push(row);
      continue;
    }
    // Conditional on the status read: an entry forgotten or merged meanwhile is not brought back.
    const [updated] = await db
      .update(memories)
      .set({ status, staleReason, checks: v.checks, checkedAt: now, updatedAt: now })
      .where(and(eq(memories.id, row.id), eq(memories.status, row.status)))
      .returning();
    if (updated) {
      out.push(updated as ShownRow);
      continue;
    }
    // Another reader re-checked it meanwhile: still shown (with this check's verdict) unless it is gone.
    const [current] = await db.select().from(memories).where(and(eq(memories.id, row.id), inArray(memories.status, ['active', 'stale'])));
    if (current) out.push({ ...(current as ShownRow), status, staleReason });
  }
  return out;
}

export function toIndexEntry(r: ShownRow): IndexEntry {
  return { id: r.id, topic: r.topic, hint: r.hint, sourceRefs: r.sourceRefs, status: r.status, staleReason: r.staleReason };
}

/** The index as the brain and `/tacit memory` see it, every entry checked first. */
export async function readIndex(db: Db, workspaceId: string, now: Date, bounds: IndexBounds, live?: LiveIncidents): Promise<{ text: string; rows: ShownRow[]; omitted: number }> {
  const rows = await refreshRows(db, workspaceId, await shownRows(db, workspaceId), now, live);
  const rendered = renderIndex(rows.map(toIndexEntry), bounds);
  return { text: rendered.text, rows, omitted: rendered.omitted };
}

/** One entry's body, re-checked first; null when there is no such active or stale entry here. */
export async function recallEntry(db: Db, workspaceId: string, id: string, now: Date, live?: LiveIncidents): Promise<string | null> {
  const rows = await db.select().from(memories).where(and(eq(memories.workspaceId, workspaceId), eq(memories.id, id), inArray(memories.status, ['active', 'stale'])));
  const [row] = await refreshRows(db, workspaceId, rows as ShownRow[], now, live);
  if (!row) return null;
  const stale = row.status === 'stale' ? `STALE — ${row.staleReason ?? 'a live check failed'}; do not present this as fact.\n` : '';
  return `${stale}${row.topic}: ${row.hint}\n${row.body}\nsources: ${row.sourceRefs.join(', ')}\nwritten: ${row.createdAt.toISOString()}`;
}

/** Deletes an entry a person asked to forget (whatever its status); returns it, or null. */
export async function forgetEntry(db: Db, workspaceId: string, id: string): Promise<MemoryRow | null> {
  const [row] = await db.delete(memories).where(and(eq(memories.workspaceId, workspaceId), eq(memories.id, id))).returning();
  return row ?? null;
}
