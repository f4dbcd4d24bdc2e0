import { describe, expect, it } from 'vitest';
import type { Integration } from '../../src/actions/integrations.js';
import { PermanentActionError } from '../../src/actions/types.js';
import type { AlertState } from '../../src/core/incidents.js';
import { failureState, planTargets, targetsOf, type PlanContext } from '../../src/oncall/carriers.js';
import { readSyncSettings } from '../../src/oncall/sync-settings.js';
import { makeIncident } from '../support/incident.js';

const alert = (source: AlertState['source'], labels: Record<string, string> = {}): AlertState => ({
  status: 'firing', title: 'x', severity: 'critical', labels, annotations: {}, startsAt: '2026-11-20T09:00:00.000Z', endsAt: null, links: [], source,
});
const pd: Integration = { id: 'i1', workspaceId: 'ws', kind: 'pagerduty', name: 'default', settings: { apiUrl: 'http://pd', fromEmail: 'oncall@example.com' }, secrets: { token: 't' } };

function ctx(over: Partial<PlanContext>): PlanContext {
  return { verb: 'ack', incident: makeIncident(), by: { id: 'U1', name: 'alice' }, integrations: [], settings: readSyncSettings({}), claimId: 'c', now: new Date(), ...over };
}

describe('where an acknowledge or resolve goes', () => {
  it('knows each alert\'s sender, falling back to the source for alerts stored before it was kept', () => {
    expect(targetsOf(makeIncident({ alerts: { a: alert('pagerduty'), b: alert(undefined) } }), 'generic').sort()).toEqual(['generic', 'pagerduty']);
    expect(targetsOf(makeIncident({ alerts: { a: alert(undefined) } }), undefined)).toEqual([]);
  });

  it('says plainly what cannot be done, instead of pretending', () => {
    const [grafana, generic, sentry] = planTargets(ctx({}), ['grafana', 'generic', 'sentry']);
    expect(grafana).toMatchObject({ state: { state: 'unsupported', detail: 'Grafana alerting has no per-alert acknowledge; recorded in Tacit only' } });
    expect(generic).toMatchObject({ state: { state: 'unsupported' } });
    expect(sentry).toMatchObject({ state: { state: 'unsupported', detail: expect.stringContaining('Sentry issues have no acknowledge') } });
    expect(planTargets(ctx({ incident: makeIncident({ alerts: { Q1ABCDEF: alert('pagerduty') } }) }), ['pagerduty'])[0]).toMatchObject({ state: { state: 'skipped', detail: expect.stringContaining('no PagerDuty integration') } });
    expect(planTargets(ctx({}), ['alertmanager'])[0]).toMatchObject({ state: { state: 'skipped', detail: expect.stringContaining('no Alertmanager integration') } });
  });

  it('calls PagerDuty for its incidents when the integration exists', () => {
    const [plan] = planTargets(ctx({ integrations: [pd], incident: makeIncident({ alerts: { Q1ABCDEF: alert('pagerduty') } }) }), ['pagerduty']);
    expect(plan && 'call' in plan).toBe(true);
  });

  it('turns a 401 into what to fix', () => {
    const err = new PermanentActionError('PUT /incidents/Q1 answered 401: {"error":{"message":"Unauthorized","code":2006}}');
    expect(failureState('pagerduty', err)).toEqual({ state: 'refused', detail: '401 Unauthorized — check the API token of the integration' });
    expect(failureState('pagerduty', new Error('PUT /incidents/Q1 answered 503: down'))).toMatchObject({ state: 'failed' });
  });
});
