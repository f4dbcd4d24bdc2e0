// Turns a brain's intents into outbox messages: which message, where, with which idempotency key.
// Keys are derived from the news itself, so the same incident state can never be queued twice.
import { alertFileContent, alertFileName, count, needsAlertFile } from './alert-list.js';
import type { Intent } from './decisions.js';
import type { TimeContext } from './human-time.js';
import { incidentCard, botFooter } from './incident-card.js';
import { stateSignature, type Incident, type IncidentTransition } from './incidents.js';
import { boundKey } from './keys.js';
import { feedbackButtons } from './feedback.js';
import type { Block, OutgoingMessage } from './message.js';

export type Anchor =
  | { type: 'channel' }
  /** For a post: this message is the incident's parent card. For an update: edit that card. */
  | { type: 'incident_parent' }
  | { type: 'incident_thread' }
  | { type: 'thread'; threadId: string }
  /** A direct message to one person; `channelId` stays the channel it is about (for policy). */
  | { type: 'dm'; personId: string }
  /** An approval's card: rendered from the approval when delivered; in the incident's thread when it has one. */
  | { type: 'approval_card'; approvalId: string; incidentId?: string };

/** Why a message exists; the policy treats openings, resolutions and card edits differently. */
export type MessagePurpose =
  | 'card' | 'card_update' | 'summary' | 'resolution' | 'recurrence' | 'nudge' | 'notice' | 'digest' | 'reply' | 'file' | 'push'
  /** What an investigation found (src/investigate), once per investigation, in the incident's thread. */
  | 'findings'
  /** The full alert list of an incident too big for its card, as a file in its thread. */
  | 'alert_list'
  | 'approval' | 'approval_update'
  /** An escalation step's direct message to the on-call (src/oncall/escalation.ts). */
  | 'escalation'
  /** The timeline and post-incident draft, as files in the thread once the incident resolved (src/oncall/report.ts). */
  | 'report';

export interface PlannedMessage {
  idempotencyKey: string;
  purpose: MessagePurpose;
  kind: 'post' | 'update';
  channelId: string;
  anchor: Anchor;
  incidentId: string | null;
  incidentVersion: number | null;
  message: OutgoingMessage;
}

export interface Plan {
  messages: PlannedMessage[];
  /** Incidents whose parent card this plan queues. */
  announced: string[];
}

/**
 * @param changed incidents created or changed by this tick (their cards may need an edit)
 * @param time the tick's clock and the workspace's zone, for the times cards show; no key depends on it
 * @param transitions this tick's incident transitions: an announced card returning to Firing gets a
 *   channel notice whatever the brain said (the card's edit alone goes unseen once it scrolled away)
 */
export function planMessages(
  intents: readonly Intent[],
  incidents: ReadonlyMap<string, Incident>,
  changed: readonly Incident[],
  decisionId: string | null,
  time?: TimeContext,
  transitions: readonly IncidentTransition[] = [],
): Plan {
  const messages: PlannedMessage[] = [];
  const announced = new Set<string>();
  const parentQueued = (i: Incident) => i.announced || announced.has(i.id);

  const ensureCard = (incident: Incident) => {
    if (parentQueued(incident)) return;
    messages.push(parentCard(incident, decisionId, time));
    announced.add(incident.id);
  };
  // Keys embed state signatures (every firing fingerprint): bounded so any of them fits the unique index.
  const post = (incident: Incident, key: string, purpose: MessagePurpose, anchor: Anchor, text: string): PlannedMessage => ({
    idempotencyKey: boundKey(`incident:${incident.id}:${key}`),
    purpose,
    kind: 'post',
    channelId: incident.channelId,
    anchor,
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: withFooter(text, decisionId),
  });

  /** A top-level channel post that belongs to no incident (notices, digests). */
  const channelPost = (key: string, purpose: MessagePurpose, channelId: string, text: string): PlannedMessage => ({
    idempotencyKey: boundKey(key),
    purpose,
    kind: 'post',
    channelId,
    anchor: { type: 'channel' },
    incidentId: null,
    incidentVersion: null,
    message: withFooter(text, decisionId),
  });

  for (const intent of intents) {
    if (intent.type === 'notice') {
      messages.push(channelPost(`notice:${intent.key}`, 'notice', intent.channelId, intent.text));
      continue;
    }
    if (intent.type === 'digest') {
      messages.push(channelPost(`digest:${intent.date}`, 'digest', intent.channelId, intent.text));
      continue;
    }
    // Not messages: approvals and staged memories are written by the tick itself.
    if (intent.type === 'propose_action' || intent.type === 'remember') continue;
    const incident = incidents.get(intent.incidentId);
    if (!incident) continue;
    switch (intent.type) {
      case 'post_summary': {
        ensureCard(incident);
        const summary = post(incident, `summary:${stateSignature(incident)}`, incident.status === 'resolved' ? 'resolution' : 'summary', { type: 'incident_thread' }, intent.text);
        messages.push({ ...summary, message: summaryMessage(intent.text, decisionId) });
        break;
      }
      case 'announce_recurrence':
        messages.push(post(incident, `recurred:${incident.recurrences}`, 'recurrence', { type: 'channel' }, intent.text));
        break;
      case 'nudge':
        ensureCard(incident);
        // Once per occurrence: a recurrence starts a new one.
        messages.push(post(incident, `nudge:${incident.startedAt.toISOString()}`, 'nudge', { type: 'incident_thread' }, intent.text));
        break;
      case 'post_findings': {
        ensureCard(incident);
        // Once per investigation, with its chart: the picture is what people look at first.
        const found = post(incident, `findings:${intent.investigationId}`, 'findings', { type: 'incident_thread' }, intent.text);
        messages.push(intent.chart ? { ...found, message: { ...found.message, file: { filename: intent.chart.filename, content: intent.chart.base64, encoding: 'base64', contentType: 'image/png' } } } : found);
        break;
      }
      case 'attach_file': {
        ensureCard(incident);
        const file = post(incident, `file:${intent.filename}:${contentKey(intent.content)}`, 'file', { type: 'incident_thread' }, `📎 ${intent.filename}`);
        messages.push({ ...file, message: { ...file.message, file: { filename: intent.filename, content: intent.content } } });
        break;
      }
      case 'notify_person': {
        // Once per person and incident state: the same news never pings twice.
        const dm = post(incident, `dm:${intent.personId}:${stateSignature(incident)}`, 'push', { type: 'dm', personId: intent.personId }, intent.text);
        messages.push({ ...dm, message: { ...dm.message, notify: intent.personId } });
        break;
      }
      default: {
        const never: never = intent;
        throw new Error(`unhandled intent ${JSON.stringify(never)}`);
      }
    }
  }

  for (const t of transitions) {
    const incident = incidents.get(t.incidentId);
    if (!incident || !incident.announced || (t.kind !== 'recurred' && t.kind !== 'flapping')) continue;
    const key = boundKey(`incident:${incident.id}:recurred:${incident.recurrences}`);
    if (messages.some((m) => m.idempotencyKey === key)) continue; // the brain announced it already
    messages.push(post(incident, `recurred:${incident.recurrences}`, 'recurrence', { type: 'channel' }, returnNotice(incident)));
  }

  for (const incident of changed) {
    if (incident.announced && !announced.has(incident.id) && incident.version > incident.cardVersion) {
      messages.push(cardUpdate(incident, decisionId, time));
    }
    // A card shows a few alerts; the whole list goes in its thread once the group has been read, with
    // the card, or when the list grew (not on every status change of a 12,000-alert incident).
    const listChanged = announced.has(incident.id) || (incident.addedAlerts ?? 0) > 0;
    if (parentQueued(incident) && needsAlertFile(incident) && listChanged && !((incident.awaitingAlerts ?? 0) > 0)) {
      messages.push(alertList(incident, decisionId));
    }
  }
  return { messages, announced: [...announced] };
}

