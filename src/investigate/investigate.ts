// One investigation of one incident, run as a job outside the tick: claim it (once per occurrence),
// run every source in parallel within its own limit and the whole budget, draw the metric, then in one
// transaction store the evidence rows, the investigation's status and an event that wakes the tick,
// which tells people what was found. Read-only towards every source.
import { and, eq, sql } from 'drizzle-orm';
import type { ChangeFinding, InvestigationReport, MetricFinding, SourceOutcome } from '../core/evidence.js';
import type { AlertState, Suspect } from '../core/incidents.js';
import { readSettings } from '../core/settings.js';
import { loadIntegrations } from '../actions/integrations.js';
import type { Db } from '../db/client.js';
import { events, evidence, incidents, workspaces } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import type { Logger } from '../log.js';
import type { MetricChartInput } from './chart.js';
import { fillTemplate, logWindow } from './loki.js';
import { exprFromGeneratorUrl } from './prometheus.js';
import { evidenceSources, type Bounds, type EvidenceSources, type Outcome } from './sources.js';

export interface InvestigationJob {
  workspaceId: string;
  incidentId: string;
  /** The incident version that asked: with the id, the job's identity (it runs once). */
  version: number;
  /** The decision of the tick that asked, when it made one. */
  decisionId: string | null;
}

export interface InvestigateDeps {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  now(): Date;
  /** Draws the metric (src/investigate/chart.ts); a failure leaves the summary without a picture. */
  renderChart?(input: MetricChartInput): Buffer;
  /** Marks the workspace dirty and wakes its tick. */
  wake(workspaceId: string): Promise<void>;
}

export type InvestigationResult = { kind: 'done'; investigationId: string; report: InvestigationReport } | { kind: 'skipped'; reason: string };

/** At most this many suspects get their diff read. */
const MAX_CHANGES = 3;

export function investigationId(job: Pick<InvestigationJob, 'incidentId' | 'version'>): string {
  return `inv_${job.incidentId}_v${job.version}`;
}

export async function investigate(deps: InvestigateDeps, job: InvestigationJob): Promise<InvestigationResult> {
  const id = investigationId(job);
  const [ws] = await deps.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, job.workspaceId));
  if (!ws) return { kind: 'skipped', reason: 'no such workspace' };
  const settings = readSettings(ws.settings).investigation;
  const started = deps.now();
  const claimed = await claim(deps.db, job, id, started);
  if (!claimed) return { kind: 'skipped', reason: 'this occurrence is investigated already' };
  const sources = evidenceSources(deps.db, await loadIntegrations(deps.db, deps.secrets, job.workspaceId));
  if (!sources.has.prometheus && !sources.has.loki) {
    await setStatus(deps.db, job.incidentId, { id, status: 'skipped', reason: 'no Prometheus or Loki integration', occurrence: claimed.startedAt.toISOString() });
    return { kind: 'skipped', reason: 'no evidence source configured' };
  }
  const overall = AbortSignal.timeout(settings.totalTimeoutMs);
  const bounds: Bounds = { sourceTimeoutMs: Math.min(settings.sourceTimeoutMs, settings.totalTimeoutMs), signal: overall };
  const t0 = performance.now();
  const found = await gather(sources, claimed, started, bounds);
  const durationMs = Math.round(performance.now() - t0);
  const chart = drawChart(deps, claimed.title, found.metric, claimed.startedAt, found.changes[0]);
  const report: InvestigationReport = {
    incidentId: job.incidentId, investigationId: id, at: started.toISOString(), durationMs,
    ...(found.metric ? { metric: found.metric } : {}), ...(found.logs ? { logs: found.logs } : {}), changes: found.changes,
    ...(found.history ? { history: found.history } : {}), sources: found.outcomes, ...(chart ? { chart } : {}),
  };
  await store(deps.db, job, report, found.results);
  await deps.wake(job.workspaceId);
  deps.log.info({ workspaceId: job.workspaceId, incidentId: job.incidentId, investigationId: id, durationMs, sources: found.outcomes.map((o) => `${o.source}:${o.status}`) }, 'incident investigated');
  return { kind: 'done', investigationId: id, report };
}

