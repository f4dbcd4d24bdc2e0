import { describe, expect, it } from 'vitest';
import type { AlertState } from '../../src/core/incidents.js';
import { applyAutoResolve } from '../../src/oncall/advance.js';
import { autoResolveAfterMs, autoResolveNote, dueAutoResolves, nextAutoResolveAt } from '../../src/oncall/auto-resolve.js';
import { autoResolveSchema } from '../../src/oncall/sync-settings.js';
import { makeIncident } from '../support/incident.js';

const HOUR = 3_600_000;
const policy = autoResolveSchema.parse({});
const alert = (source: AlertState['source']): AlertState => ({
  status: 'firing', title: 'x', severity: 'warning', labels: {}, annotations: {}, startsAt: '2026-11-20T09:00:00.000Z', endsAt: null, links: [], source,
});
const started = new Date('2026-11-20T09:00:00.000Z');

describe('auto-resolve', () => {
  it('is on for generic webhooks (4 h) and Sentry (24 h), off for senders that say resolved themselves', () => {
    expect(autoResolveAfterMs(makeIncident({ alerts: { a: alert('generic') } }), policy)).toBe(4 * HOUR);
    expect(autoResolveAfterMs(makeIncident({ alerts: { a: alert('sentry') } }), policy)).toBe(24 * HOUR);
    for (const kind of ['alertmanager', 'grafana', 'pagerduty'] as const) expect(autoResolveAfterMs(makeIncident({ alerts: { a: alert(kind) } }), policy)).toBeNull();
    // Mixed or unknown senders, declared incidents and storms never resolve themselves.
    expect(autoResolveAfterMs(makeIncident({ alerts: { a: alert('generic'), b: alert('alertmanager') } }), policy)).toBeNull();
    expect(autoResolveAfterMs(makeIncident({ alerts: { a: alert(undefined) } }), policy)).toBeNull();
    expect(autoResolveAfterMs(makeIncident({ kind: 'declared', alerts: {} }), policy)).toBeNull();
  });

  it('counts the silence from the last alert news, and resolves only once it has passed', () => {
    const incident = makeIncident({ alerts: { a: alert('generic') }, startedAt: started, lastAlertAt: new Date(started.getTime() + HOUR) });
    expect(dueAutoResolves([incident], policy, new Date(started.getTime() + 4.5 * HOUR))).toEqual([]);
    expect(nextAutoResolveAt([incident], policy, started)).toEqual(new Date(started.getTime() + 5 * HOUR));
    const [due] = dueAutoResolves([incident], policy, new Date(started.getTime() + 5 * HOUR));
    expect(due?.incident).toMatchObject({ status: 'resolved', version: incident.version + 1 });
    expect(due?.incident.alerts.a).toMatchObject({ status: 'resolved' });
  });

  it('has no deadline without open incidents of such senders: an idle workspace schedules nothing', () => {
    expect(nextAutoResolveAt([makeIncident({ alerts: { a: alert('alertmanager') } }), makeIncident({ status: 'resolved', alerts: { a: alert('generic') } })], policy, started)).toBeNull();
  });

  it('announces the silence and skips incidents something else moved this tick', () => {
    const incident = makeIncident({ alerts: { a: alert('generic') }, startedAt: started });
    const now = new Date(started.getTime() + 4 * HOUR + 1_000);
    expect(applyAutoResolve(new Map([[incident.id, incident]]), new Set([incident.id]), policy, now).transitions).toEqual([]);
    const byId = new Map([[incident.id, incident]]);
    const done = applyAutoResolve(byId, new Set(), policy, now);
    expect(done.transitions).toEqual([{ kind: 'resolved', incidentId: incident.id, eventIds: [] }]);
    expect(done.notes[0]?.text).toMatch(/^Auto-resolved: no alert for 4 h\./);
    expect(byId.get(incident.id)?.status).toBe('resolved');
    expect(autoResolveNote(24 * HOUR)).toContain('no alert for 24 h');
  });
});
