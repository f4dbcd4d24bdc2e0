// A strict reader of the Prometheus text exposition format (0.0.4), checking what `promtool check
// metrics` checks and more: one HELP and one TYPE per family before its samples, valid metric and
// label names, parseable values, no duplicate series, contiguous families, and complete histograms
// (cumulative `le` buckets ending at +Inf, `_count` equal to the +Inf bucket, a `_sum`).
// Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses and validates a whole exposition; throws ExpositionError naming the line at fault. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError('the exposition must end with a line feed');
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const series = new Set<string>();
  /** Which of HELP and TYPE each family has had. */
  const declared = new Map<string, Set<string>>();
  let current: Family | undefined;
  const lines = text.split('\n').slice(0, -1);
  for (const [i, line] of lines.entries()) {
    const at = `line ${i + 1} (${JSON.stringify(line.slice(0, 80))})`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) continue; // Other comments are allowed.
      const [, keyword, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new ExpositionError(`${at}: invalid metric name ${name}`);
      if (finished.has(name)) throw new ExpositionError(`${at}: family ${name} appears again after other families`);
      let family = families.get(name);
      if (!family) {
        if (current) finished.add(current.name);
        family = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, family);
        current = family;
        declared.set(name, new Set());
      }
      const seen = declared.get(name) ?? new Set();
      if (seen.has(keyword ?? '')) throw new ExpositionError(`${at}: a second ${keyword} line for ${name}`);
      if (family.samples.length > 0) throw new ExpositionError(`${at}: ${keyword} for ${name} after its samples`);
      seen.add(keyword ?? '');
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new ExpositionError(`${at}: unknown type ${rest}`);
        family.type = rest as MetricType;
      } else {
        if (!/^(?:[^\\]|\\[\\n])*$/.test(rest)) throw new ExpositionError(`${at}: invalid escape in HELP`);
        family.help = rest;
      }
      continue;
    }
    const sample = parseSample(line, at);
    const family = current && belongsTo(sample.name, current) ? current : undefined;
    if (!family) throw new ExpositionError(`${at}: sample ${sample.name} outside its family's HELP/TYPE block`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b)))}`;
    if (series.has(key)) throw new ExpositionError(`${at}: duplicate series ${key}`);
    series.add(key);
    family.samples.push(sample);
  }
  for (const family of families.values()) {
    const seen = declared.get(family.name);
    if (!seen?.has('HELP') || !seen.has('TYPE')) throw new ExpositionError(`family ${family.name} lacks a HELP or TYPE line`);
    if (family.type === 'counter') checkCounter(family);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function belongsTo(sampleName: string, family: Family): boolean {
  if (sampleName === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram') return ['_bucket', '_sum', '_count'].some((s) => sampleName === family.name + s);
  if (family.type === 'summary') return ['_sum', '_count'].some((s) => sampleName === family.name + s);
  return false;
}

function parseSample(line: string, at: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? ([^ ]+)(?: (-?\d+))?$/.exec(line);
  if (!m) throw new ExpositionError(`${at}: not a sample line`);
  const [, name = '', rawLabels, rawValue = ''] = m;
  return { name, labels: rawLabels ? parseLabels(rawLabels, at) : {}, value: parseValue(rawValue, at) };
}

function parseLabels(raw: string, at: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = raw.slice(1, -1);
  while (rest.length > 0) {
    const m = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,?)/.exec(rest);
    if (!m) throw new ExpositionError(`${at}: malformed labels ${raw}`);
    const [whole, name = '', value = '', comma] = m;
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new ExpositionError(`${at}: invalid label name ${name}`);
    if (name in labels) throw new ExpositionError(`${at}: label ${name} given twice`);
    labels[name] = value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
    if (!comma && rest.length > 0) throw new ExpositionError(`${at}: malformed labels ${raw}`);
  }
  return labels;
}

/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case, so prom-client's `Nan` passes. */
function parseValue(raw: string, at: string): number {
  if (/^\+?inf(inity)?$/i.test(raw)) return Infinity;
  if (/^-inf(inity)?$/i.test(raw)) return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new ExpositionError(`${at}: value ${raw} is not a number`);
  return Number(raw);
}

function checkCounter(family: Family): void {
  for (const s of family.samples) {
    if (!(s.value >= 0)) throw new ExpositionError(`counter ${family.name} has the value ${s.value}`);
  }
}

/** Per label set (without `le`): ascending, cumulative buckets ending at +Inf; `_count` = +Inf bucket; `_sum`. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: { le: number; value: number }[]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new ExpositionError(`${family.name}_bucket without an le label`);
      group.buckets.push({ le: parseValue(le, `${family.name} le`), value: s.value });
    } else if (s.name.endsWith('_sum')) {
      group.sum = s.value;
    } else {
      if (le !== undefined) throw new ExpositionError(`${s.name} carries an le label`);
      group.count = s.value;
    }
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.buckets.length === 0 || g.sum === undefined || g.count === undefined) throw new ExpositionError(`${where}: a histogram needs buckets, _sum and _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prev, b] = [g.buckets[i - 1], g.buckets[i]];
      if (!prev || !b || !(b.le > prev.le)) throw new ExpositionError(`${where}: buckets not in ascending le order`);
      if (b.value < prev.value) throw new ExpositionError(`${where}: bucket counts are not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (last?.le !== Infinity) throw new ExpositionError(`${where}: the last bucket must be le="+Inf"`);
    if (last.value !== g.count) throw new ExpositionError(`${where}: _count ${g.count} differs from the +Inf bucket ${last.value}`);
  }
}

/** The value of one series (labels must match exactly those given, others ignored), or undefined. */
export function sampleValue(families: Map<string, Family>, family: string, sampleName: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  const s = f?.samples.find((x) => x.name === sampleName && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

/** The sum of a histogram's `_count` over the series matching `labels`. */
export function histogramCount(families: Map<string, Family>, family: string, labels: Record<string, string> = {}): number {
  const f = families.get(family);
  if (f?.type !== 'histogram') return 0;
  return f.samples
    .filter((x) => x.name === `${family}_count` && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
    .reduce((n, x) => n + x.value, 0);
}
