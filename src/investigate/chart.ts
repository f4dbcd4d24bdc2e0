// The picture of an incident: the alert's metric over time as a PNG, with its threshold, the moment
// the incident started and the suspect change marked. Built as SVG, rasterised by resvg (no browser),
// with a bundled font so text renders on a machine that has none.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { CHART_HEIGHT, CHART_WIDTH, PLOT, layoutMetricChart, type ChartLayout, type MarkerLayout } from './chart-layout.js';

export interface MetricChartInput {
  title: string;
  unit?: string;
  /** [ms since epoch, value]; non-finite samples are skipped. */
  points: Array<[number, number]>;
  threshold?: number;
  startAt: number;
  suspectAt?: number;
  suspectLabel?: string;
}

const FONT_FAMILY = 'DejaVu Sans';
// Resolves to <root>/assets/fonts from src/investigate/ (tsx) and dist/investigate/ (built) alike;
// the Docker image copies assets/ beside dist/.
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((name) =>
  fileURLToPath(new URL(`../../assets/fonts/${name}`, import.meta.url)),
);

/** Plain sRGB hex: test/investigate/chart.test.ts looks for the threshold and marker colours in the pixels. */
const COLOURS = {
  background: '#ffffff',
  plot: '#fafbfc',
  grid: '#e5e7eb',
  axis: '#9ca3af',
  text: '#374151',
  muted: '#6b7280',
  series: '#2563eb',
  seriesFill: '#2563eb',
  threshold: '#dc2626',
  start: '#ea580c',
  suspect: '#7c3aed',
} as const;

export function renderMetricChart(input: MetricChartInput): Buffer {
  const missing = FONT_FILES.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`chart font missing at ${missing.join(', ')}: deploy the assets/ folder beside dist/ (see Dockerfile)`);
  }
  const svg = chartSvg(layoutMetricChart(input));
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'original' },
    background: COLOURS.background,
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  return resvg.render().asPng();
}

function chartSvg(layout: ChartLayout): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="${FONT_FAMILY}" font-size="12">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="${COLOURS.background}"/>`,
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="${COLOURS.plot}"/>`,
    ...heading(layout),
    ...axes(layout),
    ...series(layout),
    ...thresholdLine(layout),
    ...layout.markers.map(markerLine),
    // Labels last, so their halo keeps them readable over every line.
    ...labels(layout),
    `</svg>`,
  ];
  return parts.join('\n');
}

function heading(layout: ChartLayout): string[] {
  const parts = [text(20, 28, layout.title, { size: 16, weight: 'bold', fill: COLOURS.text })];
  if (layout.latest !== undefined) {
    parts.push(text(CHART_WIDTH - 24, 28, `latest ${layout.latest}`, { fill: COLOURS.muted, anchor: 'end' }));
  }
  return parts;
}

function axes(layout: ChartLayout): string[] {
  const parts: string[] = [];
  for (const tick of layout.yTicks) {
    parts.push(line(PLOT.left, tick.pos, PLOT.right, tick.pos, COLOURS.grid, 1));
    parts.push(text(PLOT.left - 8, tick.pos + 4, tick.label, { fill: COLOURS.text, anchor: 'end' }));
  }
  for (const tick of layout.xTicks) {
    parts.push(line(tick.pos, PLOT.top, tick.pos, PLOT.bottom, COLOURS.grid, 1));
    parts.push(line(tick.pos, PLOT.bottom, tick.pos, PLOT.bottom + 5, COLOURS.axis, 1));
    parts.push(text(tick.pos, PLOT.bottom + 19, tick.label, { fill: COLOURS.text, anchor: 'middle' }));
  }
  parts.push(line(PLOT.left, PLOT.bottom, PLOT.right, PLOT.bottom, COLOURS.axis, 1));
  parts.push(line(PLOT.left, PLOT.top, PLOT.left, PLOT.bottom, COLOURS.axis, 1));
  parts.push(text(PLOT.right, PLOT.bottom + 38, layout.xCaption, { fill: COLOURS.muted, anchor: 'end', size: 11 }));
  if (layout.yAxisTitle !== undefined) {
    const middle = (PLOT.top + PLOT.bottom) / 2;
    parts.push(
      `<text transform="translate(16 ${middle}) rotate(-90)" text-anchor="middle" fill="${COLOURS.muted}" font-size="11">${escapeXml(layout.yAxisTitle)}</text>`,
    );
  }
  return parts;
}

