// Alert storms: many incidents opening together in one workspace (one database down, thirty services
// alerting) become one storm incident with one card listing its members, edited as members join and
// resolve, instead of thirty cards and then a spent budget. Pure: values in, values out.
import { freshIncidentState, type AlertState, type Incident, type IncidentStatus, type IncidentTransition } from './incidents.js';
import { maxSeverity } from './severity.js';

export interface StormPolicy {
  /** Incidents whose starts fall within this window of each other count as opening together. */
  windowMs: number;
  /** How many opening together make a storm. */
  threshold: number;
  /**
   * While a burst is forming (two or more opening together, below the threshold), how long a new
   * incident's card waits after Tacit first saw it, so a storm still arriving is one card, not a card
   * per member and then a storm card. A lone incident never waits. Absent means the default.
   */
  burstWaitMs?: number;
}

export const defaultStormPolicy: StormPolicy = { windowMs: 60_000, threshold: 5, burstWaitMs: 10_000 };

const isStorm = (i: Incident) => i.kind === 'storm';
const open = (i: Incident) => i.status !== 'resolved';

/**
 * Forms or grows storms from this tick's openings, and folds members' news into their storm: members'
 * transitions become one transition of the storm (opened, changed or resolved). Returns the new
 * transitions and every incident it created or changed (members gain `stormId`).
 */
export function formStorms(
  byId: Map<string, Incident>,
  transitions: readonly IncidentTransition[],
  policy: StormPolicy,
  newId: () => string,
): { transitions: IncidentTransition[]; changed: Incident[] } {
  const changed = new Map<string, Incident>();
  const set = (i: Incident) => {
    byId.set(i.id, i);
    changed.set(i.id, i);
  };
  const opened = transitions.filter((t) => t.kind === 'opened').flatMap((t) => byId.get(t.incidentId) ?? []).filter((i) => !isStorm(i) && !i.stormId && !i.announced);
  let storm = [...byId.values()].filter((i) => isStorm(i) && open(i)).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  let created = false;

  if (opened.length > 0) {
    const latest = Math.max(...opened.map((i) => i.startedAt.getTime()));
    const together = (i: Incident) => latest - i.startedAt.getTime() <= policy.windowMs;
    if (storm && together({ ...storm, startedAt: new Date(lastJoin(storm)) })) {
      for (const m of opened) set({ ...m, stormId: storm.id });
    } else {
      // Openings of this tick and open incidents that started just before them (a card already posted
      // for the first of them stays; its news is told on the storm's card from now on).
      const group = [...byId.values()].filter((i) => !isStorm(i) && !i.stormId && open(i) && together(i));
      if (group.length >= policy.threshold) {
        const first = group.reduce((a, b) => (a.startedAt <= b.startedAt ? a : b));
        const id = newId();
        storm = {
          ...first, ...freshIncidentState(), id, kind: 'storm', stormId: null, groupKey: `storm:${id}`, groupLabel: null, alerts: {},
          version: 0, announcedAt: null, resolvedAt: null, status: 'firing',
        };
        created = true;
        for (const m of group) set({ ...m, stormId: id });
      }
    }
  }

  const memberNews = new Map<string, IncidentTransition[]>();
  const kept: IncidentTransition[] = [];
  for (const t of transitions) {
    const member = byId.get(t.incidentId);
    const stormId = member?.stormId;
    const itsStorm = stormId && stormId === storm?.id ? storm : stormId ? byId.get(stormId) : undefined;
    if (stormId && itsStorm && open(itsStorm)) {
      memberNews.set(stormId, [...(memberNews.get(stormId) ?? []), t]);
      continue;
    }
    // A member coming back after its storm is over is news of its own again.
    if (member && stormId) set({ ...member, stormId: null });
    kept.push(t);
  }
  const storms = new Set([...memberNews.keys(), ...(storm ? [storm.id] : [])]);
  for (const id of storms) {
    const before = id === storm?.id ? storm : byId.get(id);
    if (!before) continue;
    const members = [...byId.values()].filter((i) => i.stormId === id);
    const after = refresh(before, members);
    if (!created && after === before) continue;
    set(after);
    const eventIds = (memberNews.get(id) ?? []).flatMap((t) => t.eventIds);
    const kind = created && id === storm?.id ? 'opened' : before.status !== 'resolved' && after.status === 'resolved' ? 'resolved' : 'changed';
    kept.push({ kind, incidentId: id, eventIds });
  }
  return { transitions: kept, changed: [...changed.values()] };
}

/**
 * Holds back the openings of a burst that is still forming: an incident that opened together with
 * another (and joined no storm) is not announced until `burstWaitMs` after it was first seen; the tick
 * wakes at `until` and announces what is still not a storm then. Runs after `formStorms`.
 */