interface Subject {
  id: string;
  workspaceId: string;
  groupKey: string;
  title: string;
  startedAt: Date;
  cycleTimes: string[];
  alerts: Record<string, AlertState>;
  suspects: Suspect[];
}

/**
 * Takes the incident's investigation for this occurrence, atomically: a second job for the same
 * occurrence (an escalation right after the opening) finds it taken. A retried job (same id) may
 * take over its own unfinished run.
 */
async function claim(db: Db, job: InvestigationJob, id: string, now: Date): Promise<Subject | null> {
  const rows = await db
    .update(incidents)
    .set({ investigation: sql`jsonb_build_object('id', ${id}::text, 'status', 'running', 'version', ${job.version}::int, 'occurrence', to_char(${incidents.startedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'startedAt', ${now.toISOString()}::text, 'decisionId', ${job.decisionId}::text)` })
    .where(and(
      eq(incidents.id, job.incidentId),
      sql`${incidents.status} <> 'resolved'`,
      sql`(${incidents.investigation} is null
        or ${incidents.investigation}->>'occurrence' is distinct from to_char(${incidents.startedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        or (${incidents.investigation}->>'id' = ${id} and ${incidents.investigation}->>'status' = 'running'))`,
    ))
    .returning();
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id, workspaceId: row.workspaceId, groupKey: row.groupKey, title: row.title, startedAt: row.startedAt, cycleTimes: row.cycleTimes,
    alerts: row.alerts as Record<string, AlertState>, suspects: row.suspects as Suspect[],
  };
}

async function setStatus(db: Db, incidentId: string, status: Record<string, unknown>): Promise<void> {
  await db.update(incidents).set({ investigation: status }).where(eq(incidents.id, incidentId));
}

interface Gathered {
  metric?: MetricFinding;
  logs?: InvestigationReport['logs'];
  changes: ChangeFinding[];
  history?: InvestigationReport['history'];
  outcomes: SourceOutcome[];
  /** Each outcome with its result, for the evidence rows. */
  results: { outcome: SourceOutcome; result: unknown }[];
}

/** Every source at once; none can hold the others up past its limit. */
async function gather(sources: EvidenceSources, s: Subject, now: Date, bounds: Bounds): Promise<Gathered> {
  const firing = Object.values(s.alerts).filter((a) => a.status === 'firing');
  const first = firing[0] ?? Object.values(s.alerts)[0];
  const start = s.startedAt.getTime();
  const expr = firing.flatMap((a) => a.links.map((l) => exprFromGeneratorUrl(l.url))).find((e): e is string => e !== null)
    ?? first?.annotations.expr ?? first?.annotations.query ?? null;
  const tasks: Promise<Outcome<unknown> & { kind: string }>[] = [];
  if (sources.has.prometheus) {
    tasks.push(expr
      ? sources.metric(expr, start, now.getTime(), bounds).then((o) => ({ ...o, kind: 'metric' }))
      : Promise.resolve({ kind: 'metric', outcome: { source: 'prometheus', query: '(none)', status: 'failed', durationMs: 0, error: 'the alert carries no expression (no generatorURL with g0.expr)' } }));
  }
  if (sources.has.loki && sources.logTemplate) {
    const filled = fillTemplate(sources.logTemplate, commonLabels(firing.length > 0 ? firing : Object.values(s.alerts)));
    const window = logWindow(start, now.getTime());
    tasks.push('query' in filled
      ? sources.logs(filled.query, window.start, window.end, bounds, start).then((o) => ({ ...o, kind: 'logs' }))
      : Promise.resolve({ kind: 'logs', outcome: { source: 'loki', query: sources.logTemplate, status: 'failed', durationMs: 0, error: `the query template needs label(s) ${filled.missing.join(', ')}, which the alert does not have` } }));
  }
  if (sources.has.github) {
    for (const suspect of s.suspects.filter((x): x is Suspect & { sha: string } => typeof x.sha === 'string' && x.sha !== '').slice(0, MAX_CHANGES)) {
      tasks.push(sources.change(suspect, bounds).then((o) => ({ ...o, kind: 'change' })));
    }
  }
  tasks.push(sources.history({ id: s.id, workspaceId: s.workspaceId, groupKey: s.groupKey, title: s.title, startedAt: s.startedAt, cycleTimes: s.cycleTimes, fingerprints: Object.keys(s.alerts) }, now, bounds)
    .then((o) => ({ ...o, kind: 'history' })));
  const done = await Promise.all(tasks);
  const g: Gathered = { changes: [], outcomes: done.map((d) => d.outcome), results: done.map((d) => ({ outcome: d.outcome, result: d.result ?? {} })) };
  for (const d of done) {
    if (d.result === undefined) continue;
    if (d.kind === 'metric') g.metric = d.result as MetricFinding;
    if (d.kind === 'logs') g.logs = d.result as InvestigationReport['logs'];
    if (d.kind === 'change') g.changes.push(d.result as ChangeFinding);
    if (d.kind === 'history') g.history = d.result as InvestigationReport['history'];
  }
  return g;
}

