// Incident grouping: alerts with the same group key form one incident whose state follows its alerts
// (firing → acknowledged → resolved → firing again as a recurrence). Pure: values in, values out.
import type { AlertEvent } from './events.js';
import { boundKey } from './keys.js';
import { maxSeverity, type Severity } from './severity.js';
import type { SourceSync } from './source-sync.js';

export type IncidentStatus = 'firing' | 'acknowledged' | 'resolved';

export interface AlertState {
  status: 'firing' | 'resolved';
  title: string;
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
  links: { label: string; url: string }[];
  /** Which kind of sender it came from (absent on alerts stored before it was kept): where an acknowledge is carried. */
  source?: AlertEvent['source'];
}

export interface Incident {
  id: string;
  workspaceId: string;
  channelId: string;
  /** Bounded (see core/keys.ts): a long key is stored as its hash, with the original in `groupLabel`. */
  groupKey: string;
  /** The original group key when `groupKey` is its hash; null (or absent) when they are the same. */
  groupLabel?: string | null;
  /** `storm`: stands for several incidents that opened together (core/storms.ts); absent means `alert`. */
  kind?: 'alert' | 'storm' | 'declared';
  /** For a member of a storm: the storm's id. Its news is told on the storm's card. */
  stormId?: string | null;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  alerts: Record<string, AlertState>;
  startedAt: Date;
  resolvedAt: Date | null;
  recurrences: number;
  version: number;
  /** The version the delivered parent card shows (0 before it is posted). */
  cardVersion: number;
  /** The parent card is queued or delivered. */
  announced: boolean;
  acknowledgedBy: string | null;
  /** Resolves and re-fires too often to announce each cycle; the card says so instead. */
  flapping: boolean;
  /** When recent recurrences started (ISO), newest last, within the flapping window. */
  cycleTimes: string[];
  /** Repository changes shortly before the incident started. */
  suspects: Suspect[];
  /** When Tacit last reminded people that this incident is unacknowledged. */
  nudgedAt: Date | null;
  /** When the parent card was queued; reminders count from here (an old alert is not news to nag about). */
  announcedAt?: Date | null;
  /** When Tacit first saw this incident (its row was created); absent for one created by this tick. */
  firstSeenAt?: Date;
  /** Escalation steps taken in the occurrence that started at `startedAt` (core/escalation.ts); absent means 0. */
  escalationLevel?: number;
  /** When the last escalation step was taken; a step before `startedAt` belongs to an earlier occurrence. */
  escalatedAt?: Date | null;
  /**
   * Alerts the latest delivery of this group announced (its `groupSize`) that the incident does not
   * hold yet: a big group is still being read, over several ticks. Set by `applyAlerts`, never stored.
   */
  awaitingAlerts?: number;
  /** Alerts new to the incident in this `applyAlerts` call (its list grew). Never stored. */
  addedAlerts?: number;
  /** For an incident declared by hand (`/tacit incident declare`): who declared it. */
  declaredBy?: string | null;
  /** When alert news last advanced it; auto-resolve (src/oncall) counts silence from here. */
  lastAlertAt?: Date | null;
  /** Acknowledge/resolve carried to its sources (src/oncall/sync.ts writes it; the tick only reads it). */
  sourceSync?: SourceSync;
}

export interface Suspect {
  repo: string;
  change: string;
  title: string;
  url: string | null;
  at: string;
  /** The commit (or deployed sha), for looking at its diff (src/investigate); absent on suspects stored before. */
  sha?: string | null;
}

/** A firing counts toward flapping when it starts within `windowMs` of the re-fire being judged. */
export interface FlapPolicy {
  windowMs: number;
  /**
   * Firings inside the window (the previous occurrence's start included) that make an incident
   * flapping: with 2, the first re-fire within the window after a resolve is already flapping.
   */
  recurrences: number;
}

export const defaultFlapPolicy: FlapPolicy = { windowMs: 30 * 60_000, recurrences: 2 };

export type TransitionKind = 'opened' | 'changed' | 'resolved' | 'recurred' | 'flapping' | 'unacknowledged';

