// PagerDuty v3 webhook events normalised into alert events: incident lifecycle in, everything else dropped.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertEventSchema, type AlertEvent } from '../../../src/core/events.js';
import { normalisePagerDutyBody } from '../../../src/sources/alerts/pagerduty.js';
import type { HeaderMap, Normalised, RequestContext } from '../../../src/sources/normalised.js';

const INCIDENT_ID = 'Q2MXQ7K1ZF9YB3';
const CREATED_AT = '2026-11-21T13:02:31Z';

function request(headers: HeaderMap = {}): RequestContext {
  return { source: { id: 'src_pd', channelId: 'c_oncall', settings: {} }, headers, receivedAt: new Date('2026-11-21T15:00:00Z') };
}

type Envelope = { event: Record<string, unknown> & { data: Record<string, unknown> } };

function fixture(name: string): Envelope {
  return JSON.parse(readFileSync(new URL(`../../fixtures/pagerduty/${name}.json`, import.meta.url), 'utf8')) as Envelope;
}

/** A fixture with its event type or incident fields replaced. */
function variant(name: string, event: Record<string, unknown>, data: Record<string, unknown> = {}): Envelope {
  const body = fixture(name);
  return { event: { ...body.event, ...event, data: { ...body.event.data, ...data } } };
}

function only(json: unknown, headers: HeaderMap = {}): Normalised<AlertEvent> {
  const result = normalisePagerDutyBody(json, request(headers));
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(result.items).toHaveLength(1);
  const [item] = result.items;
  if (!item) throw new Error('expected exactly one item');
  return { ...item, event: alertEventSchema.parse(item.event) };
}

function reasonFor(json: unknown): string {
  const result = normalisePagerDutyBody(json, request());
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.reason;
}

describe('normalisePagerDutyBody', () => {
  it('turns incident.triggered into an urgent, critical firing event keyed by the incident', () => {
    const normalised = only(fixture('incident.triggered'));

    expect(normalised.urgent).toBe(true);
    expect(normalised.occurredAt.toISOString()).toBe('2026-11-21T13:02:31.512Z');
    expect(normalised.event).toEqual({
      kind: 'alert',
      source: 'pagerduty',
      sourceId: 'src_pd',
      channelId: 'c_oncall',
      fingerprint: INCIDENT_ID,
      groupKey: `pagerduty:${INCIDENT_ID}`,
      status: 'firing',
      severity: 'critical',
      title: 'Checkout error rate above 5%',
      labels: { service: 'Checkout API', urgency: 'high', priority: 'P1', number: '4127', incident_key: '5b2a0f7d9e3c1a84' },
      annotations: {},
      startsAt: CREATED_AT,
      endsAt: null,
      links: [{ label: 'pagerduty', url: `https://acme.pagerduty.com/incidents/${INCIDENT_ID}` }],
      actor: 'Checkout API',
    });
  });

  it('turns incident.acknowledged into an acknowledged, non-urgent event naming who acknowledged', () => {
    const { event, urgent } = only(fixture('incident.acknowledged'));

    expect(event.status).toBe('acknowledged');
    expect(event.actor).toBe('Dana Ortiz');
    expect(event.startsAt).toBe(CREATED_AT);
    expect(urgent).toBe(false);
  });

  it('turns incident.resolved into a resolved event that ends when PagerDuty resolved it', () => {
    const normalised = only(fixture('incident.resolved'));

    expect(normalised.event.status).toBe('resolved');
    expect(normalised.event.startsAt).toBe(CREATED_AT);
    expect(normalised.event.endsAt).toBe('2026-11-21T13:31:44.901Z');
    expect(normalised.occurredAt.toISOString()).toBe('2026-11-21T13:31:44.901Z');
    expect(normalised.urgent).toBe(false);
  });

  it('starts a reopened incident when it was reopened, so it is not mistaken for a stale firing', () => {
    const resolved = only(fixture('incident.resolved'));
    const reopened = only(fixture('incident.reopened'));

    expect(reopened.event.status).toBe('firing');
    expect(reopened.event.startsAt).toBe('2026-11-21T14:10:02.337Z');
    expect(Date.parse(reopened.event.startsAt)).toBeGreaterThan(Date.parse(resolved.event.startsAt));
    expect(reopened.event.fingerprint).toBe(resolved.event.fingerprint);
    expect(reopened.urgent).toBe(true);
  });

  it('starts an unacknowledged incident when it was unacknowledged, firing again', () => {
    const body = variant('incident.acknowledged', { event_type: 'incident.unacknowledged', occurred_at: '2026-11-21T13:35:10.204Z' });
    const { event } = only(body);

    expect(event.status).toBe('firing');
    expect(event.startsAt).toBe('2026-11-21T13:35:10.204Z');
  });

  it("dedupes on PagerDuty's X-Webhook-Id when present, else on the event id", () => {
    expect(only(fixture('incident.triggered'), { 'x-webhook-id': 'wh-7f3a' }).dedupeKey).toBe('pagerduty:src_pd:wh-7f3a');
    expect(only(fixture('incident.triggered')).dedupeKey).toBe('pagerduty:src_pd:01F7Q2XKZ8M3V4RT9NB6C5HJ1W');
  });

  it('maps priorities P2 and P3 to warning and P4 and P5 to info', () => {
    const severityFor = (summary: string) => only(variant('incident.triggered', {}, { priority: { summary } })).event.severity;

    expect([severityFor('P2'), severityFor('P3'), severityFor('P4'), severityFor('P5')]).toEqual(['warning', 'warning', 'info', 'info']);
  });

  it('falls back to urgency when there is no standard priority: high is critical, low is warning', () => {
    const severityFor = (data: Record<string, unknown>) => only(variant('incident.triggered', {}, data)).event.severity;

    expect(severityFor({ priority: null, urgency: 'high' })).toBe('critical');
    expect(severityFor({ priority: null, urgency: 'low' })).toBe('warning');
    expect(severityFor({ priority: { summary: 'SEV-1' }, urgency: 'low' })).toBe('warning');
  });

  it('leaves out labels the incident does not have', () => {
    const { event } = only(variant('incident.triggered', {}, { priority: null, incident_key: null, service: undefined }));

    expect(event.labels).toEqual({ urgency: 'high', number: '4127' });
  });

  it('accepts notes, escalations, responders and service changes and stores nothing for them', () => {
    const types = ['incident.escalated', 'incident.reassigned', 'incident.delegated', 'incident.priority_updated', 'incident.responder.added', 'incident.status_update_published', 'service.updated'];

    expect(normalisePagerDutyBody(fixture('incident.annotated'), request())).toEqual({ ok: true, items: [] });
    for (const type of types) {
      expect(normalisePagerDutyBody(variant('incident.triggered', { event_type: type }), request())).toEqual({ ok: true, items: [] });
    }
  });

  it('rejects a body without the v3 event envelope', () => {
    expect(reasonFor({ messages: [] })).toMatch(/not a PagerDuty v3 webhook: event/);
  });

  it('rejects an incident event whose incident has no id, naming the field', () => {
    expect(reasonFor(variant('incident.triggered', {}, { id: undefined }))).toMatch(/incident\.triggered.*id/);
  });

  it('rejects an event with an occurred_at that is not a time', () => {
    expect(reasonFor(variant('incident.triggered', { occurred_at: 'yesterday' }))).toMatch(/occurred_at/);
  });
});
