// The rules brain's findings: what an investigation found, said deterministically — the metric now
// against its threshold and its trend, the change it started after and the files it touched, the top
// log error with its count, what happened the last times — and the causes ranked by plain rules.
import type { ChangeFinding, InvestigationReport, LogLine } from '../../core/evidence.js';
import { sourceProblem } from '../../core/evidence.js';
import type { Hypothesis } from '../../core/decisions.js';
import { clockTime, spanText, type TimeContext } from '../../core/human-time.js';
import type { Incident } from '../../core/incidents.js';

const STOP = new Set(['src', 'lib', 'the', 'and', 'for', 'with', 'from', 'into', 'test', 'tests', 'spec', 'main', 'index', 'error', 'errors', 'failed', 'merged', 'push', 'pull', 'request', 'true', 'false', 'null', 'com', 'http', 'https', 'www', 'json', 'yaml', 'yml', 'readme', 'docs', 'doc', 'md', 'txt']);

function tokens(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOP.has(w) && !/^\d+$/.test(w)));
}

/**
 * What the incident itself says about where it hurts, word by word with a weight: the error that came
 * with it names the broken part (2), its labels and metric only where it shows (1).
 */
function symptoms(report: InvestigationReport, incident: Incident): Map<string, number> {
  const words = new Map<string, number>();
  const add = (t: string, weight: number) => tokens(t).forEach((w) => words.set(w, Math.max(words.get(w) ?? 0, weight)));
  for (const a of Object.values(incident.alerts)) {
    for (const k of ['service', 'app', 'job', 'container', 'component', 'deployment', 'namespace']) if (a.labels[k]) add(a.labels[k], 1);
  }
  if (report.metric) add(report.metric.expr, 1);
  const error = topError(report);
  if (error) add(error.pattern, 2);
  for (const l of (report.logs?.top ?? []).slice(1, 3)) add(l.pattern, 1);
  return words;
}

function changeText(c: ChangeFinding): string {
  return `${c.title} ${c.files.map((f) => f.filename).join(' ')}`;
}

/** The log error that grew with the incident: new since the start, or else the most frequent. */
export function topError(report: InvestigationReport): LogLine | undefined {
  return report.logs?.top[0];
}

/** Causes, most likely first: a change whose files touch what hurts, the error that came with it, the past. */
export function rankHypotheses(report: InvestigationReport, incident: Incident): Hypothesis[] {
  const hurt = symptoms(report, incident);
  const start = incident.startedAt.getTime();
  const scored = report.changes.map((c) => {
    const overlap = [...tokens(changeText(c))].filter((w) => hurt.has(w));
    const weight = overlap.reduce((n, w) => n + (hurt.get(w) ?? 0), 0);
    const before = start - Date.parse(c.at);
    // Matching words first; between equals, the change nearer the start.
    return { c, overlap, before, score: weight * 10 - Math.max(0, before) / 600_000 };
  }).sort((a, b) => b.score - a.score);
  const error = topError(report);
  const out: Hypothesis[] = [];
  const errorEvidence = error ? `log error "${error.pattern}" ${error.count}× (${error.sinceStart ?? error.count} since the start)` : undefined;
  for (const s of scored.filter((x) => x.overlap.length > 0)) {
    out.push({
      cause: `change ${s.c.sha.slice(0, 7)} in ${s.c.repo}: ${s.c.title}`,
      evidence: [
        `started ${spanText(Math.max(0, s.before))} after it`,
        `it touched ${s.c.files.slice(0, 3).map((f) => f.filename).join(', ')}${s.c.filesTotal > 3 ? ` and ${s.c.filesTotal - 3} more` : ''}, which concern ${s.overlap.slice(0, 3).join(', ')}`,
        ...(errorEvidence ? [errorEvidence] : []),
      ],
      confidence: s.overlap.length >= 2 && error ? 'high' : 'medium',
    });
  }
  if (error) out.push({ cause: `the error "${error.pattern}"`, evidence: [errorEvidence ?? ''], confidence: (error.sinceStart ?? 0) > 0 ? 'medium' : 'low' });
  const last = report.history?.similar.find((p) => p.resolvedBy);
  if (last) out.push({ cause: `the same problem as on ${last.startedAt.slice(0, 10)}, resolved by ${last.resolvedBy ?? ''}`, evidence: [`seen ${report.history?.occurrences ?? 0} times in 30 days`], confidence: 'low' });
  for (const s of scored.filter((x) => x.overlap.length === 0)) {
    out.push({ cause: `change ${s.c.sha.slice(0, 7)} in ${s.c.repo}: ${s.c.title}`, evidence: [`started ${spanText(Math.max(0, s.before))} after it`], confidence: 'low' });
  }
  return out.slice(0, 5);
}

