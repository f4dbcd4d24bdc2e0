// Approvals: a request binds an action, its exact parameters (and their hash), the requester, the
// approver policy and an expiry. A click is authorised, then applied with one atomic transition on
// database time; anything else (a second click, a replay, a late click) changes nothing, is
// explained privately and leaves an audit row. The audit trail is append-only.
import { createHash, randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ApproverPolicy } from '../core/actions.js';
import { approvalCard, type ApprovalStatus, type ApprovalView } from '../core/approval-card.js';
import type { OutgoingMessage } from '../core/message.js';
import type { Anchor } from '../core/plan.js';
import { redactDeep } from '../core/redact.js';
import type { Db, Tx } from '../db/client.js';
import { approvalAudit, approvals, outbox } from '../db/schema.js';

export type ApprovalRow = typeof approvals.$inferSelect;
type Writer = Db | Tx;

/** The hash an approval is bound to: action, workspace and parameters, canonically serialised. */
export function paramsHash(workspaceId: string, action: string, params: unknown): string {
  return createHash('sha256').update(canonical({ workspaceId, action, params })).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function newApprovalId(): string {
  // Random and unguessable; always looked up together with its workspace.
  return `apr_${randomUUID()}`;
}

export async function audit(
  db: Writer, row: { approvalId: string; workspaceId: string; kind: string; actor: string; detail?: Record<string, unknown> },
): Promise<void> {
  await db.insert(approvalAudit).values({ ...row, detail: row.detail ?? {} });
}

export function describePolicy(policy: ApproverPolicy): string {
  const parts = [...policy.users.map((u) => `user ${u}`), ...policy.groups.map((g) => `group ${g}`)];
  if (parts.length === 0) return 'nobody (no approvers configured)';
  return `${parts.join(', ')}${policy.twoPerson ? ' — not the requester' : ''}`;
}

/** The card for an approval as it stands now (delivery renders it when it sends, so it is never stale). */
export async function renderApprovalCard(db: Db, approvalId: string): Promise<OutgoingMessage | null> {
  const [a] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!a) return null;
  const decided = await db
    .select()
    .from(approvalAudit)
    .where(and(eq(approvalAudit.approvalId, approvalId), sql`${approvalAudit.kind} in ('approved', 'denied')`))
    .orderBy(asc(approvalAudit.id))
    .limit(1);
  const decider = decided[0] ? String(decided[0].detail.name ?? decided[0].actor) : a.decidedBy;
  const result = a.result as { summary?: string; error?: string } | null;
  const view: ApprovalView = {
    id: a.id,
    action: a.action,
    params: (a.params ?? {}) as Record<string, unknown>,
    reason: a.reason,
    status: a.status as ApprovalStatus,
    requestedBy: a.requestedBy,
    approvers: describePolicy(a.approverPolicy as ApproverPolicy),
    expiresAt: a.expiresAt,
    decidedBy: decider,
    decidedAt: a.decidedAt,
    result: result ? (result.summary ?? (result.error ? `error: ${result.error}` : null)) : null,
    verification: (a.verification as { ok: boolean; detail: string } | null) ?? null,
  };
  return redactDeep(approvalCard(view)) as OutgoingMessage;
}

/** Queues an edit of the approval's card; the key carries the version, so each state is queued once. */
export async function queueCardUpdate(db: Writer, a: Pick<ApprovalRow, 'id' | 'workspaceId' | 'channelId' | 'version' | 'decisionId'>): Promise<string | null> {
  const anchor: Anchor = { type: 'approval_card', approvalId: a.id };
  const [row] = await db
    .insert(outbox)
    .values({
      id: `out_${randomUUID()}`,
      workspaceId: a.workspaceId,
      decisionId: a.decisionId,
      idempotencyKey: `approval:${a.id}:v${a.version}`,
      kind: 'update',
      channelId: a.channelId,
      anchor,
      message: { text: 'approval card (rendered at delivery)' },
      purpose: 'approval_update',
      proactive: false,
    })
    .onConflictDoNothing({ target: [outbox.workspaceId, outbox.idempotencyKey] })
    .returning({ id: outbox.id });
  return row?.id ?? null;
}

/** Pending approvals past their expiry (on database time) become expired; their cards are updated. */
export async function expireOverdue(db: Db): Promise<{ expired: ApprovalRow[]; outboxIds: string[] }> {
  return db.transaction(async (tx) => {
    const expired = await tx
      .update(approvals)
      .set({ status: 'expired', version: sql`${approvals.version} + 1` })
      .where(and(eq(approvals.status, 'pending'), sql`${approvals.expiresAt} <= now()`))
      .returning();
    const outboxIds: string[] = [];
    for (const a of expired) {
      await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: 'expired', actor: 'tacit', detail: { expiresAt: a.expiresAt.toISOString() } });
      const id = await queueCardUpdate(tx, a);
      if (id) outboxIds.push(id);
    }
    return { expired, outboxIds };
  });
}
