// Loki as an evidence source: the workspace's LogQL template filled from the alert's labels, error
// lines from 15 minutes before the start to 5 after, deduplicated into patterns with counts, capped.
// HTTP API: https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-within-a-range-of-time
import { z } from 'zod';
import type { LogFinding, LogLine } from '../core/evidence.js';
import { sanitizeUntrusted } from '../core/untrusted.js';
import { SourceUnreachableError } from './errors.js';
import { getJson, type SourceTarget } from './http.js';

const envelope = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('streams'),
    result: z.array(z.object({ stream: z.record(z.string(), z.string()), values: z.array(z.tuple([z.string(), z.string()])) })),
  }),
});

/** Lines asked for; Loki's own default limit is 100, its usual maximum 5000. */
export const LINE_LIMIT = 1_000;
const TOP = 10;
const EXAMPLE_CHARS = 300;

/**
 * Fills `{{label}}` placeholders from the alert's labels. A label the alert lacks leaves the query
 * unusable (a selector on an empty value matches nothing useful): null, and the source says why.
 * Values are escaped for a LogQL double-quoted string.
 */
export function fillTemplate(template: string, labels: Record<string, string>): { query: string } | { missing: string[] } {
  const missing: string[] = [];
  const query = template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const v = labels[name];
    if (v === undefined || v === '') {
      missing.push(name);
      return '';
    }
    return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  });
  return missing.length > 0 ? { missing: [...new Set(missing)] } : { query };
}

export async function searchLogs(target: SourceTarget, query: string, start: number, end: number, limit = LINE_LIMIT, startedAt?: number): Promise<LogFinding> {
  const body = await getJson(target, '/loki/api/v1/query_range', {
    query, start: `${BigInt(start) * 1_000_000n}`, end: `${BigInt(end) * 1_000_000n}`, limit: String(limit), direction: 'backward',
  });
  const parsed = envelope.safeParse(body);
  if (!parsed.success) throw new SourceUnreachableError(`${target.name} answered in a shape that is not Loki's streams result (is the query a log query, not a metric query?)`);
  const lines = parsed.data.data.result.flatMap((s) => s.values.map(([ns, line]) => ({ at: Number(BigInt(ns) / 1_000_000n), line })));
  return { query, lines: lines.length, top: topLines(lines, startedAt === undefined ? undefined : { start, end, startedAt }) };
}

/** Lines within the incident's window: 15 min before the start to 5 min after (or now, if sooner). */
export function logWindow(startedAt: number, now: number): { start: number; end: number } {
  return { start: startedAt - 15 * 60_000, end: Math.max(startedAt + 60_000, Math.min(now, startedAt + 5 * 60_000)) };
}

/** Pure: lines grouped by pattern (numbers, hex ids, UUIDs and timestamps masked), most frequent first. */
export function topLines(lines: { at: number; line: string }[], window?: { start: number; end: number; startedAt: number }): LogLine[] {
  const startedAt = window?.startedAt;
  const groups = new Map<string, LogLine>();
  for (const { at, line } of lines) {
    const pattern = patternOf(line);
    const seen = groups.get(pattern);
    const when = new Date(at).toISOString();
    const after = startedAt !== undefined && at >= startedAt ? 1 : 0;
    if (seen) {
      seen.count++;
      if (seen.sinceStart !== undefined) seen.sinceStart += after;
      if (when < seen.firstAt) seen.firstAt = when;
    } else {
      groups.set(pattern, { pattern, example: sanitizeUntrusted(line, EXAMPLE_CHARS).text, count: 1, ...(startedAt !== undefined ? { sinceStart: after } : {}), firstAt: when });
    }
  }
  // With the start known, what grew with the incident comes first (steady noise does not), then the most frequent.
  const score = (l: LogLine) => (window ? excess(l, window) : l.count);
  return [...groups.values()].sort((a, b) => score(b) - score(a) || b.count - a.count || a.firstAt.localeCompare(b.firstAt)).slice(0, TOP);
}

/** Lines since the start beyond what the rate before it would have given in the same time. */
export function excess(l: LogLine, window: { start: number; end: number; startedAt: number }): number {
  const since = l.sinceStart ?? 0;
  const beforeMs = Math.max(1, window.startedAt - window.start);
  const afterMs = Math.max(1, window.end - window.startedAt);
  return since - (l.count - since) * (afterMs / beforeMs);
}

export function patternOf(line: string): string {
  return sanitizeUntrusted(line, 2_000).text
    .replace(/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<id>')
    .replace(/\d+(?:\.\d+)?/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, EXAMPLE_CHARS);
}