/** Labels every firing alert shares, plus the first alert's own (so a template finds `service` of a one-alert incident). */
function commonLabels(alerts: AlertState[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => rest.every((a) => a.labels[k] === v) || rest.length === 0));
}

function drawChart(deps: InvestigateDeps, title: string, metric: MetricFinding | undefined, startedAt: Date, suspect: ChangeFinding | undefined): InvestigationReport['chart'] {
  if (!deps.renderChart || !metric || metric.points.length < 2) return undefined;
  try {
    const png = deps.renderChart({
      title, points: metric.points, startAt: startedAt.getTime(),
      ...(metric.comparison ? { threshold: metric.comparison.threshold } : {}),
      ...(suspect ? { suspectAt: Date.parse(suspect.at), suspectLabel: `${suspect.repo}@${suspect.sha.slice(0, 7)}` } : {}),
    });
    return { filename: 'metric.png', base64: png.toString('base64') };
  } catch (err) {
    deps.log.warn({ err: (err as Error).message, title }, 'could not draw the metric chart; the summary goes without it');
    return undefined;
  }
}

/** Evidence rows, the investigation's status and the waking event: together or not at all. */
async function store(db: Db, job: InvestigationJob, report: InvestigationReport, results: Gathered['results']): Promise<void> {
  const id = report.investigationId;
  await db.transaction(async (tx) => {
    // A retried job replaces what an earlier attempt of the same investigation left.
    await tx.delete(evidence).where(eq(evidence.investigationId, id));
    const rows: (typeof evidence.$inferInsert)[] = results.map(({ outcome, result }) => ({
      workspaceId: job.workspaceId, incidentId: job.incidentId, investigationId: id, decisionId: job.decisionId,
      source: outcome.source, query: outcome.query, status: outcome.status, durationMs: outcome.durationMs, result: result ?? {}, error: outcome.error ?? null,
    }));
    if (report.chart) {
      rows.push({ workspaceId: job.workspaceId, incidentId: job.incidentId, investigationId: id, decisionId: job.decisionId, source: 'chart', query: report.chart.filename, status: 'ok', durationMs: 0, result: report.chart, error: null });
    }
    if (rows.length > 0) await tx.insert(evidence).values(rows);
    await tx.update(incidents).set({
      investigation: sql`${incidents.investigation} || ${JSON.stringify({ status: 'done', finishedAt: new Date(Date.parse(report.at) + report.durationMs).toISOString(), durationMs: report.durationMs, problems: report.sources.filter((o) => o.status === 'failed' || o.status === 'timeout').length })}::jsonb`,
    }).where(eq(incidents.id, job.incidentId));
    await tx.insert(events).values({
      workspaceId: job.workspaceId, sourceId: null, kind: 'incident.investigated', dedupeKey: `investigated:${id}`, urgent: true, occurredAt: new Date(report.at),
      payload: { kind: 'incident.investigated', incidentId: job.incidentId, investigationId: id },
    }).onConflictDoNothing();
  });
}
