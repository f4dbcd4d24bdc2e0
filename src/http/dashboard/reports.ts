// The dashboard's post-incident drafts: the newest resolved incidents' reports (src/oncall/report.ts),
// each draft shown as text, escaped (titles and timelines come from alerts and people).
import { desc, isNotNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { incidents } from '../../db/schema.js';
import { escapeHtml } from './chart.js';

export interface DashboardReport {
  incidentId: string;
  workspaceId: string;
  title: string;
  severity: string;
  generatedAt: string;
  by: string;
  draft: string;
}

export async function loadReports(db: Db, limit = 10): Promise<DashboardReport[]> {
  const rows = await db
    .select({ id: incidents.id, workspaceId: incidents.workspaceId, title: incidents.title, severity: incidents.severity, report: incidents.report, updatedAt: incidents.updatedAt })
    .from(incidents)
    .where(isNotNull(incidents.report))
    .orderBy(desc(incidents.updatedAt))
    .limit(limit);
  return rows.flatMap((r) => {
    const report = r.report ?? {};
    if (typeof report.draft !== 'string') return [];
    return [{
      incidentId: r.id, workspaceId: r.workspaceId, title: r.title, severity: r.severity,
      generatedAt: typeof report.generatedAt === 'string' ? report.generatedAt : r.updatedAt.toISOString(),
      by: typeof report.by === 'string' ? report.by : 'rules', draft: report.draft,
    }];
  });
}

export function reportsSection(reports: readonly DashboardReport[] | undefined): string {
  const list = reports ?? [];
  const body = list.length === 0
    ? '<p class="empty">No post-incident drafts yet: one is written when an incident resolves.</p>'
    : list.map((r) => `<details data-testid="report-${escapeHtml(r.incidentId)}"><summary>${escapeHtml(r.title)} <span class="note">${escapeHtml(r.severity)} · ${escapeHtml(r.workspaceId)} · ${escapeHtml(r.generatedAt)} · by ${escapeHtml(r.by)}</span></summary><pre class="text">${escapeHtml(r.draft)}</pre></details>`).join('\n');
  return `<section class="card" data-testid="reports"><h2>Post-incident drafts <span class="note">newest first; also uploaded into each incident's thread</span></h2>${body}</section>`;
}
