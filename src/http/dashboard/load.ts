// Gathers the dashboard's data: heartbeat counters and timelines from Redis, decisions, incidents,
// approvals, outbox, quarantine and memory from Postgres.
import { desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { tableSizes } from '../../db/retention.js';
import { approvalAudit, approvals, decisions, incidents, memories, outbox, quarantine, workspaces } from '../../db/schema.js';
import type { HeartbeatSignals } from '../../heartbeat/signals.js';
import { feedbackCounts } from '../../sources/feedback.js';
import type { DashboardData } from './data.js';
import { loadReports } from './reports.js';

export async function loadDashboard(db: Db, signals: HeartbeatSignals, now: Date): Promise<DashboardData> {
  const wsRows = await db.select().from(workspaces).orderBy(workspaces.id).limit(50);
  const workspaceData = await Promise.all(
    wsRows.map(async (w) => ({
      id: w.id,
      name: w.name,
      platform: w.platform,
      pausedUntil: w.pausedUntil && w.pausedUntil > now ? w.pausedUntil.toISOString() : null,
      counters: await signals.counters(w.id),
      timeline: await signals.timeline(w.id, now),
    })),
  );
  const decisionRows = await db
    .select({
      d: decisions,
      // Qualified by hand: inside a subquery drizzle renders bare column names, which would be ambiguous.
      messages: sql<number>`(select count(*)::int from outbox o where o.decision_id = ${sql.raw('"decisions"."id"')})`,
      helpful: sql<number>`(select count(*)::int from feedback f where f.decision_id = ${sql.raw('"decisions"."id"')} and f.verdict = 'helpful')`,
      notHelpful: sql<number>`(select count(*)::int from feedback f where f.decision_id = ${sql.raw('"decisions"."id"')} and f.verdict = 'not_helpful')`,
    })
    .from(decisions)
    .orderBy(desc(decisions.createdAt))
    .limit(50);
  const open = await db.select().from(incidents).where(ne(incidents.status, 'resolved')).orderBy(desc(incidents.startedAt)).limit(50);
  // Pending approvals first, then the most recent decided ones, each with its audit trail.
  const pendingRows = await db.select().from(approvals).where(eq(approvals.status, 'pending')).orderBy(approvals.expiresAt).limit(50);
  const recentRows = await db.select().from(approvals).where(ne(approvals.status, 'pending')).orderBy(desc(approvals.createdAt)).limit(20);
  const waiting = [...pendingRows, ...recentRows];
  const trail = waiting.length > 0
    ? await db.select().from(approvalAudit).where(inArray(approvalAudit.approvalId, waiting.map((a) => a.id))).orderBy(approvalAudit.id)
    : [];
  const counts = await db.select({ status: outbox.status, n: sql<number>`count(*)::int` }).from(outbox).groupBy(outbox.status);
  const dead = await db.select().from(outbox).where(eq(outbox.status, 'dead')).orderBy(desc(outbox.createdAt)).limit(20);
  const quarantined = await db
    .select({ id: quarantine.id, sourceId: quarantine.sourceId, kind: quarantine.kind, eventId: quarantine.eventId, reason: quarantine.reason, bytes: sql<number>`octet_length(${quarantine.body})`, receivedAt: quarantine.receivedAt })
    .from(quarantine)
    .orderBy(desc(quarantine.id))
    .limit(20);
  const remembered = await db
    .select()
    .from(memories)
    .where(inArray(memories.status, ['staged', 'active', 'stale']))
    .orderBy(desc(memories.createdAt))
    .limit(100);
  const byStatus = (s: string) => counts.find((c) => c.status === s)?.n ?? 0;
  const tables = await tableSizes(db);
  return {
    tables,
    reports: await loadReports(db),
    generatedAt: now.toISOString(),
    workspaces: workspaceData,
    feedback: await feedbackCounts(db),
    decisions: decisionRows.map(({ d, messages, helpful, notHelpful }) => ({
      id: d.id,
      workspaceId: d.workspaceId,
      createdAt: d.createdAt.toISOString(),
      trigger: d.trigger,
      brain: d.brain,
      outcome: d.outcome,
      reasons: d.reasons,
      vetoes: d.vetoes,
      tokens: d.inputTokens + d.outputTokens + d.cacheReadTokens + d.cacheWriteTokens,
      costMicroUsd: d.costMicroUsd,
      messages,
      feedback: { helpful: Number(helpful), notHelpful: Number(notHelpful) },
    })),
    incidents: open.map((i) => ({
      id: i.id, workspaceId: i.workspaceId, title: i.title, status: i.status, severity: i.severity, flapping: i.flapping, startedAt: i.startedAt.toISOString(),
    })),
    approvals: waiting.map((a) => ({
      id: a.id, workspaceId: a.workspaceId, action: a.action, requestedBy: a.requestedBy, status: a.status, expiresAt: a.expiresAt.toISOString(),
      audit: trail
        .filter((r) => r.approvalId === a.id)
        .map((r) => ({ at: r.at.toISOString(), kind: r.kind, actor: String(r.detail.name ?? r.actor), detail: String(r.detail.reason ?? r.detail.result ?? r.detail.detail ?? r.detail.error ?? '') })),
    })),
    outbox: {
      pending: byStatus('pending'),
      sent: byStatus('sent'),
      skipped: byStatus('skipped'),
      dead: byStatus('dead'),
      deadRows: dead.map((r) => ({ id: r.id, channelId: r.channelId, lastError: r.lastError, createdAt: r.createdAt.toISOString() })),
    },
    quarantine: quarantined.map((q) => ({ ...q, receivedAt: q.receivedAt.toISOString() })),
    memory: remembered.map((m) => ({
      id: m.id, workspaceId: m.workspaceId, status: m.status, topic: m.topic, hint: m.hint, sourceRefs: m.sourceRefs, staleReason: m.staleReason,
      verifiedAt: m.verifiedAt?.toISOString() ?? null, checkedAt: m.checkedAt?.toISOString() ?? null,
    })),
  };
}
