// An incident occurrence's timeline, from what Tacit kept: its alerts and acknowledgements (events),
// people's and Tacit's steps (incident_steps), actions asked for and run (approvals, approval_audit),
// the messages Tacit posted (outbox) and the repository changes suspected. Bounded: a 12,000-alert
// group is a few lines and a count, not a 12,000-line file.
import { and, asc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import { alertEventSchema } from '../core/events.js';
import { incidentGroupKey, type Incident } from '../core/incidents.js';
import type { Db } from '../db/client.js';
import { approvalAudit, approvals, events, incidentSteps, outbox } from '../db/schema.js';

export type TimelineKind = 'alert' | 'acknowledged' | 'step' | 'action' | 'message' | 'suspect';

export interface TimelineEntry {
  at: Date;
  kind: TimelineKind;
  text: string;
}

export interface Timeline {
  entries: TimelineEntry[];
  /** Alert events of this occurrence beyond those listed. */
  moreAlerts: number;
  acknowledgedBy: { who: string; at: Date }[];
  actions: { action: string; status: string; by: string | null }[];
  escalationSteps: number;
  messages: number;
}

const MAX_ALERT_LINES = 40;
const short = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function stepText(kind: string, actor: string, detail: Record<string, unknown>): string {
  if (kind === 'escalation') {
    const notified = Array.isArray(detail.notified) ? (detail.notified as unknown[]).map(String) : [];
    const skipped = Array.isArray(detail.skipped) ? (detail.skipped as { who?: unknown; why?: unknown }[]).map((s) => `${String(s.who)} (${String(s.why)})`) : [];
    const to = String(detail.to ?? '?');
    const what = to === 'thread' ? 'reminder in the thread' : `${to}${detail.via ? ` from ${String(detail.via)}` : ''}: ${notified.length > 0 ? `messaged ${notified.join(', ')}` : 'nobody messaged'}`;
    return `escalation step ${String(detail.step ?? '?')}: ${what}${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}`;
  }
  const note = detail.note ?? detail.reason ?? detail.result ?? detail.error;
  return `${kind} by ${actor}${note ? `: ${short(String(note), 120)}` : ''}`;
}

export async function incidentTimeline(db: Db, incident: Incident): Promise<Timeline> {
  const since = new Date(incident.startedAt.getTime() - 60_000);
  const entries: TimelineEntry[] = [];
  const eventRows = await db
    .select({ id: events.id, kind: events.kind, occurredAt: events.occurredAt, payload: events.payload })
    .from(events)
    .where(and(
      eq(events.workspaceId, incident.workspaceId), gte(events.occurredAt, since),
      or(eq(events.kind, 'alert'), and(eq(events.kind, 'incident.ack'), sql`${events.payload}->>'incidentId' = ${incident.id}`)),
    ))
    .orderBy(asc(events.id))
    .limit(5_000);
  let alertLines = 0;
  let moreAlerts = 0;
  const acknowledgedBy: Timeline['acknowledgedBy'] = [];
  for (const row of eventRows) {
    if (row.kind === 'incident.ack') {
      const by = String((row.payload as { by?: { name?: unknown } }).by?.name ?? 'someone');
      acknowledgedBy.push({ who: by, at: row.occurredAt });
      entries.push({ at: row.occurredAt, kind: 'acknowledged', text: `acknowledged by ${by}` });
      continue;
    }
    const alert = alertEventSchema.safeParse(row.payload);
    if (!alert.success || incidentGroupKey(alert.data) !== incident.groupKey) continue;
    if (alert.data.status === 'acknowledged') {
      acknowledgedBy.push({ who: alert.data.actor ?? alert.data.source, at: row.occurredAt });
      entries.push({ at: row.occurredAt, kind: 'acknowledged', text: `acknowledged in ${alert.data.source} by ${alert.data.actor ?? 'someone'}` });
      continue;
    }
    if (alertLines >= MAX_ALERT_LINES) {
      moreAlerts += 1;
      continue;
    }
    alertLines += 1;
    entries.push({ at: row.occurredAt, kind: 'alert', text: `${alert.data.source} alert ${alert.data.status}: ${short(alert.data.title, 120)} (${alert.data.severity})` });
  }

  const steps = await db.select().from(incidentSteps)
    .where(and(eq(incidentSteps.incidentId, incident.id), gte(incidentSteps.at, since)))
    .orderBy(asc(incidentSteps.id)).limit(500);
  for (const s of steps) entries.push({ at: s.at, kind: 'step', text: stepText(s.kind, s.actor, s.detail) });

  const asked = await db.select().from(approvals)
    .where(and(eq(approvals.incidentId, incident.id), gte(approvals.createdAt, since)))
    .orderBy(asc(approvals.createdAt)).limit(50);
  const trail = asked.length > 0
    ? await db.select().from(approvalAudit).where(inArray(approvalAudit.approvalId, asked.map((a) => a.id))).orderBy(asc(approvalAudit.id)).limit(500)
    : [];
  for (const row of trail) {
    const a = asked.find((x) => x.id === row.approvalId);
    const who = String(row.detail.name ?? row.actor);
    entries.push({ at: row.at, kind: 'action', text: `${a?.action ?? 'action'} ${row.kind} by ${who}` });
  }

  const posted = await db
    .select({ createdAt: outbox.createdAt, sentAt: outbox.sentAt, purpose: outbox.purpose, status: outbox.status, message: outbox.message })
    .from(outbox)
    .where(and(eq(outbox.incidentId, incident.id), gte(outbox.createdAt, since), eq(outbox.kind, 'post')))
    .orderBy(asc(outbox.createdAt)).limit(200);
  for (const m of posted) {
    const text = String((m.message as { text?: unknown }).text ?? '').split('\n')[0] ?? '';
    entries.push({ at: m.sentAt ?? m.createdAt, kind: 'message', text: `Tacit ${m.purpose ?? 'message'} (${m.status}): ${short(text, 140)}` });
  }
  for (const s of incident.suspects) entries.push({ at: new Date(s.at), kind: 'suspect', text: `suspect: ${s.repo} ${s.change}: ${short(s.title, 120)}${s.url ? ` ${s.url}` : ''}` });

  entries.sort((a, b) => a.at.getTime() - b.at.getTime());
  return {
    entries, moreAlerts, acknowledgedBy,
    actions: asked.map((a) => ({ action: a.action, status: a.status, by: a.decidedBy })),
    escalationSteps: steps.filter((s) => s.kind === 'escalation').length,
    messages: posted.length,
  };
}
