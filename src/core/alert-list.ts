// An incident's alerts as people and the model read them: counts, the labels all of them share, a
// few examples, and the full list as a text file. Everything here is bounded by construction, so a
// group of 12,000 alerts (or one 3,000-character fingerprint) stays a short card and a short prompt.
import { displayKey } from './keys.js';
import type { AlertState, Incident } from './incidents.js';

/** Alerts listed on a card, in a summary or in a prompt; the rest are counted ("and 994 more"). */
export const EXAMPLE_ALERTS = 6;
/** Characters of label text per listed alert, and per label value. */
const LABELS_CHARS = 120;
const VALUE_CHARS = 60;
/** The alert file stays well inside Discord's 10 MB attachment limit (lines are bounded too). */
const FILE_CHARS = 4_000_000;

export interface AlertOverview {
  total: number;
  firing: number;
  /** Labels every alert of the incident has, with the same value (bounded text). */
  common: [string, string][];
  /** Firing alerts first, at most EXAMPLE_ALERTS. */
  examples: { fingerprint: string; alert: AlertState; labels: string }[];
  /** Alerts not among the examples. */
  more: number;
}

export function alertOverview(incident: Incident, max = EXAMPLE_ALERTS): AlertOverview {
  const entries = Object.entries(incident.alerts);
  const common = commonLabels(entries.map(([, a]) => a.labels));
  const commonKeys = new Set(common.map(([k]) => k));
  const firing = entries.filter(([, a]) => a.status === 'firing');
  const picked = [...firing, ...(firing.length < max ? entries.filter(([, a]) => a.status !== 'firing') : [])].slice(0, max);
  return {
    total: entries.length,
    firing: firing.length,
    common: common.map(([k, v]) => [cut(k, VALUE_CHARS), cut(v, VALUE_CHARS)]),
    examples: picked.map(([fingerprint, alert]) => ({ fingerprint, alert, labels: labelText(alert.labels, commonKeys) })),
    more: entries.length - picked.length,
  };
}

/** The card and summaries list only examples: past this many alerts the full list goes in a file. */
export function needsAlertFile(incident: Incident): boolean {
  return Object.keys(incident.alerts).length > EXAMPLE_ALERTS;
}

/** A safe file name (letters, digits, `.`, `_`, `-`). */
export function alertFileName(incident: Incident): string {
  return `alerts-${incident.id.replace(/[^\w.-]/g, '_')}.txt`;
}

/** Every alert, one tab-separated line each (status first), firing first; no line is unbounded. */
export function alertFileContent(incident: Incident): string {
  const entries = Object.entries(incident.alerts);
  const firing = entries.filter(([, a]) => a.status === 'firing');
  const rest = entries.filter(([, a]) => a.status !== 'firing');
  const common = commonLabels(entries.map(([, a]) => a.labels));
  const lines = [
    `# ${oneLine(cut(incident.title, 200))} (${incident.id}): ${count(entries.length)} alerts, ${count(firing.length)} firing`,
    `# common labels: ${oneLine(common.map(([k, v]) => `${cut(k, VALUE_CHARS)}=${cut(v, VALUE_CHARS)}`).join(', ')) || 'none'}`,
    '# status\tseverity\tstarted\tended\ttitle\tlabels\tfingerprint',
  ];
  const commonKeys = new Set(common.map(([k]) => k));
  const all = [...firing, ...rest];
  let chars = 0;
  for (const [i, [fp, a]] of all.entries()) {
    const line = [a.status, a.severity, oneLine(cut(a.startsAt, 40)), oneLine(cut(a.endsAt ?? '-', 40)), oneLine(cut(a.title, 200)), oneLine(labelText(a.labels, commonKeys, 400)), displayKey(fp)].join('\t');
    if (chars + line.length > FILE_CHARS) {
      lines.push(`# … and ${count(all.length - i)} more alerts, left out to keep this file under ${count(FILE_CHARS)} characters`);
      break;
    }
    lines.push(line);
    chars += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** 12000 → "12,000": counts people read. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Label pairs shared by every label set (same value everywhere), alertname first. */
export function commonLabels(sets: readonly Record<string, string>[]): [string, string][] {
  const [first, ...others] = sets;
  if (!first) return [];
  const shared = Object.entries(first).filter(([k, v]) => !k.startsWith('__') && others.every((l) => l[k] === v));
  return shared.sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
}

/** The labels that tell this alert apart (common ones left out), bounded. */
function labelText(labels: Record<string, string>, leaveOut: ReadonlySet<string>, max = LABELS_CHARS): string {
  const text = Object.entries(labels)
    .filter(([k]) => !leaveOut.has(k) && !k.startsWith('__'))
    .map(([k, v]) => `${cut(k, VALUE_CHARS)}=${cut(v, VALUE_CHARS)}`)
    .join(', ');
  return cut(text, max);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
