// The incident's parent card: one message per incident, edited in place as its state changes.
import type { Incident } from './incidents.js';
import { firingAlerts } from './incidents.js';
import type { Block, OutgoingMessage } from './message.js';

const statusLabel: Record<Incident['status'], string> = {
  firing: 'Firing',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};
const statusTone = { firing: 'danger', acknowledged: 'warning', resolved: 'success' } as const;

export const ACK_ACTION_ID = 'incident.acknowledge';

export function incidentCard(incident: Incident, decisionId: string | null): OutgoingMessage {
  const firing = firingAlerts(incident).length;
  const total = Object.keys(incident.alerts).length;
  const status = statusLabel[incident.status];
  const fields = [
    { label: 'Status', value: incident.acknowledgedBy && incident.status === 'acknowledged' ? `${status} by ${incident.acknowledgedBy}` : status },
    { label: 'Severity', value: incident.severity },
    { label: 'Started', value: incident.startedAt.toISOString() },
    { label: 'Alerts firing', value: `${firing} of ${total}` },
  ];
  if (incident.resolvedAt && incident.status === 'resolved') fields.push({ label: 'Resolved', value: incident.resolvedAt.toISOString() });
  if (incident.recurrences > 0) fields.push({ label: 'Recurrences', value: String(incident.recurrences) });
  if (incident.flapping) fields.push({ label: 'Flapping', value: `yes — ${incident.cycleTimes.length + 1} firings recently` });
  const blocks: Block[] = [
    { kind: 'header', text: `${status}: ${incident.title}`, tone: statusTone[incident.status] },
    { kind: 'fields', fields },
  ];
  if (incident.status === 'firing') {
    blocks.push({ kind: 'actions', buttons: [{ actionId: ACK_ACTION_ID, value: incident.id, label: 'Acknowledge', style: 'primary' }] });
  }
  blocks.push({ kind: 'context', text: botFooter(decisionId) });
  return { text: `${status}: ${incident.title} (${incident.severity})`, blocks };
}

/** Every proactive message says it comes from a bot and which decision produced it. */
export function botFooter(decisionId: string | null): string {
  return decisionId ? `Tacit (bot) · decision ${decisionId}` : 'Tacit (bot)';
}
