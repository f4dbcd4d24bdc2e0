// Tacit's own history as an evidence source: earlier incidents with the same group key or the same
// alert (title) in the last 30 days, how long they lasted, what resolved them (an approved action
// that ran, a resolution note), and the memory entries that refer to them.
import { and, desc, eq, gte, inArray, ne, or, sql } from 'drizzle-orm';
import type { HistoryFinding, PastIncident } from '../core/evidence.js';
import type { Db } from '../db/client.js';
import { approvals, incidents, incidentSteps, memories } from '../db/schema.js';
import { sanitizeUntrusted } from '../core/untrusted.js';

const WINDOW_MS = 30 * 86_400_000;
const MAX_SIMILAR = 10;

export interface HistorySubject {
  id: string;
  workspaceId: string;
  groupKey: string;
  title: string;
  startedAt: Date;
  /** Earlier firings of this same incident (its row recurs), ISO, from its cycle times. */
  cycleTimes: readonly string[];
  fingerprints: readonly string[];
}

export async function historyEvidence(db: Db, subject: HistorySubject, now: Date): Promise<HistoryFinding> {
  const since = new Date(now.getTime() - WINDOW_MS);
  const rows = await db
    .select({ id: incidents.id, title: incidents.title, startedAt: incidents.startedAt, resolvedAt: incidents.resolvedAt, recurrences: incidents.recurrences })
    .from(incidents)
    .where(and(
      eq(incidents.workspaceId, subject.workspaceId),
      ne(incidents.id, subject.id),
      gte(incidents.startedAt, since),
      or(eq(incidents.groupKey, subject.groupKey), eq(incidents.title, subject.title)),
    ))
    .orderBy(desc(incidents.startedAt))
    .limit(MAX_SIMILAR);
  const ids = rows.map((r) => r.id);
  const resolvedBy = await resolutions(db, subject.workspaceId, [...ids, subject.id]);
  const similar: PastIncident[] = rows.map((r) => ({
    incidentId: r.id,
    title: sanitizeUntrusted(r.title, 200).text,
    startedAt: r.startedAt.toISOString(),
    durationMs: r.resolvedAt ? r.resolvedAt.getTime() - r.startedAt.getTime() : null,
    resolvedBy: resolvedBy.get(r.id) ?? null,
  }));
  // The incident's own earlier firings (a recurrence reuses its row): counted, and told with what resolved it last.
  const ownEarlier = subject.cycleTimes.filter((t) => Date.parse(t) >= since.getTime() && Date.parse(t) < subject.startedAt.getTime());
  const own = resolvedBy.get(subject.id);
  if (ownEarlier.length > 0) {
    const last = ownEarlier.at(-1) ?? ownEarlier[0] ?? subject.startedAt.toISOString();
    similar.unshift({ incidentId: subject.id, title: sanitizeUntrusted(subject.title, 200).text, startedAt: last, durationMs: null, resolvedBy: own ?? null });
  }
  const refs = [...ids, subject.id].map((id) => `incident:${id}`).concat(subject.fingerprints.slice(0, 20).map((f) => `alert:${f}`));
  const notes = await db
    .select({ id: memories.id, hint: memories.hint })
    .from(memories)
    .where(and(eq(memories.workspaceId, subject.workspaceId), eq(memories.status, 'active'), sql`${memories.sourceRefs} ?| array[${sql.join(refs.map((r) => sql`${r}`), sql`, `)}]`))
    .limit(5);
  return {
    similar: similar.slice(0, MAX_SIMILAR),
    occurrences: rows.reduce((n, r) => n + 1 + Math.min(r.recurrences, 50), 0) + ownEarlier.length,
    memories: notes.map((m) => ({ id: m.id, hint: sanitizeUntrusted(m.hint, 200).text })),
  };
}

/** Per incident, what resolved it most recently: an executed approval's action, or a resolution note. */
async function resolutions(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const notes = await db
    .select({ incidentId: incidentSteps.incidentId, kind: incidentSteps.kind, detail: incidentSteps.detail })
    .from(incidentSteps)
    .where(and(eq(incidentSteps.workspaceId, workspaceId), inArray(incidentSteps.incidentId, ids), sql`${incidentSteps.kind} like '%resol%'`))
    .orderBy(desc(incidentSteps.id))
    .limit(50);
  for (const n of notes) {
    const text = n.detail.note ?? n.detail.text ?? n.detail.reason;
    if (typeof text === 'string' && text.trim() !== '' && !out.has(n.incidentId)) out.set(n.incidentId, `a note: "${sanitizeUntrusted(text, 200).text}"`);
  }
  // An action that ran is firmer evidence than a note: it wins.
  const ran = await db
    .select({ incidentId: approvals.incidentId, action: approvals.action, executedAt: approvals.executedAt })
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), inArray(approvals.incidentId, ids), eq(approvals.status, 'executed')))
    .orderBy(desc(approvals.executedAt))
    .limit(50);
  const seen = new Set<string>();
  for (const a of ran) {
    if (!a.incidentId || seen.has(a.incidentId)) continue;
    seen.add(a.incidentId);
    out.set(a.incidentId, a.action);
  }
  return out;
}