function series(layout: ChartLayout): string[] {
  const parts: string[] = [];
  for (const segment of layout.segments) {
    const coords = segment.map(([x, y]) => `${x},${y}`).join(' ');
    const first = segment[0];
    const last = segment[segment.length - 1];
    if (first && last) {
      const area = `${first[0]},${PLOT.bottom} ${coords} ${last[0]},${PLOT.bottom}`;
      parts.push(`<polygon points="${area}" fill="${COLOURS.seriesFill}" fill-opacity="0.08"/>`);
    }
    parts.push(`<polyline points="${coords}" fill="none" stroke="${COLOURS.series}" stroke-width="2" stroke-linejoin="round"/>`);
  }
  for (const [x, y] of layout.dots) parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${COLOURS.series}"/>`);
  return parts;
}

function thresholdLine(layout: ChartLayout): string[] {
  if (!layout.threshold) return [];
  const { y } = layout.threshold;
  return [
    `<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}" stroke="${COLOURS.threshold}" stroke-width="2" stroke-dasharray="8 5" shape-rendering="crispEdges"/>`,
  ];
}

function markerLabelY(m: MarkerLayout): number {
  return PLOT.top - 8 - m.row * 16;
}

function markerLine(m: MarkerLayout): string {
  const colour = m.kind === 'start' ? COLOURS.start : COLOURS.suspect;
  const dash = m.kind === 'suspect' ? ' stroke-dasharray="5 3"' : '';
  return `<line x1="${m.x}" y1="${markerLabelY(m) - 10}" x2="${m.x}" y2="${PLOT.bottom}" stroke="${colour}" stroke-width="2"${dash} shape-rendering="crispEdges"/>`;
}

function labels(layout: ChartLayout): string[] {
  const parts = layout.markers.map((m) =>
    text(m.labelX, markerLabelY(m), m.label, {
      fill: m.kind === 'start' ? COLOURS.start : COLOURS.suspect,
      anchor: m.anchor,
      weight: 'bold',
      halo: true,
    }),
  );
  if (layout.threshold) {
    parts.push(text(PLOT.right - 6, layout.threshold.labelY, layout.threshold.label, { fill: COLOURS.threshold, anchor: 'end', halo: true }));
  }
  if (layout.noData) {
    const [x, y] = [(PLOT.left + PLOT.right) / 2, (PLOT.top + PLOT.bottom) / 2];
    parts.push(text(x, y, 'no data', { size: 18, fill: COLOURS.muted, anchor: 'middle', halo: true }));
  }
  return parts;
}

interface TextStyle {
  fill: string;
  size?: number;
  weight?: 'bold';
  anchor?: 'start' | 'middle' | 'end';
  /** A background-coloured outline so the label reads over grid and series lines. */
  halo?: boolean;
}

function text(x: number, y: number, content: string, style: TextStyle): string {
  const attrs = [
    `x="${x}"`,
    `y="${y}"`,
    `fill="${style.fill}"`,
    style.size ? `font-size="${style.size}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    style.anchor && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
    style.halo ? `stroke="${COLOURS.background}" stroke-width="4" stroke-linejoin="round" paint-order="stroke"` : '',
  ];
  return `<text ${attrs.filter(Boolean).join(' ')}>${escapeXml(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width: number): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}" shape-rendering="crispEdges"/>`;
}

/** Titles and labels come from alerts and commits: untrusted text goes into the SVG as character data only. */
function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
