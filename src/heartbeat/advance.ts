// Advancing a workspace's incidents in a tick: alerts and people's steps applied, time-based news
// (escalation steps, auto-resolve, held-back news) raised, storms formed, suspects attached.
import { randomUUID } from 'node:crypto';
import { and, eq, gte, inArray, lte } from 'drizzle-orm';
import { defaultSuspectWindowMs, pickSuspects } from '../core/correlation.js';
import { repoEventSchema, type EventRecord, type RepoEvent } from '../core/events.js';
import { applyAcks, applyAlerts, incidentGroupKey, type Incident, type IncidentTransition } from '../core/incidents.js';
import { needsAlertFile } from '../core/alert-list.js';
import { boundKey } from '../core/keys.js';
import { alertList, type PlannedMessage } from '../core/plan.js';
import { quietHoursEnd, type WorkspaceSettings } from '../core/settings.js';
import { formStorms, holdFormingBurst } from '../core/storms.js';
import type { Db } from '../db/client.js';
import { events, outbox } from '../db/schema.js';
import { applyAutoResolve, applySteps, stepRecords } from '../oncall/advance.js';
import { nextAutoResolveAt } from '../oncall/auto-resolve.js';
import { readSyncSettings } from '../oncall/sync-settings.js';
import { routeNewIncidents, takeDueSteps } from '../oncall/tick-oncall.js';
import { loadIncidents } from './incident-rows.js';

/** Applies alerts and acknowledgements, and the time-based news that is due, to the incidents. */
export async function advanceIncidents(db: Db, t: { workspaceId: string; due: boolean }, records: EventRecord[], settings: WorkspaceSettings, now: Date, rawSettings: unknown) {
  const alerts = records.flatMap((r) => (r.payload.kind === 'alert' ? [{ eventId: r.id, alert: r.payload }] : []));
  // People's steps (declare, resolve, synced) name incidents by id, resolved ones included.
  const steps = stepRecords(records);
  const known = await loadIncidents(db, t.workspaceId, [...new Set(alerts.map((a) => incidentGroupKey(a.alert)))], steps.map((s) => s.event.incidentId));
  const grouping = applyAlerts(t.workspaceId, new Map(known.map((i) => [i.groupKey, i])), alerts, () => `inc_${randomUUID()}`);
  routeNewIncidents(grouping.changed, new Set(known.map((i) => i.id)), alerts, settings.routes);
  const byId = new Map<string, Incident>(known.map((i) => [i.id, i]));
  // Alert news advanced it: auto-resolve counts its silence from now.
  for (const i of grouping.changed.values()) byId.set(i.id, { ...i, lastAlertAt: now });
  const acks = records.flatMap((r) =>
    r.payload.kind === 'incident.ack' ? [{ eventId: r.id, incidentId: r.payload.incidentId, by: r.payload.by.name }] : [],
  );
  const stepped = applySteps(byId, steps, t.workspaceId);
  const transitions: IncidentTransition[] = [...grouping.transitions, ...applyAcks(byId, acks), ...stepped.transitions];
  const moved = new Set(transitions.map((x) => x.incidentId));

  // The escalation policy's due steps (src/oncall); its first is the thread reminder that used to stand alone.
  transitions.push(...takeDueSteps(byId, moved, settings, now));
  const autoResolve = readSyncSettings(rawSettings).autoResolveMs;
  const auto = applyAutoResolve(byId, new Set(transitions.map((x) => x.incidentId)), autoResolve, now);
  transitions.push(...auto.transitions);
  // Held back by quiet hours or a spent budget: when that ends, open incidents never announced, and
  // returns to Firing never told in the channel, are news again.
  if (t.due && !quietHoursEnd(settings, now)) {
    for (const i of byId.values()) {
      if (i.status !== 'resolved' && !i.announced && !moved.has(i.id)) transitions.push({ kind: 'opened', incidentId: i.id, eventIds: [] });
    }
    transitions.push(...(await untoldReturns(db, [...byId.values()].filter((i) => !moved.has(i.id)))));
  }
  // Many incidents opening together are one storm: their news is told on its one card.
  const storms = settings.storm ? formStorms(byId, transitions, settings.storm, () => `inc_${randomUUID()}`) : undefined;
  if (storms) transitions.splice(0, transitions.length, ...storms.transitions);
  // A burst still arriving waits a little, so it becomes one storm card rather than a card each first.
  const burst = settings.storm ? holdFormingBurst(byId, transitions, settings.storm, now) : undefined;
  if (burst) transitions.splice(0, transitions.length, ...burst.transitions);
  await attachSuspects(db, t.workspaceId, transitions, byId);
  const changedIds = new Set([...grouping.changed.values(), ...(storms?.changed ?? [])].map((i) => i.id));
  for (const x of transitions) changedIds.add(x.incidentId);
  const loadedVersions = new Map(known.map((i) => [i.id, i.version]));
  return {
    byId, transitions, changed: [...changedIds].flatMap((id) => byId.get(id) ?? []), loadedVersions, heldUntil: burst?.until ?? null,
    notes: [...stepped.notes, ...auto.notes], autoResolveAt: nextAutoResolveAt(byId.values(), autoResolve, now),
  };
}

