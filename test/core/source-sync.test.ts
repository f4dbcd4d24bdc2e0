import { describe, expect, it } from 'vitest';
import { incidentCard } from '../../src/core/incident-card.js';
import { readSourceSync, syncSummary } from '../../src/core/source-sync.js';
import { makeIncident } from '../support/incident.js';

const occurrence = '2026-11-20T09:14:05.123Z';

describe('the source sync on the card', () => {
  it('says who acknowledged and what each source answered, failures included', () => {
    const sync = readSourceSync({
      ack: {
        occurrence, by: { id: 'U1', name: 'alice' }, at: occurrence,
        sources: {
          pagerduty: { state: 'accepted', detail: 'acknowledged in PagerDuty by alice' },
          alertmanager: { state: 'refused', detail: '401 Unauthorized' },
          grafana: { state: 'unsupported', detail: 'Grafana alerting has no per-alert acknowledge; recorded in Tacit only' },
        },
      },
    });
    expect(syncSummary(sync, occurrence)).toBe(
      'Acknowledged by alice · acknowledged in PagerDuty by alice · Alertmanager refused: 401 Unauthorized · Grafana: Grafana alerting has no per-alert acknowledge; recorded in Tacit only',
    );
    // A claim of an earlier occurrence says nothing about this one.
    expect(syncSummary(sync, '2026-11-21T00:00:00.000Z')).toBeNull();
    expect(readSourceSync({ ack: 'garbage' })).toEqual({});
  });

  it('shows the line on the card, with Acknowledge and Resolve while firing and none once resolved', () => {
    const sync = readSourceSync({ ack: { occurrence, by: { id: 'U1', name: 'alice' }, at: occurrence, sources: { pagerduty: { state: 'sending' } } } });
    const card = incidentCard(makeIncident({ status: 'acknowledged', acknowledgedBy: 'alice', sourceSync: sync }), null);
    expect(JSON.stringify(card.blocks ?? [])).toContain('Acknowledged by alice · acknowledging in PagerDuty…');
    expect((card.blocks ?? []).flatMap((b) => (b.kind === 'actions' ? b.buttons.map((x) => x.label) : []))).toEqual(['Resolve']);
    const firing = incidentCard(makeIncident(), null);
    expect((firing.blocks ?? []).flatMap((b) => (b.kind === 'actions' ? b.buttons.map((x) => x.label) : []))).toEqual(['Acknowledge', 'Resolve']);
    expect(incidentCard(makeIncident({ status: 'resolved' }), null).blocks?.some((b) => b.kind === 'actions')).toBe(false);
  });
});
