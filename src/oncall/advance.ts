// What the tick does with people's incident steps and with silence: declared incidents open,
// resolved ones close, a changed source sync re-renders the card, silent ones auto-resolve. Pure:
// incidents and events in, transitions and thread notes out; the tick commits them with the rest.
import type { EventRecord, IncidentStepEvent } from '../core/events.js';
import { botFooter } from '../core/incident-card.js';
import type { Incident, IncidentTransition } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import type { PlannedMessage } from '../core/plan.js';
import { autoResolveAfterMs, autoResolveNote, dueAutoResolves, resolvedNow } from './auto-resolve.js';
import { declaredIncident } from './declare.js';
import type { AutoResolvePolicy } from './sync-settings.js';

/** A fact for the incident's thread, whatever the brain says: who resolved it, or that silence did. */
export interface StepNote {
  incidentId: string;
  /** Unique per incident and occurrence: the same note is never queued twice. */
  key: string;
  text: string;
}

export interface StepRecord {
  eventId: number;
  occurredAt: Date;
  event: IncidentStepEvent;
}

export function stepRecords(records: readonly EventRecord[]): StepRecord[] {
  return records.flatMap((r) => (r.payload.kind === 'incident.step' ? [{ eventId: r.id, occurredAt: r.occurredAt, event: r.payload }] : []));
}

/** Applies declare, resolve and synced steps, in order, to the incidents (by id). */
export function applySteps(byId: Map<string, Incident>, steps: readonly StepRecord[], workspaceId: string): { transitions: IncidentTransition[]; notes: StepNote[] } {
  const transitions: IncidentTransition[] = [];
  const notes: StepNote[] = [];
  for (const { eventId, occurredAt, event } of steps) {
    const incident = byId.get(event.incidentId);
    switch (event.step.type) {
      case 'declare': {
        if (incident) break; // a redelivered declaration
        const created = declaredIncident(workspaceId, event, occurredAt);
        if (!created) break;
        byId.set(created.id, created);
        transitions.push({ kind: 'opened', incidentId: created.id, eventIds: [eventId] });
        break;
      }
      case 'resolve': {
        if (!incident || incident.status === 'resolved') break;
        const resolved = { ...resolvedNow(incident, occurredAt), nudgedAt: incident.nudgedAt };
        byId.set(incident.id, resolved);
        transitions.push({ kind: 'resolved', incidentId: incident.id, eventIds: [eventId] });
        const note = event.step.note.trim();
        notes.push({ incidentId: incident.id, key: `resolved-by:${incident.startedAt.toISOString()}`, text: `Resolved by ${event.by.name}${note ? `: ${note}` : '.'}` });
        break;
      }
      case 'synced': {
        if (!incident) break;
        // The card shows what each source said: a new version, so it is edited.
        byId.set(incident.id, { ...incident, version: incident.version + 1 });
        transitions.push({ kind: 'changed', incidentId: incident.id, eventIds: [eventId] });
        break;
      }
      default: {
        const never: never = event.step;
        throw new Error(`unhandled incident step ${JSON.stringify(never)}`);
      }
    }
  }
  return { transitions, notes };
}

/** Open incidents whose silence ran out (and that nothing else moved this tick) resolve, announced. */
export function applyAutoResolve(byId: Map<string, Incident>, moved: ReadonlySet<string>, policy: AutoResolvePolicy, now: Date): { transitions: IncidentTransition[]; notes: StepNote[] } {
  const transitions: IncidentTransition[] = [];
  const notes: StepNote[] = [];
  const candidates = [...byId.values()].filter((i) => !moved.has(i.id));
  for (const { incident, silentMs } of dueAutoResolves(candidates, policy, now)) {
    byId.set(incident.id, incident);
    transitions.push({ kind: 'resolved', incidentId: incident.id, eventIds: [] });
    const after = autoResolveAfterMs(incident, policy) ?? silentMs;
    notes.push({ incidentId: incident.id, key: `auto-resolved:${incident.startedAt.toISOString()}`, text: autoResolveNote(after) });
  }
  return { transitions, notes };
}

/** The notes as thread posts, for incidents whose card is posted or queued (a thread needs its card). */
export function noteMessages(notes: readonly StepNote[], byId: ReadonlyMap<string, Incident>, cardQueued: ReadonlySet<string>, decisionId: string | null): PlannedMessage[] {
  return notes.flatMap((n): PlannedMessage[] => {
    const incident = byId.get(n.incidentId);
    if (!incident || !(incident.announced || cardQueued.has(incident.id))) return [];
    return [{
      idempotencyKey: boundKey(`incident:${incident.id}:${n.key}`),
      purpose: 'resolution',
      kind: 'post',
      channelId: incident.channelId,
      anchor: { type: 'incident_thread' },
      incidentId: incident.id,
      incidentVersion: incident.version,
      message: { text: n.text, blocks: [{ kind: 'section', text: n.text }, { kind: 'context', text: botFooter(decisionId) }] },
    }];
  });
}