export interface IncidentTransition {
  kind: TransitionKind;
  incidentId: string;
  /** Triggering event ids, for the decision record. */
  eventIds: number[];
}

export interface GroupingResult {
  /** Every incident created or changed, in its new state. */
  changed: Map<string, Incident>;
  transitions: IncidentTransition[];
}

export interface AlertInput {
  eventId: number;
  alert: AlertEvent;
}

/** The group key as written by the sender, scoped by source; unbounded. */
/** What every incident starts with, however it opened (an alert, a storm, a declaration). */
export function freshIncidentState(): Pick<Incident, 'recurrences' | 'version' | 'cardVersion' | 'announced' | 'acknowledgedBy' | 'flapping' | 'cycleTimes' | 'suspects' | 'nudgedAt'> {
  return { recurrences: 0, version: 1, cardVersion: 0, announced: false, acknowledgedBy: null, flapping: false, cycleTimes: [], suspects: [], nudgedAt: null };
}

export function incidentGroupLabel(alert: AlertEvent): string {
  return `${alert.sourceId}|${alert.groupKey}`;
}

/** The key incidents are grouped (and uniquely indexed) by: bounded, so any sender's groupKey fits the index. */
export function incidentGroupKey(alert: AlertEvent): string {
  return boundKey(incidentGroupLabel(alert));
}

/**
 * Alert maps created by one `applyAlerts` call may be written in place: an incident of 12,000 alerts
 * is copied once per call, not once per alert. Maps from `known` are never written.
 */
interface Scratch {
  owned: WeakMap<Record<string, AlertState>, { firing: number }>;
}

function withAlert(scratch: Scratch, alerts: Record<string, AlertState>, fingerprint: string, state: AlertState): Record<string, AlertState> {
  let own = scratch.owned.get(alerts);
  let map = alerts;
  if (!own) {
    map = { ...alerts };
    own = { firing: Object.values(map).filter((a) => a.status === 'firing').length };
    scratch.owned.set(map, own);
  }
  if (map[fingerprint]?.status === 'firing') own.firing -= 1;
  map[fingerprint] = state;
  if (state.status === 'firing') own.firing += 1;
  return map;
}

function firingCount(scratch: Scratch, alerts: Record<string, AlertState>): number {
  return scratch.owned.get(alerts)?.firing ?? Object.values(alerts).filter((a) => a.status === 'firing').length;
}

/**
 * Applies alert events, in order, to the known incidents (keyed by group key). Duplicates and
 * stale deliveries (an older occurrence, or "firing" after the same occurrence resolved) change
 * nothing. A group whose first news is "resolved" is recorded quietly, so a late "firing" for the
 * same occurrence cannot open it.
 */
export function applyAlerts(
  workspaceId: string,
  known: ReadonlyMap<string, Incident>,
  inputs: readonly AlertInput[],
  newId: () => string,
  flap: FlapPolicy = defaultFlapPolicy,
): GroupingResult {
  const changed = new Map<string, Incident>();
  const transitions = new Map<string, IncidentTransition>();
  const current = (key: string) => changed.get(key) ?? known.get(key);
  const scratch: Scratch = { owned: new WeakMap() };
  const announcedSize = new Map<string, number>();

  for (const { eventId, alert } of inputs) {
    const key = incidentGroupKey(alert);
    if (alert.groupSize !== undefined) announcedSize.set(key, alert.groupSize);
    const before = current(key);
    const next = applyOne(scratch, workspaceId, before, alert, key, newId, flap);
    if (!next) continue;
    changed.set(key, next.incident);
    if (next.transition) {
      const prev = transitions.get(next.incident.id);
      transitions.set(next.incident.id, {
        kind: mergeTransition(prev?.kind, next.transition),
        incidentId: next.incident.id,
        eventIds: [...(prev?.eventIds ?? []), eventId],
      });
    }
  }
  // Title and severity follow the alerts: worked out once per incident, not once per alert.
  for (const [key, incident] of changed) {
    const size = announcedSize.get(key);
    const total = Object.keys(incident.alerts).length;
    const awaitingAlerts = size === undefined ? 0 : Math.max(0, size - total);
    const addedAlerts = total - Object.keys(known.get(key)?.alerts ?? {}).length;
    changed.set(key, { ...summarise(incident), awaitingAlerts, addedAlerts });
  }
  return { changed, transitions: [...transitions.values()] };
}

