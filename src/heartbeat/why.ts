// `@tacit why`: the decisions behind Tacit's messages in a thread — what woke it, which events,
// which brain, what it said or was stopped from saying, and what it cost.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { timeWithRelative } from '../core/human-time.js';
import { readSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { approvalAudit, approvals, decisions, events, outbox, workspaces } from '../db/schema.js';
import { explainSteps } from '../oncall/why-steps.js';
import { explainEvidence } from '../investigate/explain.js';

/** @param now the clock's now: times read "07:32 UTC (12 min ago)" in the workspace's zone */
export async function explainThread(db: Db, workspaceId: string, threadId: string | null, now: Date): Promise<string> {
  if (!threadId) return 'Ask `@tacit why` inside the thread of one of my messages, and I will show you the decision behind it.';
  const roots = await db
    .select({ decisionId: outbox.decisionId, incidentId: outbox.incidentId })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), sql`${outbox.sentMessage}->>'messageId' = ${threadId}`));
  const incidentIds = [...new Set(roots.flatMap((r) => (r.incidentId ? [r.incidentId] : [])))];
  const related = incidentIds.length > 0
    ? await db.select({ decisionId: outbox.decisionId }).from(outbox).where(inArray(outbox.incidentId, incidentIds))
    : [];
  const threadReplies = await db
    .select({ decisionId: outbox.decisionId })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), sql`${outbox.anchor}->>'threadId' = ${threadId}`));
  // Decisions about the incident that posted nothing (vetoed, held) are part of the story too.
  const aboutIncident = incidentIds.length > 0
    ? await db
        .select({ decisionId: decisions.id })
        .from(decisions)
        .where(and(eq(decisions.workspaceId, workspaceId), sql`${decisions.incidentIds} ?| array[${sql.join(incidentIds.map((i) => sql`${i}`), sql`, `)}]`))
    : [];
  const ids = [...new Set([...roots, ...related, ...threadReplies, ...aboutIncident].flatMap((r) => (r.decisionId ? [r.decisionId] : [])))];
  const [workspace] = await db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  const when = (at: Date) => timeWithRelative(at, { now, timezone: readSettings(workspace?.settings).timezone });
  const approvalLines = await explainApprovals(db, workspaceId, threadId, incidentIds, when);
  const stepLines = await explainSteps(db, incidentIds, when);
  if (ids.length === 0 && approvalLines.length === 0 && stepLines.length === 0) return 'I did not post anything in this thread, so there is no decision of mine to explain.';

  const rows = await db.select().from(decisions).where(inArray(decisions.id, ids)).orderBy(asc(decisions.createdAt)).limit(10);
  const eventIds = [...new Set(rows.flatMap((d) => d.eventIds))].slice(0, 200);
  const eventRows = eventIds.length > 0 ? await db.select({ id: events.id, kind: events.kind, payload: events.payload }).from(events).where(inArray(events.id, eventIds)) : [];
  const describe = new Map(eventRows.map((e) => [e.id, describeEvent(e.kind, e.payload)]));

  const lines = [`I am a bot; here is why I posted in this thread (${rows.length} decision${rows.length === 1 ? '' : 's'}):`];
  for (const d of rows) {
    const evs = d.eventIds.map((id) => describe.get(id)).filter(Boolean);
    const tokens = d.inputTokens + d.outputTokens + d.cacheReadTokens + d.cacheWriteTokens;
    lines.push(
      `• ${when(d.createdAt)} — decision ${d.id}, ${triggerText(d.trigger)}, brain: ${d.brain}, outcome: ${d.outcome}.`,
      `  Why: ${d.reasons.join('; ') || '—'}`,
      `  Events: ${evs.length > 0 ? evs.slice(0, 5).join('; ') + (evs.length > 5 ? ` and ${evs.length - 5} more` : '') : 'none (a time-based wake)'}`,
      `  Cost: ${tokens} tokens, $${(d.costMicroUsd / 1_000_000).toFixed(4)}${d.vetoes.length > 0 ? `. Held back or vetoed: ${d.vetoes.join('; ')}` : ''}`,
    );
  }
  return [...lines, ...approvalLines, ...stepLines, ...(await explainEvidence(db, incidentIds))].join('\n');
}

/** The audit trail of approvals asked for in this thread: who asked, who decided, what ran, what verification found. */
async function explainApprovals(db: Db, workspaceId: string, threadId: string, incidentIds: string[], when: (at: Date) => string): Promise<string[]> {
  const found = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        incidentIds.length > 0
          ? sql`(${approvals.card}->>'messageId' = ${threadId} or ${inArray(approvals.incidentId, incidentIds)})`
          : sql`${approvals.card}->>'messageId' = ${threadId}`,
      ),
    )
    .orderBy(asc(approvals.createdAt))
    .limit(10);
  if (found.length === 0) return [];
  const trail = await db.select().from(approvalAudit).where(inArray(approvalAudit.approvalId, found.map((a) => a.id))).orderBy(asc(approvalAudit.id));
  const lines = ['Actions asked for here, and what happened:'];
  for (const a of found) {
    lines.push(`• approval ${a.id} — ${a.action}, now ${a.status}. Asked by ${a.requestedBy}${a.decisionId ? ` (decision ${a.decisionId})` : ''}: ${a.reason}`);
    for (const row of trail.filter((r) => r.approvalId === a.id)) {
      const who = String(row.detail.name ?? row.actor);
      const what = row.detail.reason ?? row.detail.result ?? row.detail.detail ?? row.detail.error ?? '';
      lines.push(`  ${when(row.at)} ${row.kind} by ${who}${what ? `: ${String(what)}` : ''}`);
    }
  }
  return lines;
}

function triggerText(trigger: string): string {
  switch (trigger) {
    case 'wake':
      return 'woken at once by urgent news';
    case 'schedule':
      return 'on a scheduled heartbeat';
    case 'time':
      return 'on a time-based wake';
    case 'mention':
      return 'answering a mention';
    default:
      return trigger;
  }
}

function describeEvent(kind: string, payload: unknown): string {
  const p = (payload ?? {}) as Record<string, unknown>;
  if (kind === 'alert') return `alert "${String(p.title)}" ${String(p.status)} (${String(p.source)}, ${String(p.severity)})`;
  if (kind === 'repo') return `${String(p.repo)}: ${String(p.title)}`;
  if (kind === 'incident.ack') return `acknowledged by ${String((p.by as { name?: string } | undefined)?.name ?? 'someone')}`;
  if (kind === 'chat.mention' || kind === 'chat.message') return `message from ${String((p.author as { name?: string } | undefined)?.name ?? 'someone')}`;
  return kind;
}