export function holdFormingBurst(
  byId: ReadonlyMap<string, Incident>,
  transitions: readonly IncidentTransition[],
  policy: StormPolicy,
  now: Date,
): { transitions: IncidentTransition[]; until: Date | null } {
  const waitMs = policy.burstWaitMs ?? defaultStormPolicy.burstWaitMs ?? 0;
  if (waitMs <= 0) return { transitions: [...transitions], until: null };
  const loose = [...byId.values()].filter((i) => !isStorm(i) && !i.stormId && open(i));
  const seen = (i: Incident) => (i.firstSeenAt ?? now).getTime();
  let until: number | null = null;
  const kept = transitions.filter((t) => {
    const i = byId.get(t.incidentId);
    if (t.kind !== 'opened' || !i || isStorm(i) || i.stormId || i.announced) return true;
    const release = seen(i) + waitMs;
    if (now.getTime() >= release) return true;
    const together = loose.filter((o) => Math.abs(o.startedAt.getTime() - i.startedAt.getTime()) <= policy.windowMs);
    if (together.length < 2) return true;
    until = until === null ? release : Math.min(until, release);
    return false;
  });
  // Held in an earlier tick and not news in this one (a tick woken by something else): its release
  // still needs its wake, or it would never be announced.
  for (const i of loose) {
    const release = i.firstSeenAt ? i.firstSeenAt.getTime() + waitMs : null;
    if (i.announced || release === null || release <= now.getTime()) continue;
    if (loose.filter((o) => Math.abs(o.startedAt.getTime() - i.startedAt.getTime()) <= policy.windowMs).length < 2) continue;
    until = until === null ? release : Math.min(until, release);
  }
  return { transitions: kept, until: until === null ? null : new Date(until) };
}

/** The storm's card lists its members as its "alerts": one line per member incident, with its state. */
function refresh(storm: Incident, members: readonly Incident[]): Incident {
  const alerts: Record<string, AlertState> = { ...storm.alerts };
  let moved = false;
  for (const m of members) {
    const first = Object.values(m.alerts)[0];
    const line: AlertState = {
      status: m.status === 'resolved' ? 'resolved' : 'firing', title: m.title, severity: m.severity, labels: first?.labels ?? {}, annotations: {},
      startsAt: m.startedAt.toISOString(), endsAt: m.resolvedAt?.toISOString() ?? null, links: first?.links ?? [],
    };
    const prev = alerts[m.id];
    if (prev && prev.status === line.status && prev.startsAt === line.startsAt && prev.severity === line.severity) continue;
    alerts[m.id] = line;
    moved = true;
  }
  if (!moved) return storm;
  const states = Object.values(alerts);
  const firing = states.filter((a) => a.status === 'firing');
  const status: IncidentStatus = firing.length === 0 ? 'resolved' : storm.status === 'acknowledged' ? 'acknowledged' : 'firing';
  const resolvedAt = status === 'resolved' ? new Date(Math.max(...states.map((a) => Date.parse(a.endsAt ?? a.startsAt)))) : null;
  return {
    ...storm, alerts, status, resolvedAt, version: storm.version + 1,
    severity: maxSeverity((firing.length > 0 ? firing : states).map((a) => a.severity)),
    title: `Alert storm: ${states.length} incidents opened together`,
  };
}

function lastJoin(storm: Incident): number {
  return Math.max(storm.startedAt.getTime(), ...Object.values(storm.alerts).map((a) => Date.parse(a.startsAt)));
}

/** How long a storm goes without a new member before its full list is posted as it stands. */
export const STORM_SETTLED_MS = 30_000;

/**
 * Open, announced storms that have had no new member for `settledMs`: their file of members is due
 * as it stands (core/plan alertList), once per size; the file posted with the card lists only those
 * that had joined by then.
 * `nextAt`: when the next still-growing storm settles, for the tick's next wake.
 */
export function settledStorms(byId: ReadonlyMap<string, Incident>, now: Date, settledMs = STORM_SETTLED_MS): { due: Incident[]; nextAt: Date | null } {
  const due: Incident[] = [];
  let nextAt: number | null = null;
  for (const storm of byId.values()) {
    if (!isStorm(storm) || !open(storm) || !storm.announced) continue;
    const members = [...byId.values()].filter((i) => i.stormId === storm.id);
    const lastSeen = Math.max(storm.firstSeenAt?.getTime() ?? now.getTime(), ...members.map((m) => m.firstSeenAt?.getTime() ?? now.getTime()));
    if (now.getTime() - lastSeen >= settledMs) due.push(storm);
    else nextAt = nextAt === null ? lastSeen + settledMs : Math.min(nextAt, lastSeen + settledMs);
  }
  return { due, nextAt: nextAt === null ? null : new Date(nextAt) };
}

