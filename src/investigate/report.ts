// Reads finished investigations back from their evidence rows, as the brains see them: one report
// per investigation the tick's events announce (`incident.investigated`), chart included.
import { and, eq, inArray } from 'drizzle-orm';
import type { ChangeFinding, EvidenceSource, HistoryFinding, InvestigationReport, LogFinding, MetricFinding } from '../core/evidence.js';
import type { EventRecord } from '../core/events.js';
import type { Db } from '../db/client.js';
import { evidence, incidents } from '../db/schema.js';

const SOURCES = new Set<string>(['prometheus', 'loki', 'github', 'history']);

/** The investigations announced by these events; no query when there are none (the usual tick). */
export async function reportsFor(db: Db, workspaceId: string, records: readonly EventRecord[]): Promise<InvestigationReport[]> {
  const announced = records.flatMap((r) => (r.payload.kind === 'incident.investigated' ? [r.payload] : []));
  if (announced.length === 0) return [];
  const ids = [...new Set(announced.map((a) => a.investigationId))];
  const rows = await db.select().from(evidence).where(and(eq(evidence.workspaceId, workspaceId), inArray(evidence.investigationId, ids)));
  const status = await db
    .select({ id: incidents.id, investigation: incidents.investigation })
    .from(incidents)
    .where(inArray(incidents.id, [...new Set(announced.map((a) => a.incidentId))]));
  return ids.flatMap((id): InvestigationReport[] => {
    const mine = rows.filter((r) => r.investigationId === id);
    const first = mine[0];
    if (!first) return [];
    const inv = status.find((s) => s.id === first.incidentId)?.investigation ?? {};
    const report: InvestigationReport = {
      incidentId: first.incidentId,
      investigationId: id,
      at: typeof inv.startedAt === 'string' ? inv.startedAt : first.createdAt.toISOString(),
      durationMs: typeof inv.durationMs === 'number' ? inv.durationMs : Math.max(...mine.map((r) => r.durationMs)),
      changes: [],
      sources: [],
    };
    for (const r of mine) {
      if (r.source === 'chart') {
        const chart = r.result as { filename?: unknown; base64?: unknown };
        if (typeof chart.filename === 'string' && typeof chart.base64 === 'string') report.chart = { filename: chart.filename, base64: chart.base64 };
        continue;
      }
      if (!SOURCES.has(r.source)) continue;
      report.sources.push({ source: r.source as EvidenceSource, query: r.query, status: r.status, durationMs: r.durationMs, ...(r.error ? { error: r.error } : {}) });
      if (r.status !== 'ok') continue;
      if (r.source === 'prometheus') report.metric = r.result as MetricFinding;
      if (r.source === 'loki') report.logs = r.result as LogFinding;
      if (r.source === 'github') report.changes.push(r.result as ChangeFinding);
      if (r.source === 'history') report.history = r.result as HistoryFinding;
    }
    return [report];
  });
}
