// Evidence for `@tacit why`: for the thread's incidents, each investigation's queries — which ran,
// against what, how long they took, and what came back (or why nothing did).
import { asc, inArray } from 'drizzle-orm';
import type { ChangeFinding, HistoryFinding, LogFinding, MetricFinding } from '../core/evidence.js';
import type { Db } from '../db/client.js';
import { evidence } from '../db/schema.js';

const MAX_ROWS = 40;

export async function explainEvidence(db: Db, incidentIds: readonly string[]): Promise<string[]> {
  if (incidentIds.length === 0) return [];
  const rows = await db
    .select({ investigationId: evidence.investigationId, source: evidence.source, query: evidence.query, status: evidence.status, durationMs: evidence.durationMs, result: evidence.result, error: evidence.error, decisionId: evidence.decisionId })
    .from(evidence)
    .where(inArray(evidence.incidentId, [...incidentIds]))
    .orderBy(asc(evidence.id))
    .limit(MAX_ROWS);
  const shown = rows.filter((r) => r.source !== 'chart');
  if (shown.length === 0) return [];
  const lines = ['Evidence I gathered (read-only queries):'];
  let current = '';
  for (const r of shown) {
    if (r.investigationId !== current) {
      current = r.investigationId;
      lines.push(`• investigation ${r.investigationId}${r.decisionId ? ` (asked by decision ${r.decisionId})` : ''}:`);
    }
    const what = r.status === 'ok' || r.status === 'empty' ? returned(r.source, r.result) : r.error ?? r.status;
    lines.push(`  ${r.source} ${r.status} in ${r.durationMs} ms: ${what} — query: ${r.query.slice(0, 200)}`);
  }
  if (rows.some((r) => r.source === 'chart')) lines.push('  and a chart of the metric, posted with the findings.');
  return lines;
}

function returned(source: string, result: unknown): string {
  switch (source) {
    case 'prometheus': {
      const m = result as Partial<MetricFinding>;
      return `${m.series ?? 0} series, now ${m.current ?? '—'}${m.comparison ? ` (threshold ${m.comparison.op} ${m.comparison.threshold})` : ''}, ${m.points?.length ?? 0} points`;
    }
    case 'loki': {
      const l = result as Partial<LogFinding>;
      const top = l.top?.[0];
      return `${l.lines ?? 0} lines, ${l.top?.length ?? 0} patterns${top ? `, top "${top.pattern.slice(0, 80)}" ×${top.count}` : ''}`;
    }
    case 'github': {
      const c = result as Partial<ChangeFinding>;
      return `${c.filesTotal ?? 0} files changed (+${c.additions ?? 0} −${c.deletions ?? 0})${c.deploy ? `, deploy ${c.deploy.state}` : ''}`;
    }
    case 'history': {
      const h = result as Partial<HistoryFinding>;
      return `${h.similar?.length ?? 0} similar incident(s), ${h.memories?.length ?? 0} memory entries`;
    }
    default:
      return 'done';
  }
}