function applyOne(
  scratch: Scratch,
  workspaceId: string,
  before: Incident | undefined,
  alert: AlertEvent,
  key: string,
  newId: () => string,
  flap: FlapPolicy,
): { incident: Incident; transition?: TransitionKind } | undefined {
  // The sender's own acknowledgement (PagerDuty) keeps the alert firing and marks the incident.
  const acknowledged = alert.status === 'acknowledged';
  const state: AlertState = {
    status: alert.status === 'resolved' ? 'resolved' : 'firing',
    title: alert.title,
    severity: alert.severity,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    links: alert.links,
    source: alert.source,
  };
  const ackBy = alert.actor ?? alert.source;
  if (!before) {
    const firing = state.status === 'firing';
    const label = incidentGroupLabel(alert);
    const incident: Incident = {
      id: newId(),
      workspaceId,
      channelId: alert.channelId,
      groupKey: key,
      groupLabel: label === key ? null : label,
      status: !firing ? 'resolved' : acknowledged ? 'acknowledged' : 'firing',
      severity: alert.severity,
      title: alert.title,
      alerts: withAlert(scratch, {}, alert.fingerprint, state),
      startedAt: new Date(alert.startsAt),
      resolvedAt: firing ? null : new Date(alert.endsAt ?? alert.startsAt),
      ...freshIncidentState(),
      acknowledgedBy: acknowledged ? ackBy : null,
    };
    return { incident, transition: firing ? 'opened' : undefined };
  }

  const previous = before.alerts[alert.fingerprint];
  if (acknowledged && before.status === 'firing' && !(previous && isStale(previous, state))) {
    const alerts = withAlert(scratch, before.alerts, alert.fingerprint, state);
    const incident: Incident = { ...before, alerts, status: 'acknowledged', acknowledgedBy: ackBy, version: before.version + 1 };
    return { incident, transition: 'changed' };
  }
  if (previous && isStale(previous, state)) return undefined;
  if (previous && sameState(previous, state)) return undefined;

  const alerts = withAlert(scratch, before.alerts, alert.fingerprint, state);
  const anyFiring = firingCount(scratch, alerts) > 0;
  let status: IncidentStatus = before.status;
  let transition: TransitionKind = 'changed';
  let { resolvedAt, recurrences, startedAt, flapping, cycleTimes, acknowledgedBy } = before;

  if (before.status === 'resolved' && anyFiring) {
    status = acknowledged ? 'acknowledged' : 'firing';
    acknowledgedBy = acknowledged ? ackBy : null;
    recurrences += 1;
    resolvedAt = null;
    startedAt = new Date(alert.startsAt);
    const since = startedAt.getTime() - flap.windowMs;
    cycleTimes = [...cycleTimes.filter((t) => Date.parse(t) >= since), alert.startsAt];
    const wasFlapping = flapping;
    // The occurrence that just resolved counts too: a re-fire soon after a resolve is flapping at once,
    // before a second resolution note has gone out.
    const previousInWindow = before.startedAt.getTime() >= since && !cycleTimes.some((t) => Date.parse(t) === before.startedAt.getTime()) ? 1 : 0;
    flapping = cycleTimes.length + previousInWindow >= flap.recurrences;
    // A flapping incident's cycles update its card; only becoming flapping is news.
    transition = flapping ? (wasFlapping ? 'changed' : 'flapping') : 'recurred';
  } else if (before.status !== 'resolved' && !anyFiring) {
    status = 'resolved';
    transition = flapping ? 'changed' : 'resolved';
    resolvedAt = new Date(alert.endsAt ?? alert.startsAt);
  } else if (before.status === 'resolved') {
    // More resolved news about an incident that is already over: keep the record, say nothing.
    return { incident: { ...before, alerts } };
  }
  const incident: Incident = {
    ...before, alerts, status, resolvedAt, recurrences, startedAt, acknowledgedBy, flapping, cycleTimes, version: before.version + 1,
  };
  return { incident, transition };
}

