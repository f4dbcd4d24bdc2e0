// What an investigation found about an incident, as plain data: the alert's metric, the logs around
// its start, the diffs of its suspect changes, its history, and how each source answered. Produced by
// src/investigate, read by both brains. Every text in here came from outside: untrusted, redacted.

/** How one query of one source went; stored as an `evidence` row. */
export interface SourceOutcome {
  /** `prometheus`, `loki`, `github`, `history`. */
  source: EvidenceSource;
  query: string;
  status: 'ok' | 'empty' | 'failed' | 'timeout';
  durationMs: number;
  error?: string;
}

export type EvidenceSource = 'prometheus' | 'loki' | 'github' | 'history';

export interface MetricFinding {
  /** The expression queried: the alert's own, without its comparison. */
  expr: string;
  /** The comparison the alert fires on (`>` 0.05), when the expression has one. */
  comparison: { op: '>' | '>=' | '<' | '<=' | '==' | '!='; threshold: number } | null;
  current: number | null;
  /** Mean over the hour before the incident started. */
  before: number | null;
  peak: number | null;
  trend: 'rising' | 'falling' | 'flat' | 'unknown';
  /** The series that was charted (the one with the highest current value), at most 240 points, ms and value. */
  points: Array<[number, number]>;
  /** How many series the expression returned. */
  series: number;
  /** Labels of the charted series. */
  labels: Record<string, string>;
}

export interface LogLine {
  /** The line with numbers and ids replaced, so repeats of one error count as one. */
  pattern: string;
  /** One real example (cut). */
  example: string;
  count: number;
  /** Of `count`, how many at or after the incident's start: an error that begins with the incident stands out. */
  sinceStart?: number;
  firstAt: string;
}

export interface LogFinding {
  query: string;
  /** Lines the source returned (before deduplication). */
  lines: number;
  /** Most frequent first, at most 10. */
  top: LogLine[];
}

export interface ChangeFinding {
  repo: string;
  /** The commit (or the head of the compared range). */
  sha: string;
  title: string;
  at: string;
  change: string;
  url: string | null;
  /** Files touched, most changed first, at most 20. */
  files: { filename: string; additions: number; deletions: number }[];
  filesTotal: number;
  additions: number;
  deletions: number;
  /** For deploys: the deployment's latest status. */
  deploy?: { environment: string; state: string };
}

export interface PastIncident {
  incidentId: string;
  title: string;
  startedAt: string;
  /** How long it lasted (null while open). */
  durationMs: number | null;
  /** What resolved it: an approved action that ran, or a resolution note. */
  resolvedBy: string | null;
}

export interface HistoryFinding {
  /** Earlier occurrences of this incident (recurrences and similar incidents) within 30 days, newest first. */
  similar: PastIncident[];
  /** Occurrences in the last 30 days, this one excluded. */
  occurrences: number;
  memories: { id: string; hint: string }[];
}

export interface InvestigationReport {
  incidentId: string;
  investigationId: string;
  /** When the investigation ran and how long it took in all. */
  at: string;
  durationMs: number;
  metric?: MetricFinding;
  logs?: LogFinding;
  changes: ChangeFinding[];
  history?: HistoryFinding;
  sources: SourceOutcome[];
  /** The chart of the metric (PNG, base64), when there was a series to draw. */
  chart?: { filename: string; base64: string };
}

/** "Loki did not answer in 5 s", "Prometheus refused the query: …": a source that gave nothing, named. */
export function sourceProblem(o: SourceOutcome): string | null {
  const name = sourceName(o.source);
  if (o.status === 'timeout') return `${name} did not answer in ${Math.round(o.durationMs / 1000)} s`;
  // Source errors usually name the source already ("Loki answered 400: …"): not twice.
  if (o.status === 'failed') return o.error?.startsWith(name) ? o.error : `${name} failed: ${o.error ?? 'unknown error'}`;
  return null;
}

export function sourceName(source: EvidenceSource): string {
  switch (source) {
    case 'prometheus':
      return 'Prometheus';
    case 'loki':
      return 'Loki';
    case 'github':
      return 'GitHub';
    case 'history':
      return 'Incident history';
    default: {
      const never: never = source;
      return String(never);
    }
  }
}
