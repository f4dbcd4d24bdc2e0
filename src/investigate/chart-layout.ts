// Where everything on a metric chart goes: the time and value domains, their ticks and labels, and
// the pixel position of the series, the threshold and the markers. Pure; chart.ts draws it.
import { scaleLinear, scaleUtc } from 'd3-scale';
import type { MetricChartInput } from './chart.js';

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 400;
/** The plot area in pixels; the title and marker labels sit above it, the time ticks below. */
export const PLOT = { left: 68, top: 72, right: CHART_WIDTH - 24, bottom: CHART_HEIGHT - 48 } as const;
/** DejaVu Sans at 12 px averages about 7 px a character (8 in bold): enough to keep labels apart and inside. */
const CHAR_WIDTH_PX = 7;
const BOLD_CHAR_WIDTH_PX = 8;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** A marker is drawn in place unless showing it would stretch the time axis past this many times the data's span. */
const MARKER_STRETCH = 3;
const MARKER_LABEL_MAX = 44;
const TITLE_MAX = 80;

export interface Tick {
  pos: number;
  label: string;
}

export interface MarkerLayout {
  kind: 'start' | 'suspect';
  /** Pixel column of the vertical line (the plot's edge when the moment lies outside the time axis). */
  x: number;
  label: string;
  labelX: number;
  anchor: 'start' | 'end';
  /** Label row above the plot: 0 nearest the plot, 1 above it when two labels would overlap. */
  row: 0 | 1;
}

export interface ChartLayout {
  title: string;
  /** The latest finite value, formatted with the unit ("1.2k req/s"), or undefined with no data. */
  latest: string | undefined;
  yAxisTitle: string | undefined;
  xCaption: string;
  xTicks: Tick[];
  yTicks: Tick[];
  /** Pixel polylines of the series, broken where samples are missing. */
  segments: Array<Array<[number, number]>>;
  /** Samples with no neighbour to join (a single point, or one between two gaps). */
  dots: Array<[number, number]>;
  threshold: { y: number; label: string; labelY: number } | undefined;
  markers: MarkerLayout[];
  noData: boolean;
}

/** A value for people: 3 significant digits, k/M/G/T past a thousand, the unit after it. */
export function formatValue(value: number, unit?: string): string {
  const abs = Math.abs(value);
  const prefixes: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  const prefix = prefixes.find(([size]) => abs >= size);
  const text = prefix ? `${trimNumber(value / prefix[0])}${prefix[1]}` : trimNumber(value);
  return withUnit(text, unit);
}