/** Announced incidents firing again whose return notice (`incident:<id>:recurred:<n>`) was never queued. */
async function untoldReturns(db: Db, candidates: Incident[]): Promise<IncidentTransition[]> {
  const back = candidates.filter((i) => i.status !== 'resolved' && i.announced && i.recurrences > 0);
  if (back.length === 0) return [];
  const keyOf = (i: Incident) => boundKey(`incident:${i.id}:recurred:${i.recurrences}`);
  const told = await db.select({ key: outbox.idempotencyKey }).from(outbox).where(inArray(outbox.idempotencyKey, back.map(keyOf)));
  const toldKeys = new Set(told.map((r) => r.key));
  return back.filter((i) => !toldKeys.has(keyOf(i))).map((i) => ({ kind: 'recurred', incidentId: i.id, eventIds: [] }));
}

/** Incidents that just opened or came back get the repository changes shortly before they started. */
async function attachSuspects(db: Db, workspaceId: string, transitions: IncidentTransition[], byId: Map<string, Incident>): Promise<void> {
  const starting = transitions
    .filter((x) => x.kind === 'opened' || x.kind === 'recurred' || x.kind === 'flapping')
    .flatMap((x) => byId.get(x.incidentId) ?? []);
  if (starting.length === 0) return;
  const starts = starting.map((i) => i.startedAt.getTime());
  const rows = await db
    .select({ payload: events.payload })
    .from(events)
    .where(
      and(
        eq(events.workspaceId, workspaceId),
        eq(events.kind, 'repo'),
        gte(events.occurredAt, new Date(Math.min(...starts) - defaultSuspectWindowMs)),
        lte(events.occurredAt, new Date(Math.max(...starts) + 60_000)),
      ),
    )
    .limit(1000);
  const changes = rows.flatMap((r): RepoEvent[] => {
    const parsed = repoEventSchema.safeParse(r.payload);
    return parsed.success ? [parsed.data] : [];
  });
  for (const incident of starting) byId.set(incident.id, { ...incident, suspects: pickSuspects(changes, incident.startedAt) });
}

/** The full member lists of storms that stopped growing (core/storms settledStorms) not queued yet. */
export async function untoldStormLists(db: Db, workspaceId: string, storms: readonly Incident[], decisionId: string | null): Promise<PlannedMessage[]> {
  const lists = storms.filter(needsAlertFile).map((storm) => alertList(storm, decisionId, true));
  if (lists.length === 0) return [];
  const told = await db
    .select({ key: outbox.idempotencyKey })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), inArray(outbox.idempotencyKey, lists.map((m) => boundKey(m.idempotencyKey)))));
  const toldKeys = new Set(told.map((r) => r.key));
  return lists.filter((m) => !toldKeys.has(boundKey(m.idempotencyKey)));
}

