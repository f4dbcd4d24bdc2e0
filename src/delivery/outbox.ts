// The outbox: every outbound message is a row first. Rows are written in the same transaction as the
// decision that produced them; the delivery worker sends them. A key already present is a duplicate.
import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { outbox } from '../db/schema.js';
import type { PlannedMessage } from '../core/plan.js';
import { redactDeep } from '../core/redact.js';

export interface QueuedResult {
  inserted: { id: string; idempotencyKey: string }[];
  duplicates: string[];
}

export async function queueMessages(
  tx: Tx,
  workspaceId: string,
  decisionId: string | null,
  planned: readonly PlannedMessage[],
): Promise<QueuedResult> {
  if (planned.length === 0) return { inserted: [], duplicates: [] };
  const rows = planned.map((p) => ({
    id: `out_${randomUUID()}`,
    workspaceId,
    decisionId,
    idempotencyKey: p.idempotencyKey,
    kind: p.kind,
    channelId: p.channelId,
    anchor: p.anchor,
    incidentId: p.incidentId,
    incidentVersion: p.incidentVersion,
    // Whatever brain wrote it, and whatever alert or chat text it quotes, no secret reaches the chat.
    message: redactDeep(p.message),
    purpose: p.purpose,
    proactive: p.purpose !== 'reply',
  }));
  const inserted = await tx
    .insert(outbox)
    .values(rows)
    .onConflictDoNothing({ target: [outbox.workspaceId, outbox.idempotencyKey] })
    .returning({ id: outbox.id, idempotencyKey: outbox.idempotencyKey });
  const got = new Set(inserted.map((r) => r.idempotencyKey));
  return { inserted, duplicates: planned.map((p) => p.idempotencyKey).filter((k) => !got.has(k)) };
}

/** Pending rows older than `olderThanMs`: their delivery job may have been lost in a crash. */
export async function stalePending(db: Db, olderThanMs: number, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.status, 'pending'), lt(outbox.createdAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`)))
    .limit(limit);
  return rows.map((r) => r.id);
}