/**
 * The file of all alerts: once per occurrence, and again each time the group doubles, so a growing
 * group is listed again without a file per tick (the key makes each one impossible to queue twice).
 */
export function alertList(incident: Incident, decisionId: string | null, settled = false): PlannedMessage {
  const total = Object.keys(incident.alerts).length;
  const size = Math.floor(Math.log2(total));
  const text = `All ${count(total)} alerts of this incident are in the attached file.`;
  return {
    // A storm's list goes with its card and again once it stopped growing (core/storms settledStorms),
    // keyed by its exact size so the same list is never posted twice.
    idempotencyKey: `incident:${incident.id}:alerts:${incident.startedAt.toISOString()}:${settled || incident.kind === 'storm' ? `all-${total}` : size}`,
    purpose: 'alert_list',
    kind: 'post',
    channelId: incident.channelId,
    anchor: { type: 'incident_thread' },
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: { ...withFooter(text, decisionId), file: { filename: alertFileName(incident), content: alertFileContent(incident) } },
  };
}

export function parentCard(incident: Incident, decisionId: string | null, time?: TimeContext): PlannedMessage {
  return {
    idempotencyKey: `incident:${incident.id}:parent`,
    purpose: 'card',
    kind: 'post',
    channelId: incident.channelId,
    anchor: { type: 'incident_parent' },
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: incidentCard(incident, decisionId, time),
  };
}

export function cardUpdate(incident: Incident, decisionId: string | null, time?: TimeContext): PlannedMessage {
  return {
    idempotencyKey: `incident:${incident.id}:card:v${incident.version}`,
    purpose: 'card_update',
    kind: 'update',
    channelId: incident.channelId,
    anchor: { type: 'incident_parent' },
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: incidentCard(incident, decisionId, time),
  };
}

/** The channel's signal that a card is back to Firing (or flapping), with only facts from the incident. */
export function returnNotice(incident: Incident): string {
  if (incident.flapping) {
    return `*${incident.title}* fired again (${incident.severity}) and is flapping: ${incident.cycleTimes.length + 1} firings recently. I will keep its card up to date and stay quiet about each cycle until it settles.`;
  }
  const times = incident.recurrences === 1 ? 'once before' : `${incident.recurrences} times before`;
  return `*${incident.title}* is firing again (${incident.severity}); it had resolved ${times}. Its card is back to Firing; details continue in its thread.`;
}

/** A short, stable digest of file content, so the same file is uploaded once and a changed one again. */
function contentKey(content: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) h = Math.imul(h ^ content.charCodeAt(i), 0x01000193) >>> 0;
  return `${content.length}-${h.toString(16)}`;
}

/** A summary: the brain's Markdown, the bot footer, and "was this helpful?" when a decision stands behind it. */
export function summaryMessage(text: string, decisionId: string | null): OutgoingMessage {
  const blocks: Block[] = [{ kind: 'section', text, markdown: true }, { kind: 'context', text: botFooter(decisionId) }];
  return { text, blocks: decisionId ? [...blocks, feedbackButtons(decisionId)] : blocks };
}

function withFooter(text: string, decisionId: string | null): OutgoingMessage {
  return { text, blocks: [{ kind: 'section', text }, { kind: 'context', text: botFooter(decisionId) }] };
}
