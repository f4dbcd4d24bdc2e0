// What the tick sees of investigations (heartbeat/tick.ts TickInvestigation): finished reports to
// tell, their lines for the decision log, Claude's evidence tools, and the after-commit request.
import type { InvestigationReport } from '../core/evidence.js';
import type { Db } from '../db/client.js';
import type { SecretBox } from '../db/secret-box.js';
import type { TickInvestigation } from '../heartbeat/tick.js';
import { investigationRequests } from './qualify.js';
import type { InvestigationQueue } from './queue.js';
import { reportsFor } from './report.js';
import { evidenceTools } from './tools.js';

export function tickInvestigation(deps: { db: Db; secrets: SecretBox; queue: Pick<InvestigationQueue, 'request'>; now(): Date }): TickInvestigation {
  return {
    reports: (workspaceId, records) => reportsFor(deps.db, workspaceId, records),
    reasons: evidenceReasons,
    tools: (workspaceId) => evidenceTools(deps.db, deps.secrets, workspaceId, deps.now),
    request: ({ workspaceId, decisionId, transitions, incidents, settings }) =>
      deps.queue.request(investigationRequests(workspaceId, decisionId, transitions, incidents, settings)),
  };
}

/** One line per investigation for the decision log: every query, its outcome and time, and what it returned. */
export function evidenceReasons(reports: readonly InvestigationReport[]): string[] {
  return reports.map((r) => {
    const parts = r.sources.map((o) => `${o.source} ${o.status} in ${o.durationMs} ms (${returned(r, o.source)})`);
    return `evidence ${r.investigationId} (${r.durationMs} ms): ${parts.join('; ')}`;
  });
}

function returned(r: InvestigationReport, source: string): string {
  switch (source) {
    case 'prometheus':
      return r.metric ? `${r.metric.series} series, now ${r.metric.current ?? '—'}` : 'nothing';
    case 'loki':
      return r.logs ? `${r.logs.lines} lines, ${r.logs.top.length} patterns` : 'nothing';
    case 'github':
      return `${r.changes.length} diff(s)`;
    case 'history':
      return r.history ? `${r.history.similar.length} similar, ${r.history.memories.length} memories` : 'nothing';
    default:
      return '';
  }
}
