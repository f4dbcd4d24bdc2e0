// The incident chart: a real PNG of the right size, with the threshold and the markers drawn where the
// layout says (read back from the decoded pixels), text from the bundled font, and no throw on odd data.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, CHART_WIDTH, PLOT, formatValue, layoutMetricChart } from '../../src/investigate/chart-layout.js';
import { renderMetricChart, type MetricChartInput } from '../../src/investigate/chart.js';

const MINUTE = 60_000;
const start = Date.UTC(2026, 11, 1, 14, 2);

function latencyInput(overrides: Partial<MetricChartInput> = {}): MetricChartInput {
  const points: Array<[number, number]> = [];
  for (let t = start - 60 * MINUTE; t <= start + 20 * MINUTE; t += 30_000) points.push([t, t < start ? 180 : 720]);
  return { title: 'p99 latency, checkout-api', unit: 'ms', points, threshold: 500, startAt: start, ...overrides };
}

type Rgb = [number, number, number];
const THRESHOLD: Rgb = [0xdc, 0x26, 0x26];
const START: Rgb = [0xea, 0x58, 0x0c];
const SUSPECT: Rgb = [0x7c, 0x3a, 0xed];

function pixelAt(png: PNG, x: number, y: number): Rgb {
  const i = (y * png.width + x) * 4;
  return [png.data[i] ?? 0, png.data[i + 1] ?? 0, png.data[i + 2] ?? 0];
}

function near(a: Rgb, b: Rgb): boolean {
  return a.every((c, i) => Math.abs(c - (b[i] ?? 0)) <= 12);
}

/** How many pixels of a colour lie along a row (or a column) of the plot area. */
function countInRow(png: PNG, y: number, colour: Rgb): number {
  let n = 0;
  for (let x = PLOT.left + 1; x < PLOT.right; x++) if (near(pixelAt(png, x, y), colour)) n++;
  return n;
}

function countInColumn(png: PNG, x: number, colour: Rgb): number {
  let n = 0;
  for (let y = PLOT.top + 1; y < PLOT.bottom; y++) if (near(pixelAt(png, x, y), colour)) n++;
  return n;
}

describe('renderMetricChart', () => {
  it('returns a PNG of 800 x 400 pixels', () => {
    const png = renderMetricChart(latencyInput());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // The first chunk is IHDR: length (4), type (4), then width and height as big-endian u32.
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(CHART_WIDTH);
    expect(png.readUInt32BE(20)).toBe(CHART_HEIGHT);
  });

  it('draws different pictures for different metrics', () => {
    const a = renderMetricChart(latencyInput());
    const b = renderMetricChart(latencyInput({ points: latencyInput().points.map(([t, v]) => [t, v * 3]) }));
    const c = renderMetricChart(latencyInput({ title: 'another title' }));
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(false);
  });

  it('draws the dashed threshold line at its row, and none without a threshold', () => {
    const input = latencyInput();
    const layout = layoutMetricChart(input);
    const row = layout.threshold?.y ?? -1;
    expect(row).toBeGreaterThan(PLOT.top);
    const drawn = countInRow(PNG.sync.read(renderMetricChart(input)), row, THRESHOLD);
    // Dashes 8 on, 5 off: about 60 % of the width, minus where the series and the markers cross it.
    expect(drawn).toBeGreaterThan((PLOT.right - PLOT.left) * 0.4);
    expect(drawn).toBeLessThan((PLOT.right - PLOT.left) * 0.75);
    const without = PNG.sync.read(renderMetricChart(latencyInput({ threshold: undefined })));
    expect(countInRow(without, row, THRESHOLD)).toBe(0);
  });

  it('marks the incident start and the suspect change with vertical lines at their moments', () => {
    const input = latencyInput({ suspectAt: start - 9 * MINUTE, suspectLabel: 'deploy a1b2c3d' });
    const layout = layoutMetricChart(input);
    const startMarker = layout.markers.find((m) => m.kind === 'start');
    const suspectMarker = layout.markers.find((m) => m.kind === 'suspect');
    expect(startMarker?.label).toBe('started 14:02 UTC');
    expect(suspectMarker?.label).toBe('deploy a1b2c3d');
    const png = PNG.sync.read(renderMetricChart(input));
    const plotHeight = PLOT.bottom - PLOT.top;
    expect(countInColumn(png, startMarker?.x ?? 0, START)).toBeGreaterThan(plotHeight * 0.9);
    // The suspect line is dashed (5 on, 3 off).
    expect(countInColumn(png, suspectMarker?.x ?? 0, SUSPECT)).toBeGreaterThan(plotHeight * 0.5);
    // Between the two, the start colour does not run down a column.
    expect(countInColumn(png, (startMarker?.x ?? 0) - 20, START)).toBe(0);
  });

  it('renders the title with the bundled font (no system fonts are loaded)', () => {
    const png = PNG.sync.read(renderMetricChart(latencyInput()));
    let ink = 0;
    for (let y = 10; y < 34; y++) for (let x = 20; x < 240; x++) if (pixelAt(png, x, y)[0] < 128) ink++;
    expect(ink).toBeGreaterThan(300);
  });

  it('renders odd inputs without throwing', () => {
    const cases: MetricChartInput[] = [
      { title: 'empty', points: [], startAt: start },
      { title: 'empty with threshold', unit: '%', points: [], threshold: 5, startAt: start, suspectAt: start - MINUTE },
      { title: 'one point', points: [[start, 42]], threshold: 100, startAt: start },
      { title: 'only bad values', points: [[start, Number.NaN], [start + MINUTE, Number.POSITIVE_INFINITY]], startAt: start },
      { title: 'flat zero', points: [[start, 0], [start + MINUTE, 0]], startAt: start },
      { title: 'huge', unit: 'bytes', points: [[start, 3.4e12], [start + MINUTE, 9.1e12]], threshold: 1e3, startAt: start },
      { title: 'negative', points: [[start, -5], [start + MINUTE, -2]], threshold: -3, startAt: start },
      { title: '<svg> & "quotes" \u0000\n', suspectLabel: '</text><script>', points: [[start, 1]], startAt: start, suspectAt: start },
      { title: 'x'.repeat(500), points: [[start, 1], [start + MINUTE, 2]], startAt: Number.NaN, suspectAt: Number.POSITIVE_INFINITY },
    ];
    for (const input of cases) expect(renderMetricChart(input).readUInt32BE(16)).toBe(CHART_WIDTH);
  });
});

