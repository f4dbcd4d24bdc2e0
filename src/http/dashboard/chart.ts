// The dashboard's heartbeat timeline: one inline SVG per workspace, a stacked column per minute of
// the last hour, so a glance shows how rarely Tacit wakes and how much rarer it speaks.
import type { TimelinePoint } from '../../heartbeat/signals.js';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export const MINUTES = 60;
const WIDTH = 720;
const HEIGHT = 160;
const PAD = { left: 40, right: 40, top: 12, bottom: 22 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const COL_W = PLOT_W / MINUTES;
const BASELINE = PAD.top + PLOT_H;

/** Bottom-up stacking order, with the colours the legend explains. */
export const segments = [
  { key: 'quiet', label: 'quiet', colour: '#ced4da' },
  { key: 'woken', label: 'woken, stayed quiet', colour: '#4dabf7' },
  { key: 'spoke', label: 'spoke', colour: '#40c057' },
  { key: 'acted', label: 'acted', colour: '#845ef7' },
  { key: 'vetoed', label: 'vetoed', colour: '#fd7e14' },
] as const;
const MODEL_CALLS_COLOUR = '#d6336c';

type Segment = (typeof segments)[number]['key'];
type Stack = Record<Segment, number>;

/**
 * Splits a minute's ticks into disjoint bars. A woken tick also counts `quiet` when the brain
 * chose silence (heartbeat/tick.ts), so those are taken out of the grey bar and shown blue.
 */
export function stackMinute(p: TimelinePoint): Stack {
  const n = (v: number | undefined): number => Math.max(0, v ?? 0);
  const spoke = n(p.spoke);
  const acted = n(p.acted);
  const vetoed = n(p.vetoed);
  const woken = n(n(p.woken) - spoke - acted - vetoed);
  const quiet = p.quiet === undefined ? n(n(p.ticks) - woken - spoke - acted - vetoed) : n(p.quiet - woken);
  return { quiet, woken, spoke, acted, vetoed };
}

const hhmm = (minute: number): string => new Date(minute * 60_000).toISOString().slice(11, 16);
const round = (v: number): number => Math.round(v * 100) / 100;

function tooltip(minute: number, p: TimelinePoint | undefined): string {
  if (!p) return `${hhmm(minute)} UTC · no ticks recorded`;
  const c = (v: number | undefined): number => v ?? 0;
  return (
    `${hhmm(minute)} UTC · ticks ${c(p.ticks)} · quiet ${c(p.quiet)} · woken ${c(p.woken)} · spoke ${c(p.spoke)}` +
    ` · vetoed ${c(p.vetoed)} · acted ${c(p.acted)} · model calls ${c(p.model_calls)}`
  );
}

function column(i: number, minute: number, p: TimelinePoint | undefined, scale: number): string {
  const x = PAD.left + i * COL_W;
  const parts = [`<rect class="hit" x="${round(x)}" y="${PAD.top}" width="${round(COL_W)}" height="${PLOT_H}" fill="transparent"/>`];
  if (p) {
    let top = BASELINE;
    const stack = stackMinute(p);
    for (const s of segments) {
      const h = stack[s.key] * scale;
      if (h <= 0) continue;
      top -= h;
      parts.push(`<rect x="${round(x + 1)}" y="${round(top)}" width="${round(COL_W - 2)}" height="${round(h)}" fill="${s.colour}"/>`);
    }
  }
  return `<g class="col" data-minute="${minute}"><title>${escapeHtml(tooltip(minute, p))}</title>${parts.join('')}</g>`;
}

function modelCallsLine(firstMinute: number, byMinute: Map<number, TimelinePoint>): { svg: string; max: number } {
  const calls = Array.from({ length: MINUTES }, (_, i) => byMinute.get(firstMinute + i)?.model_calls ?? 0);
  const max = Math.max(0, ...calls);
  if (max === 0) return { svg: '', max };
  const xy = calls.map((v, i) => [round(PAD.left + (i + 0.5) * COL_W), round(BASELINE - (v / max) * PLOT_H)] as const);
  const dots = xy.filter((_, i) => (calls[i] ?? 0) > 0).map(([x, y]) => `<circle cx="${x}" cy="${y}" r="2.5"/>`);
  const line = `<polyline points="${xy.map(([x, y]) => `${x},${y}`).join(' ')}" fill="none" stroke-width="1.25" stroke-opacity="0.7"/>`;
  return { svg: `<g class="model-calls" stroke="${MODEL_CALLS_COLOUR}" fill="${MODEL_CALLS_COLOUR}" pointer-events="none">${line}${dots.join('')}</g>`, max };
}

/** The chart for one workspace: 60 columns ending at the minute of `nowMs`, plus its legend. */
export function timelineChart(workspace: { id: string; name: string; timeline: TimelinePoint[] }, nowMs: number): string {
  const lastMinute = Math.floor(nowMs / 60_000);
  const firstMinute = lastMinute - MINUTES + 1;
  const byMinute = new Map(workspace.timeline.filter((p) => p.minute >= firstMinute && p.minute <= lastMinute).map((p) => [p.minute, p]));

  const totals = { ticks: 0, woken: 0, spoke: 0, vetoed: 0, acted: 0, model_calls: 0 };
  let maxStack = 0;
  for (const p of byMinute.values()) {
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += p[k] ?? 0;
    maxStack = Math.max(maxStack, Object.values(stackMinute(p)).reduce((a, b) => a + b, 0));
  }
  const scale = maxStack > 0 ? PLOT_H / maxStack : 0;
  const columns = Array.from({ length: MINUTES }, (_, i) => column(i, firstMinute + i, byMinute.get(firstMinute + i), scale));
  const calls = modelCallsLine(firstMinute, byMinute);

  const label =
    `Heartbeat of ${workspace.name}, last 60 minutes: ${totals.ticks} ticks, ${totals.woken} woken, ${totals.spoke} spoke, ` +
    `${totals.vetoed} vetoed, ${totals.acted} acted, ${totals.model_calls} model calls`;
  const axis = [
    `<line x1="${PAD.left}" y1="${BASELINE + 0.5}" x2="${WIDTH - PAD.right}" y2="${BASELINE + 0.5}" stroke="#adb5bd"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top + 0.5}" x2="${WIDTH - PAD.right}" y2="${PAD.top + 0.5}" stroke="#eef0f3"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${maxStack}</text>`,
    `<text x="${PAD.left - 6}" y="${BASELINE}" text-anchor="end">0</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + PLOT_H / 2 + 4}" text-anchor="end">ticks</text>`,
    `<text x="${PAD.left}" y="${HEIGHT - 6}">60 min ago</text>`,
    `<text x="${WIDTH - PAD.right}" y="${HEIGHT - 6}" text-anchor="end">now</text>`,
  ];
  if (calls.max > 0) {
    axis.push(
      `<text x="${WIDTH - PAD.right + 6}" y="${PAD.top + 4}" style="fill:${MODEL_CALLS_COLOUR}">${calls.max}</text>`,
      `<text x="${WIDTH - PAD.right + 6}" y="${PAD.top + PLOT_H / 2 + 4}" style="fill:${MODEL_CALLS_COLOUR}">calls</text>`,
    );
  }
  const svg =
    `<svg class="timeline" data-testid="timeline-${escapeHtml(workspace.id)}" role="img" aria-label="${escapeHtml(label)}" ` +
    `viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">` +
    `${axis.join('')}${columns.join('')}${calls.svg}</svg>`;
  const legend = segments
    .map((s) => `<li><span class="swatch" style="background:${s.colour}"></span>${s.label}</li>`)
    .concat(`<li><span class="swatch line" style="background:${MODEL_CALLS_COLOUR}"></span>model calls (right scale)</li>`)
    .join('');
  return `<figure class="chart">${svg}<figcaption><ul class="legend">${legend}</ul></figcaption></figure>`;
}
