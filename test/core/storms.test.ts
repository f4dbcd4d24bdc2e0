// Storms: 30 alert groups opening within seconds (one database down) are one storm incident with one
// card listing its members, not thirty cards; members resolving are edits of that card.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/core/events.js';
import { applyAlerts, type AlertState, type Incident, type IncidentTransition } from '../../src/core/incidents.js';
import { alertList, planMessages } from '../../src/core/plan.js';
import { formStorms, holdFormingBurst, settledStorms } from '../../src/core/storms.js';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const policy = { windowMs: 60_000, threshold: 5 };

function alert(n: number, status: 'firing' | 'resolved' = 'firing'): AlertEvent {
  return {
    kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: `fp${n}`, groupKey: `{}:{service="svc${n}"}`, status,
    severity: 'critical', title: `svc${n} cannot reach its database`, labels: { service: `svc${n}`, database: 'orders-db', cluster: 'eu-1' }, annotations: {},
    startsAt: new Date(T0 + Math.floor((n * 20_000) / 30)).toISOString(), endsAt: status === 'resolved' ? new Date(T0 + 600_000).toISOString() : null, links: [], actor: null, channelId: 'c',
  };
}

/** One tick: alerts grouped, then storms formed, as the tick does. */
function tick(known: Map<string, Incident>, alerts: AlertEvent[], ids: { n: number }) {
  const byKey = new Map([...known.values()].map((i) => [i.groupKey, i]));
  const g = applyAlerts('ws', byKey, alerts.map((a, k) => ({ eventId: k + 1, alert: a })), () => `inc_${++ids.n}`);
  const byId = new Map(known);
  for (const i of g.changed.values()) byId.set(i.id, i);
  const s = formStorms(byId, g.transitions, policy, () => `storm_${++ids.n}`);
  return { byId, transitions: s.transitions };
}

describe('formStorms', () => {
  it('makes 30 groups opening within 20 s one storm that is opened, with every group a member', () => {
    const { byId, transitions } = tick(new Map(), Array.from({ length: 30 }, (_, n) => alert(n)), { n: 0 });
    const storms = [...byId.values()].filter((i) => i.kind === 'storm');
    expect(storms).toHaveLength(1);
    const storm = storms[0] as Incident;
    expect(transitions).toEqual([expect.objectContaining({ kind: 'opened', incidentId: storm.id })]);
    expect([...byId.values()].filter((i) => i.stormId === storm.id)).toHaveLength(30);
    expect(Object.keys(storm.alerts)).toHaveLength(30);
    expect(storm.title).toBe('Alert storm: 30 incidents opened together');
  });

  it('plans one card for the storm and names what its members share in the summary', async () => {
    const { byId, transitions } = tick(new Map(), Array.from({ length: 30 }, (_, n) => alert(n)), { n: 0 });
    const decision = await new RulesBrain().decide({ workspaceId: 'ws', now: new Date(T0 + 30_000), reasons: ['storm'], transitions, incidents: byId, events: [] });
    const intents = decision.kind === 'speak' ? decision.intents : [];
    const plan = planMessages(intents, byId, [...byId.values()], null, undefined, transitions);
    expect(plan.messages.filter((m) => m.purpose === 'card')).toHaveLength(1);
    const summary = plan.messages.find((m) => m.purpose === 'summary');
    expect(summary?.message.text).toContain('database=orders-db');
  });

  it('lets fewer openings than the threshold stay separate incidents', () => {
    const { byId, transitions } = tick(new Map(), [alert(1), alert(2), alert(3)], { n: 0 });
    expect([...byId.values()].some((i) => i.kind === 'storm')).toBe(false);
    expect(transitions.map((t) => t.kind)).toEqual(['opened', 'opened', 'opened']);
  });

  it('adds a later opening to the open storm and turns members resolving into edits, then one resolution', () => {
    const ids = { n: 0 };
    const first = tick(new Map(), Array.from({ length: 6 }, (_, n) => alert(n)), ids);
    const known = new Map([...first.byId].map(([id, i]): [string, Incident] => [id, i.kind === 'storm' ? { ...i, announced: true } : i]));
    const storm = [...known.values()].find((i) => i.kind === 'storm') as Incident;
    const joined = tick(known, [alert(7)], ids);
    expect(joined.transitions).toEqual([expect.objectContaining({ kind: 'changed', incidentId: storm.id })]);
    expect(Object.keys(joined.byId.get(storm.id)?.alerts ?? {})).toHaveLength(7);

    const some = tick(joined.byId, [alert(1, 'resolved')], ids);
    expect(some.transitions.map((t: IncidentTransition) => t.kind)).toEqual(['changed']);
    const all = tick(some.byId, [0, 2, 3, 4, 5, 7].map((n) => alert(n, 'resolved')), ids);
    expect(all.transitions).toEqual([expect.objectContaining({ kind: 'resolved', incidentId: storm.id })]);
    expect(all.byId.get(storm.id)?.status).toBe('resolved');

    // Later, one member fires again on its own: its own news, not swallowed by a storm that is over.
    const again = tick(all.byId, [{ ...alert(3), startsAt: new Date(T0 + 3_600_000).toISOString() }], ids);
    const member = [...again.byId.values()].find((i) => i.groupKey.includes('svc3'));
    expect(again.transitions).toEqual([expect.objectContaining({ kind: 'recurred', incidentId: member?.id })]);
    expect(member?.stormId).toBeNull();
  });
});

