// The evidence sources of one workspace, bound to its integrations: each call bounded by its own
// deadline and the investigation's, its result redacted and its outcome recorded (what ran, how long,
// what came back, or why nothing did). Used by the investigation job and by Claude's read-only tools.
import type { ChangeFinding, EvidenceSource, HistoryFinding, LogFinding, MetricFinding, SourceOutcome } from '../core/evidence.js';
import type { Suspect } from '../core/incidents.js';
import { redactDeep, redactSecrets } from '../core/redact.js';
import type { Db } from '../db/client.js';
import type { Integration } from '../actions/integrations.js';
import { InvestigateError, SourceTimeoutError } from './errors.js';
import { changeEvidence, githubClient } from './github.js';
import { historyEvidence, type HistorySubject } from './history.js';
import { authHeaders, type SourceTarget } from './http.js';
import { searchLogs } from './loki.js';
import { metricEvidence } from './prometheus.js';

export interface Bounds {
  /** Each source call's own limit. */
  sourceTimeoutMs: number;
  /** Aborts when the whole investigation's time is up. */
  signal?: AbortSignal;
}

export interface Outcome<T> {
  outcome: SourceOutcome;
  result?: T;
}

export interface EvidenceSources {
  readonly has: { prometheus: boolean; loki: boolean; github: boolean };
  /** The workspace's LogQL template (loki integration), or null. */
  readonly logTemplate: string | null;
  metric(expr: string, startedAt: number, now: number, bounds: Bounds): Promise<Outcome<MetricFinding>>;
  logs(query: string, start: number, end: number, bounds: Bounds, startedAt?: number): Promise<Outcome<LogFinding>>;
  change(suspect: Suspect & { sha: string }, bounds: Bounds): Promise<Outcome<ChangeFinding>>;
  history(subject: HistorySubject, now: Date, bounds: Bounds): Promise<Outcome<HistoryFinding>>;
}

/** Binds the sources to a workspace's integrations (already loaded and decrypted). */
export function evidenceSources(db: Db, integrations: readonly Integration[]): EvidenceSources {
  const find = (kind: Integration['kind']) => integrations.find((i) => i.kind === kind && i.name === 'default');
  const prometheus = find('prometheus');
  const loki = find('loki');
  const github = find('github');
  const target = (i: Integration, name: string, signal: AbortSignal, extra: Record<string, string> = {}): SourceTarget => ({
    url: String(i.settings.url), headers: authHeaders(i.secrets, extra), signal, name,
  });
  return {
    has: { prometheus: Boolean(prometheus), loki: Boolean(loki), github: Boolean(github) },
    logTemplate: loki ? String(loki.settings.query) : null,
    metric: (expr, startedAt, now, bounds) =>
      bounded('prometheus', expr, bounds, (signal) => {
        if (!prometheus) throw new InvestigateError('rejected', 'no Prometheus integration is configured');
        return metricEvidence(target(prometheus, 'Prometheus', signal), expr, startedAt, now);
      }, (m) => m.points.length === 0 && m.current === null),
    logs: (query, start, end, bounds, startedAt) =>
      bounded('loki', query, bounds, (signal) => {
        if (!loki) throw new InvestigateError('rejected', 'no Loki integration is configured');
        const tenant = typeof loki.settings.tenant === 'string' ? { 'x-scope-orgid': loki.settings.tenant } : undefined;
        return searchLogs(target(loki, 'Loki', signal, tenant), query, start, end, undefined, startedAt);
      }, (l) => l.lines === 0),
    change: (suspect, bounds) =>
      bounded('github', `${suspect.repo}@${suspect.sha.slice(0, 12)}`, bounds, (signal) => {
        if (!github) throw new InvestigateError('rejected', 'no GitHub integration is configured');
        return changeEvidence(githubClient(String(github.settings.apiUrl), String(github.secrets.token), signal), suspect, signal);
      }, (c) => c.filesTotal === 0),
    history: (subject, now, bounds) =>
      bounded('history', `incidents like "${subject.title.slice(0, 80)}" in 30 days`, bounds, () => historyEvidence(db, subject, now), (h) => h.similar.length === 0 && h.memories.length === 0),
  };
}

/**
 * Runs one source call within its limit (and the investigation's): a call that ignores the abort is
 * abandoned at the deadline all the same. The result is redacted; a failure becomes its outcome.
 */
export async function bounded<T>(
  source: EvidenceSource, query: string, bounds: Bounds, fn: (signal: AbortSignal) => Promise<T>, isEmpty: (t: T) => boolean,
): Promise<Outcome<T>> {
  const started = performance.now();
  const own = AbortSignal.timeout(bounds.sourceTimeoutMs);
  const signal = bounds.signal ? AbortSignal.any([own, bounds.signal]) : own;
  const shownQuery = redactSecrets(query).text.slice(0, 1_000);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const fire = () => reject(new SourceTimeoutError(performance.now() - started));
    if (signal.aborted) fire();
    signal.addEventListener('abort', fire, { once: true });
    // Belt and braces: an abort listener never fires if the signal was collected; a timer does.
    timer = setTimeout(fire, bounds.sourceTimeoutMs + 50);
  });
  deadline.catch(() => undefined);
  try {
    const result = redactDeep(await Promise.race([fn(signal), deadline])) as T;
    const durationMs = Math.round(performance.now() - started);
    return { outcome: { source, query: shownQuery, status: isEmpty(result) ? 'empty' : 'ok', durationMs }, result };
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const timedOut = err instanceof SourceTimeoutError || signal.aborted;
    const error = redactSecrets(timedOut ? `no answer in ${Math.round(durationMs / 1000)} s` : (err as Error).message).text.slice(0, 500);
    return { outcome: { source, query: shownQuery, status: timedOut ? 'timeout' : 'failed', durationMs, error } };
  } finally {
    clearTimeout(timer);
  }
}