describe('layoutMetricChart', () => {
  it('says "no data" on an empty series, and still marks the start', () => {
    const layout = layoutMetricChart({ title: 'errors', points: [], startAt: start });
    expect(layout.noData).toBe(true);
    expect(layout.latest).toBeUndefined();
    expect(layout.markers.map((m) => m.kind)).toEqual(['start']);
  });

  it('skips NaN and Infinity samples and draws a lone sample as a dot', () => {
    const layout = layoutMetricChart({
      title: 'cpu',
      points: [[start, 1], [start + 10_000, Number.NaN], [start + 20_000, 2], [start + 30_000, Number.NEGATIVE_INFINITY], [start + 40_000, 3]],
      startAt: start,
    });
    expect(layout.segments).toHaveLength(1);
    expect(layout.segments[0]).toHaveLength(3);
    expect(layoutMetricChart({ title: 'one', points: [[start, 5]], startAt: start }).dots).toHaveLength(1);
  });

  it('breaks the line where samples are missing', () => {
    const points: Array<[number, number]> = [0, 1, 2, 3, 10, 11, 12].map((m) => [start + m * MINUTE, m]);
    expect(layoutMetricChart({ title: 'gappy', points, startAt: start }).segments.map((s) => s.length)).toEqual([4, 3]);
  });

  it('stretches the value axis to show a threshold outside the data', () => {
    const points: Array<[number, number]> = [[start, 10], [start + MINUTE, 12]];
    for (const threshold of [1000, -50]) {
      const y = layoutMetricChart({ title: 't', points, threshold, startAt: start }).threshold?.y ?? Number.NaN;
      expect(y).toBeGreaterThanOrEqual(PLOT.top);
      expect(y).toBeLessThanOrEqual(PLOT.bottom);
    }
  });

  it('labels large values with k, M and G', () => {
    expect(formatValue(1234)).toBe('1.23k');
    expect(formatValue(3.4e6, 'bytes')).toBe('3.4M bytes');
    expect(formatValue(2.5e9)).toBe('2.5G');
    expect(formatValue(0.25, '%')).toBe('0.25%');
    const ticks = layoutMetricChart({ title: 'rps', points: [[start, 0], [start + MINUTE, 4.2e6]], startAt: start }).yTicks;
    expect(ticks.map((t) => t.label)).toContain('0');
    expect(ticks.map((t) => t.label)).toContain('2M');
  });

  it('labels time ticks as clock times over minutes and as dates over days', () => {
    const minutes = layoutMetricChart({ title: 'm', points: [[start, 1], [start + 3 * MINUTE, 2]], startAt: start });
    expect(minutes.xTicks.every((t) => /^\d\d:\d\d:\d\d$/.test(t.label))).toBe(true);
    const hour = layoutMetricChart(latencyInput());
    expect(hour.xTicks.map((t) => t.label)).toContain('14:00');
    const days = layoutMetricChart({ title: 'd', points: [[start - 3 * 24 * 60 * MINUTE, 1], [start, 2]], startAt: start });
    expect(days.xTicks.map((t) => t.label)).toContain('Nov 29');
    expect(days.xCaption).toBe('time (UTC), Nov 28 – Dec 1, 2026');
  });

  it('pins a suspect change far outside the data to the edge, with its date', () => {
    const layout = layoutMetricChart(latencyInput({ suspectAt: start - 5 * 24 * 60 * MINUTE, suspectLabel: 'config #4412' }));
    const suspect = layout.markers.find((m) => m.kind === 'suspect');
    expect(suspect?.x).toBe(PLOT.left);
    expect(suspect?.label).toBe('← config #4412 (Nov 26 14:02)');
  });

  it('puts two labels that would overlap on separate rows', () => {
    const layout = layoutMetricChart(latencyInput({ suspectAt: start - MINUTE, suspectLabel: 'deploy a1b2c3d' }));
    expect(new Set(layout.markers.map((m) => m.row)).size).toBe(2);
  });
});