describe('holdFormingBurst', () => {
  const burstPolicy = { ...policy, burstWaitMs: 10_000 };
  const now = new Date(T0 + 30_000);
  const opened = (byId: Map<string, Incident>): IncidentTransition[] => [...byId.values()].map((i) => ({ kind: 'opened', incidentId: i.id, eventIds: [] }));
  function incidents(count: number, firstSeenAt: Date | undefined): Map<string, Incident> {
    const g = applyAlerts('ws', new Map(), Array.from({ length: count }, (_, n) => ({ eventId: n + 1, alert: alert(n) })), (() => { let k = 0; return () => `inc_${++k}`; })());
    return new Map([...g.changed.values()].map((i) => [i.id, firstSeenAt ? { ...i, firstSeenAt } : i]));
  }

  it('announces a lone incident at once', () => {
    const byId = incidents(1, undefined);
    const held = holdFormingBurst(byId, opened(byId), burstPolicy, now);
    expect(held.transitions).toHaveLength(1);
    expect(held.until).toBeNull();
  });

  it('holds the openings of a burst below the threshold until the wait after first sight, then lets them out', () => {
    const byId = incidents(3, undefined);
    const held = holdFormingBurst(byId, opened(byId), burstPolicy, now);
    expect(held.transitions).toEqual([]);
    expect(held.until?.getTime()).toBe(now.getTime() + 10_000);

    const seen = incidents(3, now);
    const later = holdFormingBurst(seen, opened(seen), burstPolicy, new Date(now.getTime() + 10_000));
    expect(later.transitions).toHaveLength(3);
    expect(later.until).toBeNull();
  });

  it('keeps the wake of a burst held earlier when a later tick is woken by other news', () => {
    const seen = incidents(3, now);
    // A tick in between, woken by something else: no openings in it, but the held ones still need their wake.
    const between = holdFormingBurst(seen, [], burstPolicy, new Date(now.getTime() + 3_000));
    expect(between.transitions).toEqual([]);
    expect(between.until?.getTime()).toBe(now.getTime() + 10_000);
    // Once released (or announced) there is nothing left to wake for.
    expect(holdFormingBurst(seen, [], burstPolicy, new Date(now.getTime() + 10_000)).until).toBeNull();
    const announced = new Map([...seen].map(([id, i]) => [id, { ...i, announced: true }]));
    expect(holdFormingBurst(announced, [], burstPolicy, new Date(now.getTime() + 3_000)).until).toBeNull();
  });

  it('keeps news that is not an opening, and any opening when the wait is off', () => {
    const byId = incidents(3, undefined);
    const resolved: IncidentTransition[] = [...byId.keys()].map((id) => ({ kind: 'resolved', incidentId: id, eventIds: [] }));
    expect(holdFormingBurst(byId, resolved, burstPolicy, now).transitions).toHaveLength(3);
    expect(holdFormingBurst(byId, opened(byId), { ...burstPolicy, burstWaitMs: 0 }, now).transitions).toHaveLength(3);
  });

  it('lets a burst that reached the threshold through formStorms as one storm, with nothing held', () => {
    const { byId, transitions } = tick(new Map(), Array.from({ length: 6 }, (_, n) => alert(n)), { n: 0 });
    const held = holdFormingBurst(byId, transitions, burstPolicy, now);
    expect(held.transitions).toEqual(transitions);
    expect(held.until).toBeNull();
  });
});

describe('settledStorms', () => {
  it('names an announced storm with no new member for 30 s, and says when a growing one settles', () => {
    const ids = { n: 0 };
    const { byId } = tick(new Map(), Array.from({ length: 12 }, (_, n) => alert(n)), ids);
    const seen = new Date(T0 + 60_000);
    const stored = new Map([...byId].map(([id, i]) => [id, { ...i, firstSeenAt: seen, ...(i.kind === 'storm' ? { announced: true } : {}) }]));
    const storm = [...stored.values()].find((i) => i.kind === 'storm') as Incident;

    const growing = settledStorms(stored, new Date(seen.getTime() + 10_000));
    expect(growing.due).toEqual([]);
    expect(growing.nextAt?.getTime()).toBe(seen.getTime() + 30_000);

    const settled = settledStorms(stored, new Date(seen.getTime() + 30_000));
    expect(settled.due.map((i) => i.id)).toEqual([storm.id]);
    expect(settled.nextAt).toBeNull();
    // Its list is keyed by its exact size, apart from the doubling ones.
    // Its list is keyed by its exact size, so the one posted with the card is not posted again unless it grew.
    expect(alertList(storm, null, true).idempotencyKey).toBe(alertList(storm, null).idempotencyKey);
    expect(alertList(storm, null).idempotencyKey).toMatch(/:alerts:.*:all-12$/);
    expect(alertList({ ...storm, alerts: { ...storm.alerts, extra: Object.values(storm.alerts)[0] as AlertState } }, null).idempotencyKey).toMatch(/:all-13$/);
  });
});
