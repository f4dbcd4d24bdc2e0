// Prometheus as an evidence source: the alert's own expression (from its generatorURL's `g0.expr`),
// split from its comparison, over the hour before the start and since, and its current value.
// HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/
import { z } from 'zod';
import type { MetricFinding } from '../core/evidence.js';
import { SourceUnreachableError } from './errors.js';
import { getJson, type SourceTarget } from './http.js';

const sampleSchema = z.tuple([z.number(), z.string()]);
const envelope = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.unknown() }), warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
const matrixSchema = z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleSchema) }));
const vectorSchema = z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleSchema }));

/** At most this many points are kept (and charted) per series. */
export const MAX_POINTS = 240;
/** Series looked at; an expression matching thousands is cut here. */
const MAX_SERIES = 50;

/** The expression from a Prometheus generatorURL (`…/graph?g0.expr=…`), or null. */
export function exprFromGeneratorUrl(url: string): string | null {
  try {
    const expr = new URL(url).searchParams.get('g0.expr');
    return expr && expr.trim() !== '' ? expr.trim() : null;
  } catch {
    return null;
  }
}

/**
 * Splits `rate(x[5m]) > 0.05` into the value expression and its comparison. Only a comparison at the
 * top level (outside any brackets) with a number on its right counts; `bool` modifiers stay as they are.
 */
export function splitComparison(expr: string): { value: string; comparison: MetricFinding['comparison'] } {
  const m = /^(.*?)\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*$/i.exec(expr);
  if (!m || !m[1] || !balanced(m[1])) return { value: expr, comparison: null };
  return { value: m[1].trim(), comparison: { op: m[2] as NonNullable<MetricFinding['comparison']>['op'], threshold: Number(m[3]) } };
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

async function call(target: SourceTarget, path: string, params: Record<string, string>): Promise<{ resultType: string; result: unknown }> {
  const parsed = envelope.safeParse(await getJson(target, path, params));
  if (!parsed.success) throw new SourceUnreachableError(`${target.name} answered in a shape that is not the Prometheus API's`);
  if (parsed.data.status === 'error') throw new SourceUnreachableError(`${target.name}: ${parsed.data.errorType}: ${parsed.data.error}`);
  return parsed.data.data;
}

/** Series of `expr` from `start` to `end` (ms), at a step giving about MAX_POINTS points. */
export async function queryRange(target: SourceTarget, expr: string, start: number, end: number) {
  const stepS = Math.max(15, Math.ceil((end - start) / 1000 / MAX_POINTS));
  const data = await call(target, '/api/v1/query_range', { query: expr, start: String(start / 1000), end: String(end / 1000), step: `${stepS}s` });
  if (data.resultType !== 'matrix') throw new SourceUnreachableError(`${target.name} answered a ${data.resultType} to a range query`);
  const series = matrixSchema.safeParse(data.result);
  if (!series.success) throw new SourceUnreachableError(`${target.name} answered a malformed matrix`);
  return series.data.slice(0, MAX_SERIES).map((s) => ({ labels: s.metric, points: s.values.map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)]).filter(([, v]) => Number.isFinite(v)) }));
}

/** The value of `expr` now, per series. */
export async function queryInstant(target: SourceTarget, expr: string, at: number) {
  const data = await call(target, '/api/v1/query', { query: expr, time: String(at / 1000) });
  if (data.resultType === 'scalar') {
    const scalar = sampleSchema.safeParse(data.result);
    return scalar.success ? [{ labels: {}, value: Number(scalar.data[1]) }] : [];
  }
  const vector = vectorSchema.safeParse(data.result);
  if (!vector.success) throw new SourceUnreachableError(`${target.name} answered a malformed vector`);
  return vector.data.slice(0, MAX_SERIES).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
}

/**
 * The metric behind the alert: an hour before its start until now (at most two hours after the start),
 * and its current value. The charted series is the one highest now (the one most over its threshold).
 */
export async function metricEvidence(target: SourceTarget, alertExpr: string, startedAt: number, now: number): Promise<MetricFinding> {
  const { value: expr, comparison } = splitComparison(alertExpr);
  const end = Math.min(now, startedAt + 2 * 3_600_000);
  const [range, instant] = await Promise.all([queryRange(target, expr, startedAt - 3_600_000, Math.max(end, startedAt + 60_000)), queryInstant(target, expr, now)]);
  return summariseMetric(expr, comparison, range, instant, startedAt);
}

/** Pure: what the series say — current, before, peak, trend — and the points worth charting. */
export function summariseMetric(
  expr: string, comparison: MetricFinding['comparison'], range: { labels: Record<string, string>; points: Array<[number, number]> }[],
  instant: { labels: Record<string, string>; value: number }[], startedAt: number,
): MetricFinding {
  const nowValues = instant.filter((s) => Number.isFinite(s.value));
  const top = [...nowValues].sort((a, b) => b.value - a.value)[0];
  const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
  const charted = (top ? range.find((s) => key(s.labels) === key(top.labels)) : undefined)
    ?? [...range].sort((a, b) => (b.points.at(-1)?.[1] ?? -Infinity) - (a.points.at(-1)?.[1] ?? -Infinity))[0];
  const points = downsample(charted?.points ?? [], MAX_POINTS);
  const beforeValues = points.filter(([t]) => t < startedAt).map(([, v]) => v);
  const afterValues = points.filter(([t]) => t >= startedAt).map(([, v]) => v);
  const before = beforeValues.length > 0 ? mean(beforeValues) : null;
  const current = top?.value ?? points.at(-1)?.[1] ?? null;
  const all = points.map(([, v]) => v);
  return {
    expr,
    comparison,
    current,
    before,
    peak: all.length > 0 ? Math.max(...all) : null,
    trend: trendOf(afterValues.length >= 2 ? afterValues : all),
    points,
    series: Math.max(range.length, nowValues.length),
    labels: charted?.labels ?? top?.labels ?? {},
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Rising or falling when the last third's mean differs from the first third's by more than 10 %. */
export function trendOf(values: number[]): MetricFinding['trend'] {
  if (values.length < 3) return 'unknown';
  const third = Math.max(1, Math.floor(values.length / 3));
  const first = mean(values.slice(0, third));
  const last = mean(values.slice(-third));
  const scale = Math.max(Math.abs(first), Math.abs(last), 1e-9);
  if ((last - first) / scale > 0.1) return 'rising';
  if ((first - last) / scale > 0.1) return 'falling';
  return 'flat';
}

function downsample(points: Array<[number, number]>, max: number): Array<[number, number]> {
  if (points.length <= max) return points;
  const every = points.length / max;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < max; i++) {
    const p = points[Math.floor(i * every)];
    if (p) out.push(p);
  }
  const last = points.at(-1);
  if (last && out.at(-1) !== last) out[out.length - 1] = last;
  return out;
}
