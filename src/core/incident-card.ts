// The incident's parent card: one message per incident, edited in place as its state changes.
// Bounded whatever the incident holds: a few of its alerts and "and N more" (the full list is a file
// in its thread), titles cut, so it stays inside Slack's and Discord's limits.
import { alertOverview, count, type AlertOverview } from './alert-list.js';
import { humanTime, type TimeContext } from './human-time.js';
import type { Incident } from './incidents.js';
import { firingAlerts } from './incidents.js';
import { displayKey } from './keys.js';
import type { Block, OutgoingMessage } from './message.js';
import { syncSummary } from './source-sync.js';

const statusLabel: Record<Incident['status'], string> = {
  firing: 'Firing',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};
const statusTone = { firing: 'danger', acknowledged: 'warning', resolved: 'success' } as const;

export const ACK_ACTION_ID = 'incident.acknowledge';
/** Resolves the incident through Tacit (and where it lives: src/oncall). */
export const RESOLVE_ACTION_ID = 'incident.resolve';

/** Title characters on a card (Slack cuts headers at 150 anyway; Discord would not). */
const TITLE_CHARS = 150;
/** The alert list's share of the card (common labels, six lines, "and N more" fit), so with the rest it stays well under Discord's 2,000 characters. */
const LIST_CHARS = 1_100;
const LINE_CHARS = 130;
const COMMON_CHARS = 200;

/**
 * @param time when the card is rendered, in the workspace's zone: "07:32 UTC (12 min ago)". Only the
 * text changes with it; the card's outbox key is its incident version, so a later render is no new post.
 */
export function incidentCard(incident: Incident, decisionId: string | null, time?: TimeContext): OutgoingMessage {
  const firing = firingAlerts(incident).length;
  const total = Object.keys(incident.alerts).length;
  const status = statusLabel[incident.status];
  const fields = [
    { label: 'Status', value: incident.acknowledgedBy && incident.status === 'acknowledged' ? `${status} by ${cut(incident.acknowledgedBy, 80)}` : status },
    { label: 'Severity', value: incident.severity },
    { label: 'Started', value: humanTime(incident.startedAt, time) },
    incident.kind === 'declared'
      ? { label: 'Declared by', value: cut(incident.declaredBy ?? 'someone', 80) }
      : { label: 'Alerts firing', value: `${count(firing)} of ${count(total)}` },
  ];
  if (incident.resolvedAt && incident.status === 'resolved') fields.push({ label: 'Resolved', value: humanTime(incident.resolvedAt, time) });
  if (incident.recurrences > 0) fields.push({ label: 'Recurrences', value: String(incident.recurrences) });
  if (incident.flapping) fields.push({ label: 'Flapping', value: `yes — ${incident.cycleTimes.length + 1} firings recently; no resolution notes until it settles` });
  const title = cut(incident.title, TITLE_CHARS);
  const blocks: Block[] = [
    { kind: 'header', text: `${status}: ${title}`, tone: statusTone[incident.status] },
    { kind: 'fields', fields },
  ];
  if (total > 1) blocks.push({ kind: 'section', text: alertList(alertOverview(incident), incident.title, incident.awaitingAlerts ?? 0) });
  // Who acknowledged or resolved it, and whether each source took it (failures too).
  const sync = syncSummary(incident.sourceSync, incident.startedAt.toISOString());
  if (sync) blocks.push({ kind: 'section', text: cut(sync, LIST_CHARS) });
  if (incident.status !== 'resolved') {
    blocks.push({ kind: 'actions', buttons: [
      ...(incident.status === 'firing' ? [{ actionId: ACK_ACTION_ID, value: incident.id, label: 'Acknowledge', style: 'primary' as const }] : []),
      { actionId: RESOLVE_ACTION_ID, value: incident.id, label: 'Resolve' },
    ] });
  }
  blocks.push({ kind: 'context', text: botFooter(decisionId) });
  return { text: `${status}: ${title} (${incident.severity})`, blocks };
}

/** A few alerts, what they share, and how many more there are. */
function alertList(o: AlertOverview, incidentTitle: string, awaiting: number): string {
  const lines: string[] = [];
  if (o.common.length > 0) lines.push(cut(`Common labels: ${o.common.map(([k, v]) => `${k}=${v}`).join(', ')}`, COMMON_CHARS));
  for (const e of o.examples) {
    const parts: string[] = [e.alert.status];
    if (e.alert.title !== incidentTitle) parts.push(e.alert.title);
    parts.push(e.labels || displayKey(e.fingerprint));
    lines.push(cut(`• ${parts.join(' · ').replace(/\s+/g, ' ')}`, LINE_CHARS));
  }
  if (awaiting > 0) lines.push(`…and ${count(o.more)} more so far (${count(o.total + awaiting)} in the group, still being read)`);
  else if (o.more > 0) lines.push(`…and ${count(o.more)} more (the full list is a file in the thread)`);
  return cut(lines.join('\n'), LIST_CHARS);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every proactive message says it comes from a bot and which decision produced it. */
export function botFooter(decisionId: string | null): string {
  return decisionId ? `Tacit (bot) · decision ${decisionId}` : 'Tacit (bot)';
}