function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  // Two significant digits below 100 (0.12, 3.5), whole numbers above: what a person reads off a graph.
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(2)));
}

export function findingsText(report: InvestigationReport, incident: Incident, time: TimeContext): { text: string; hypotheses: Hypothesis[] } {
  const lines = [`*What I found about ${incident.title}* (${report.sources.length} queries in ${(report.durationMs / 1000).toFixed(1)} s, read-only):`];
  const m = report.metric;
  if (m) {
    const cmp = m.comparison ? `, ${m.current !== null && compare(m.current, m.comparison) ? 'past' : 'within'} its threshold ${m.comparison.op} ${num(m.comparison.threshold)}` : '';
    lines.push(`• Metric \`${m.expr.slice(0, 200)}\` is ${num(m.current)} now${cmp}; ${num(m.before)} on average in the hour before the start; ${m.trend === 'unknown' ? 'trend unknown' : m.trend}, peak ${num(m.peak)}.`);
  }
  for (const c of report.changes) {
    const ago = spanText(Math.max(0, incident.startedAt.getTime() - Date.parse(c.at)));
    const files = c.files.slice(0, 4).map((f) => f.filename).join(', ');
    lines.push(`• Started ${ago} after ${c.sha.slice(0, 7)} (${c.title}) in ${c.repo}, touching ${files || 'no files'}${c.filesTotal > 4 ? ` and ${c.filesTotal - 4} more` : ''} (+${c.additions} −${c.deletions}).${c.deploy ? ` Deploy to ${c.deploy.environment}: ${c.deploy.state}.` : ''}`);
  }
  const error = topError(report);
  if (error) {
    lines.push(`• Top log error: "${error.pattern}" — ${error.count}×${error.sinceStart !== undefined ? ` (${error.sinceStart} since the start)` : ''}, first at ${clockTime(new Date(error.firstAt), time)}.${(report.logs?.top.length ?? 0) > 1 ? ` ${(report.logs?.top.length ?? 1) - 1} other pattern(s).` : ''}`);
  } else if (report.logs) {
    lines.push(`• No error lines in the logs around the start (${report.logs.query.slice(0, 120)}).`);
  }
  const h = report.history;
  if (h && h.similar.length > 0) {
    const last = h.similar[0];
    const resolved = h.similar.find((p) => p.resolvedBy);
    lines.push(`• Seen ${h.occurrences} time(s) in 30 days${last ? `, last on ${last.startedAt.slice(0, 10)}${last.durationMs !== null ? ` (lasted ${spanText(last.durationMs)})` : ''}` : ''}${resolved ? `; last resolved by ${resolved.resolvedBy ?? ''}` : ''}.`);
  }
  for (const mem of h?.memories ?? []) lines.push(`• Memory ${mem.id} (a hint, not a fact): ${mem.hint}`);
  const problems = report.sources.map(sourceProblem).filter((p): p is string => p !== null);
  if (problems.length > 0) lines.push(`• Missing: ${problems.join('; ')}.`);
  const hypotheses = rankHypotheses(report, incident);
  const top = hypotheses[0];
  lines.push('', top ? `Most likely (${top.confidence} confidence): ${top.cause} — ${top.evidence.join('; ')}.` : 'I do not know the cause yet: nothing in the evidence points at one.');
  return { text: lines.join('\n'), hypotheses };
}

function compare(v: number, c: NonNullable<NonNullable<InvestigationReport['metric']>['comparison']>): boolean {
  switch (c.op) {
    case '>':
      return v > c.threshold;
    case '>=':
      return v >= c.threshold;
    case '<':
      return v < c.threshold;
    case '<=':
      return v <= c.threshold;
    case '==':
      return v === c.threshold;
    case '!=':
      return v !== c.threshold;
    default: {
      const never: never = c.op;
      return Boolean(never);
    }
  }
}