function trimNumber(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function withUnit(text: string, unit: string | undefined): string {
  if (!unit) return text;
  return unit === '%' ? `${text}%` : `${text} ${unit}`;
}

/** "14:02" in UTC; with seconds when the axis spans only a few minutes. */
export function utcClock(ms: number, withSeconds = false): string {
  const iso = new Date(ms).toISOString();
  return withSeconds ? iso.slice(11, 19) : iso.slice(11, 16);
}

const dayFormat = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayYearFormat = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

function clip(text: string, max: number): string {
  // Control characters would reach the picture as boxes; untrusted text is flattened to one line.
  const flat = text.replace(/[\p{Cc}\s]+/gu, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface Sample {
  t: number;
  v: number;
}

function finiteSamples(points: Array<[number, number]>): Sample[] {
  return points
    .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v))
    .map(([t, v]) => ({ t, v }))
    .sort((a, b) => a.t - b.t);
}

/** The time axis: the data's span, stretched to show the markers unless that would squash the data. */
function timeDomain(samples: Sample[], moments: number[]): [number, number] {
  const first = samples[0];
  const last = samples[samples.length - 1];
  let [lo, hi] = first && last ? [first.t, last.t] : [Number.NaN, Number.NaN];
  if (!(hi > lo)) {
    const centre = first ? first.t : (moments[0] ?? 0);
    [lo, hi] = [centre - 30 * MINUTE_MS, centre + 30 * MINUTE_MS];
  }
  const limit = Math.max(MARKER_STRETCH * (hi - lo), HOUR_MS);
  for (const moment of moments) {
    const [nextLo, nextHi] = [Math.min(lo, moment), Math.max(hi, moment)];
    if (nextHi - nextLo <= limit) [lo, hi] = [nextLo, nextHi];
  }
  return [lo, hi];
}

/** The value axis: the data and the threshold, from zero when the data sits well above it. */
function valueDomain(samples: Sample[], threshold: number | undefined): [number, number] {
  const values = samples.map((s) => s.v);
  if (threshold !== undefined) values.push(threshold);
  // With nothing measured, the threshold alone is drawn against zero.
  if (samples.length === 0) values.push(0);
  // reduce, not Math.min(...values): a long series would overflow the argument list.
  const hi = values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  const min = values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const fromZero = min >= 0 && min < hi / 2;
  const lo = fromZero ? 0 : min;
  if (hi === lo) {
    const pad = Math.abs(lo) / 10 || 1;
    return lo === 0 ? [0, 1] : [lo - pad, hi + pad];
  }
  // A little room so neither the peak nor the threshold sits on the plot's edge (nice() rounds from there).
  const room = (hi - lo) * 0.05;
  return [fromZero ? lo : lo - room, hi + room];
}

/** Tick labels for the time axis: the date at midnight, seconds on very short spans. */
function timeTickLabel(ms: number, spanMs: number): string {
  if (spanMs <= 5 * MINUTE_MS) return utcClock(ms, true);
  if (ms % (24 * HOUR_MS) === 0) return dayFormat.format(ms);
  return utcClock(ms);
}

function timeCaption(lo: number, hi: number): string {
  const [from, to] = [dayYearFormat.format(lo), dayYearFormat.format(hi)];
  return from === to ? `time (UTC), ${from}` : `time (UTC), ${dayFormat.format(lo)} – ${to}`;
}

/** Splits the series where a sample is missing: a step more than three times the usual one. */
function splitAtGaps(samples: Sample[]): Sample[][] {
  const steps = samples.slice(1).map((s, i) => s.t - (samples[i]?.t ?? s.t)).sort((a, b) => a - b);
  const usual = steps[Math.floor(steps.length / 2)] ?? 0;
  const runs: Sample[][] = [];
  let run: Sample[] = [];
  for (const sample of samples) {
    const previous = run[run.length - 1];
    if (previous && usual > 0 && sample.t - previous.t > 3 * usual) {
      runs.push(run);
      run = [];
    }
    run.push(sample);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Places each marker's label beside its line, inside the picture, on a second row if two would overlap. */
function placeMarkers(drafts: Array<{ kind: MarkerLayout['kind']; x: number; label: string }>): MarkerLayout[] {
  const taken: Array<{ row: 0 | 1; from: number; to: number }> = [];
  return drafts.map((draft) => {
    const width = draft.label.length * BOLD_CHAR_WIDTH_PX;
    const anchor = draft.x + 4 + width > CHART_WIDTH - 8 ? 'end' : 'start';
    const labelX = anchor === 'start' ? draft.x + 4 : draft.x - 4;
    const [from, to] = anchor === 'start' ? [labelX, labelX + width] : [labelX - width, labelX];
    const clash = taken.some((t) => t.row === 0 && from < t.to + 8 && t.from < to + 8);
    const row: 0 | 1 = clash ? 1 : 0;
    taken.push({ row, from, to });
    return { ...draft, anchor, labelX, row };
  });
}

export function layoutMetricChart(input: MetricChartInput): ChartLayout {
  const samples = finiteSamples(input.points);
  const threshold = input.threshold !== undefined && Number.isFinite(input.threshold) ? input.threshold : undefined;
  const suspectAt = input.suspectAt !== undefined && Number.isFinite(input.suspectAt) ? input.suspectAt : undefined;
  const moments = [input.startAt, ...(suspectAt === undefined ? [] : [suspectAt])].filter(Number.isFinite);
  const [t0, t1] = timeDomain(samples, moments);
  const x = scaleUtc().domain([t0, t1]).range([PLOT.left, PLOT.right]);
  const y = scaleLinear().domain(valueDomain(samples, threshold)).range([PLOT.bottom, PLOT.top]).nice(5);
  const [v0, v1] = y.domain() as [number, number];
  const siTick = y.tickFormat(5, Math.max(Math.abs(v0), Math.abs(v1)) >= 1000 ? '~s' : '~f');
  // d3 gives every SI tick the largest tick's prefix, so zero would read "0M".
  const valueTick = (v: number): string => (v === 0 ? '0' : siTick(v));
  const px = (s: Sample): [number, number] => [round1(x(s.t)), round1(y(s.v))];

  const runs = splitAtGaps(samples);
  const latestSample = samples[samples.length - 1];
  const pinned = (ms: number): { x: number; arrow: string } =>
    ms < t0 ? { x: PLOT.left, arrow: '← ' } : ms > t1 ? { x: PLOT.right, arrow: '→ ' } : { x: Math.round(x(ms)), arrow: '' };
  const drafts: Array<{ kind: MarkerLayout['kind']; x: number; label: string }> = [];
  if (Number.isFinite(input.startAt)) {
    const at = pinned(input.startAt);
    drafts.push({ kind: 'start', x: at.x, label: `${at.arrow}started ${utcClock(input.startAt)} UTC` });
  }
  if (suspectAt !== undefined) {
    const at = pinned(suspectAt);
    const name = clip(input.suspectLabel ?? 'suspect change', MARKER_LABEL_MAX);
    const when = `${dayFormat.format(suspectAt)} ${utcClock(suspectAt)}`;
    drafts.push({ kind: 'suspect', x: at.x, label: at.arrow ? `${at.arrow}${name} (${when})` : name });
  }

  let thresholdLayout: ChartLayout['threshold'];
  if (threshold !== undefined) {
    const ty = Math.round(y(threshold));
    thresholdLayout = { y: ty, label: `threshold ${formatValue(threshold, input.unit)}`, labelY: ty - PLOT.top < 16 ? ty + 16 : ty - 6 };
  }
  const latest = latestSample ? formatValue(latestSample.v, input.unit) : undefined;
  const titleRoom = Math.floor((CHART_WIDTH - 40 - (latest ? (latest.length + 8) * CHAR_WIDTH_PX : 0)) / 10);

  return {
    title: clip(input.title, Math.min(TITLE_MAX, titleRoom)),
    latest,
    yAxisTitle: input.unit ? clip(input.unit, 24) : undefined,
    xCaption: timeCaption(t0, t1),
    xTicks: x.ticks(8).map((d) => ({ pos: Math.round(x(d)), label: timeTickLabel(d.getTime(), t1 - t0) })),
    yTicks: y.ticks(5).map((v) => ({ pos: Math.round(y(v)), label: valueTick(v) })),
    segments: runs.filter((r) => r.length > 1).map((r) => r.map(px)),
    dots: runs.filter((r) => r.length === 1).flatMap((r) => r.map(px)),
    threshold: thresholdLayout,
    markers: placeMarkers(drafts),
    noData: samples.length === 0,
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