/**
 * Acknowledgements: a firing incident becomes acknowledged (its card shows by whom). Anything else
 * (already acknowledged, resolved, unknown) changes nothing.
 */
export function applyAcks(
  incidents: Map<string, Incident>,
  acks: readonly { eventId: number; incidentId: string; by: string }[],
): IncidentTransition[] {
  const transitions: IncidentTransition[] = [];
  for (const ack of acks) {
    const incident = incidents.get(ack.incidentId);
    if (!incident || incident.status !== 'firing') continue;
    incidents.set(incident.id, { ...incident, status: 'acknowledged', acknowledgedBy: ack.by, version: incident.version + 1 });
    transitions.push({ kind: 'changed', incidentId: incident.id, eventIds: [ack.eventId] });
  }
  return transitions;
}

/** Older occurrence, or "firing" for an occurrence already known to be resolved. */
function isStale(previous: AlertState, incoming: AlertState): boolean {
  const prevStart = Date.parse(previous.startsAt);
  const nextStart = Date.parse(incoming.startsAt);
  if (nextStart < prevStart) return true;
  return nextStart === prevStart && previous.status === 'resolved' && incoming.status === 'firing';
}

function sameState(a: AlertState, b: AlertState): boolean {
  return a.status === b.status && a.startsAt === b.startsAt && a.severity === b.severity;
}

function summarise(incident: Incident): Incident {
  const states = Object.values(incident.alerts);
  const firing = states.filter((a) => a.status === 'firing');
  const relevant = firing.length > 0 ? firing : states;
  return {
    ...incident,
    severity: maxSeverity(relevant.map((a) => a.severity)),
    title: relevant[0]?.title ?? incident.title,
  };
}

/** Several events about one incident in one tick collapse into the transition that matters most. */
function mergeTransition(prev: TransitionKind | undefined, next: TransitionKind): TransitionKind {
  if (!prev) return next;
  if (prev === 'flapping' || next === 'flapping') return 'flapping';
  if (prev === 'opened') return next === 'resolved' ? 'resolved' : 'opened';
  if (next === 'changed') return prev;
  return next;
}

export function firingAlerts(incident: Incident): [string, AlertState][] {
  return Object.entries(incident.alerts).filter(([, a]) => a.status === 'firing');
}

/** A normalised signature of what people were told: the same signature is never posted twice. */
export function stateSignature(incident: Incident): string {
  const firing = firingAlerts(incident).map(([fp]) => fp).sort();
  return `${incident.status}|${incident.recurrences}|${firing.join(',')}`;
}

function nudgeBase(i: Incident): number {
  return Math.max(i.startedAt.getTime(), i.announcedAt?.getTime() ?? 0);
}

/** A firing, announced incident nobody acknowledged, not yet reminded about in this occurrence. */
function awaitingNudge(i: Incident): boolean {
  return i.status === 'firing' && i.announced && (i.nudgedAt === null || i.nudgedAt < i.startedAt);
}

/**
 * Time-based news: incidents firing unacknowledged for longer than `afterMs`. The tick records the
 * reminder (nudgedAt), so each occurrence is raised once.
 */
export function dueTransitions(incidents: Iterable<Incident>, afterMs: number, now: Date): IncidentTransition[] {
  const out: IncidentTransition[] = [];
  for (const i of incidents) {
    if (awaitingNudge(i) && now.getTime() >= nudgeBase(i) + afterMs) out.push({ kind: 'unacknowledged', incidentId: i.id, eventIds: [] });
  }
  return out;
}

/** When the next unacknowledged reminder falls due, if any. */
export function nextNudgeAt(incidents: Iterable<Incident>, afterMs: number, now: Date): Date | null {
  let next: number | null = null;
  for (const i of incidents) {
    if (!awaitingNudge(i)) continue;
    const at = Math.max(now.getTime(), nudgeBase(i) + afterMs);
    next = next === null ? at : Math.min(next, at);
  }
  return next === null ? null : new Date(next);
}
