// Approvals: a request binds an action, its exact parameters (and their hash), the requester, the
// approver policy and an expiry. A click is authorised, then applied with one atomic transition on
// database time; anything else (a second click, a replay, a late click) changes nothing, is
// explained privately and leaves an audit row. The audit trail is append-only; it also holds the first
// of two approvals (`approved_partial`) where two people must approve. Long parameters are posted in
// full as files in the card's thread, and are approvable only once those files are delivered.
import { createHash, randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { approvalsNeeded, type ApproverPolicy, type Risk } from '../core/actions.js';
import { approvalCard, longValues, type ApprovalStatus, type ApprovalView } from '../core/approval-card.js';
import type { OutgoingMessage } from '../core/message.js';
import type { Anchor } from '../core/plan.js';
import { redactDeep } from '../core/redact.js';
import { readSettings } from '../core/settings.js';
import type { Db, Tx } from '../db/client.js';
import { approvalAudit, approvals, outbox, workspaces } from '../db/schema.js';

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

/** @param names people's names by id (the id is shown for anyone not in it) */
export function describePolicy(policy: ApproverPolicy, names: ReadonlyMap<string, string> = new Map()): string {
  const parts = [...policy.users.map((u) => names.get(u) ?? `user ${u}`), ...policy.groups.map((g) => `group ${g}`)];
  if (parts.length === 0) return 'nobody (no approvers configured)';
  return `${parts.join(', ')}${policy.twoPerson ? ' — not the requester' : ''}`;
}

/**
 * The card for an approval as it stands now (delivery renders it when it sends, so it is never stale),
 * with times in the workspace's zone as of `now`; `nameOf` names people ("Requested by bob", not an id).
 */
export async function renderApprovalCard(
  db: Db, approvalId: string, now: Date, personName: (workspaceId: string, personId: string) => Promise<string> = async (_ws, id) => id,
): Promise<OutgoingMessage | null> {
  const [a] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!a) return null;
  const policy = a.approverPolicy as ApproverPolicy;
  const people = [...new Set([a.requestedBy, ...(policy.users ?? [])])];
  const names = new Map(await Promise.all(people.map(async (id) => [id, await personName(a.workspaceId, id)] as const)));
  const [workspace] = await db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, a.workspaceId));
  const trail = await db
    .select()
    .from(approvalAudit)
    .where(and(eq(approvalAudit.approvalId, approvalId), sql`${approvalAudit.kind} in ('requested', 'approved_partial', 'approved', 'denied')`))
    .orderBy(asc(approvalAudit.id));
  const nameOf = (r: (typeof trail)[number]) => String(r.detail.name ?? r.actor);
  const final = trail.find((r) => r.kind === 'approved' || r.kind === 'denied');
  const partial = trail.filter((r) => r.kind === 'approved_partial' && r.detail.paramsHash === a.paramsHash).map(nameOf);
  const decider = final ? (final.kind === 'approved' ? [...partial, nameOf(final)].join(' and ') : nameOf(final)) : a.decidedBy;
  const risk = riskOf(trail.find((r) => r.kind === 'requested')?.detail);
  const result = a.result as { summary?: string; error?: string } | null;
  const view: ApprovalView = {
    paramsHash: a.paramsHash,
    risk,
    approvalsNeeded: approvalsNeeded(risk, a.approverPolicy as ApproverPolicy, a.requestedBy),
    approvedSoFar: final ? [] : partial,
    id: a.id,
    action: a.action,
    params: (a.params ?? {}) as Record<string, unknown>,
    reason: a.reason,
    status: a.status as ApprovalStatus,
    requestedBy: names.get(a.requestedBy) ?? a.requestedBy,
    approvers: describePolicy(policy, names),
    expiresAt: a.expiresAt,
    decidedBy: decider,
    decidedAt: a.decidedAt,
    decisionNote: a.decisionNote,
    result: result ? (result.summary ?? (result.error ? `error: ${result.error}` : null)) : null,
    verification: (a.verification as { ok: boolean; detail: string } | null) ?? null,
  };
  return redactDeep(approvalCard(view, { now, timezone: readSettings(workspace?.settings).timezone })) as OutgoingMessage;
}

/** The risk recorded when the approval was requested (what its card showed); unknown counts as `write`. */
export function riskOf(requested: Record<string, unknown> | undefined): Risk {
  const risk = requested?.risk;
  return risk === 'read' || risk === 'dangerous' ? risk : 'write';
}

const fileKey = (approvalId: string, param: string) => `approval:${approvalId}:file:${param}`;

/**
 * Queues each long parameter's full text as a file in the card's thread (the incident's thread when the
 * card is there), once the card is posted: the thread exists only then. Idempotent; returns new rows.
 */
export async function queueFullTexts(db: Db, approvalId: string): Promise<string[]> {
  const [a] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!a?.card) return [];
  const long = longValues(a.id, (a.params ?? {}) as Record<string, unknown>);
  if (long.length === 0) return [];
  const [post] = await db
    .select({ anchor: outbox.anchor })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, a.workspaceId), eq(outbox.idempotencyKey, `approval:${a.id}:card`)));
  const incidentId = (post?.anchor as Extract<Anchor, { type: 'approval_card' }> | undefined)?.incidentId;
  const anchor: Anchor = incidentId ? { type: 'incident_thread' } : { type: 'thread', threadId: a.card.messageId };
  const rows = await db
    .insert(outbox)
    .values(long.map((f) => ({
      id: `out_${randomUUID()}`, workspaceId: a.workspaceId, decisionId: a.decisionId, idempotencyKey: fileKey(a.id, f.param), kind: 'post' as const,
      channelId: a.channelId, anchor, incidentId: incidentId ?? null,
      message: { text: `Full text of "${f.param}" for approval ${a.id}: ${f.content.length} characters, sha256 ${f.sha256}.`, file: { filename: f.filename, content: f.content } },
      purpose: 'file', proactive: false,
    })))
    .onConflictDoNothing({ target: [outbox.workspaceId, outbox.idempotencyKey] })
    .returning({ id: outbox.id });
  return rows.map((r) => r.id);
}

/** Whether every long parameter of this approval has been delivered in full (its file's outbox row sent). */
export async function fullTextsShown(db: Db, a: Pick<ApprovalRow, 'id' | 'workspaceId' | 'params'>): Promise<boolean> {
  const long = longValues(a.id, (a.params ?? {}) as Record<string, unknown>);
  if (long.length === 0) return true;
  const sent = await db
    .select({ key: outbox.idempotencyKey })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, a.workspaceId), inArray(outbox.idempotencyKey, long.map((f) => fileKey(a.id, f.param))), eq(outbox.status, 'sent')));
  return sent.length === long.length;
}

/** Who approved so far, for these very parameters, where two people must (audit rows `approved_partial`). */
export async function partialApprovers(db: Writer, approvalId: string, hash: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ actor: approvalAudit.actor })
    .from(approvalAudit)
    .where(and(eq(approvalAudit.approvalId, approvalId), eq(approvalAudit.kind, 'approved_partial'), sql`${approvalAudit.detail}->>'paramsHash' = ${hash}`));
  return rows.map((r) => r.actor);
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
