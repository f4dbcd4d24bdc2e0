// Turns a brain's intents into outbox messages: which message, where, with which idempotency key.
// Keys are derived from the news itself, so the same incident state can never be queued twice.
import type { Intent } from './decisions.js';
import { incidentCard, botFooter } from './incident-card.js';
import { stateSignature, type Incident } from './incidents.js';
import type { OutgoingMessage } from './message.js';

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
  | 'approval' | 'approval_update';

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
 */
export function planMessages(
  intents: readonly Intent[],
  incidents: ReadonlyMap<string, Incident>,
  changed: readonly Incident[],
  decisionId: string | null,
): Plan {
  const messages: PlannedMessage[] = [];
  const announced = new Set<string>();
  const parentQueued = (i: Incident) => i.announced || announced.has(i.id);

  const ensureCard = (incident: Incident) => {
    if (parentQueued(incident)) return;
    messages.push(parentCard(incident, decisionId));
    announced.add(incident.id);
  };
  const post = (incident: Incident, key: string, purpose: MessagePurpose, anchor: Anchor, text: string): PlannedMessage => ({
    idempotencyKey: `incident:${incident.id}:${key}`,
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
    idempotencyKey: key,
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
      case 'post_summary':
        ensureCard(incident);
        messages.push(post(incident, `summary:${stateSignature(incident)}`, incident.status === 'resolved' ? 'resolution' : 'summary', { type: 'incident_thread' }, intent.text));
        break;
      case 'announce_recurrence':
        messages.push(post(incident, `recurred:${incident.recurrences}`, 'recurrence', { type: 'channel' }, intent.text));
        break;
      case 'nudge':
        ensureCard(incident);
        // Once per occurrence: a recurrence starts a new one.
        messages.push(post(incident, `nudge:${incident.startedAt.toISOString()}`, 'nudge', { type: 'incident_thread' }, intent.text));
        break;
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

  for (const incident of changed) {
    if (incident.announced && !announced.has(incident.id) && incident.version > incident.cardVersion) {
      messages.push(cardUpdate(incident, decisionId));
    }
  }
  return { messages, announced: [...announced] };
}

export function parentCard(incident: Incident, decisionId: string | null): PlannedMessage {
  return {
    idempotencyKey: `incident:${incident.id}:parent`,
    purpose: 'card',
    kind: 'post',
    channelId: incident.channelId,
    anchor: { type: 'incident_parent' },
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: incidentCard(incident, decisionId),
  };
}

export function cardUpdate(incident: Incident, decisionId: string | null): PlannedMessage {
  return {
    idempotencyKey: `incident:${incident.id}:card:v${incident.version}`,
    purpose: 'card_update',
    kind: 'update',
    channelId: incident.channelId,
    anchor: { type: 'incident_parent' },
    incidentId: incident.id,
    incidentVersion: incident.version,
    message: incidentCard(incident, decisionId),
  };
}

/** A short, stable digest of file content, so the same file is uploaded once and a changed one again. */
function contentKey(content: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) h = Math.imul(h ^ content.charCodeAt(i), 0x01000193) >>> 0;
  return `${content.length}-${h.toString(16)}`;
}

function withFooter(text: string, decisionId: string | null): OutgoingMessage {
  return { text, blocks: [{ kind: 'section', text }, { kind: 'context', text: botFooter(decisionId) }] };
}
