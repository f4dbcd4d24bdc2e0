// Grafana webhook contact point payloads (version "1") normalised into alert events.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertEventSchema, type AlertEvent } from '../../../src/core/events.js';
import { grafanaPayloadSchema, normaliseGrafanaBody } from '../../../src/sources/alerts/grafana.js';
import type { Normalised, RequestContext } from '../../../src/sources/normalised.js';

const REQUEST: RequestContext = {
  source: { id: 'src_grafana', channelId: 'c_payments', settings: {} },
  headers: {},
  receivedAt: new Date('2026-11-21T13:02:15Z'),
};
const FINGERPRINT = '5b2a0f7d9e3c1a84';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/grafana/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The fixture's only alert, with some fields replaced. */
function withAlert(name: string, changes: Record<string, unknown>): Record<string, unknown> {
  const body = fixture(name);
  const [alert] = body.alerts as Record<string, unknown>[];
  return { ...body, alerts: [{ ...alert, ...changes }] };
}

function only(json: unknown): Normalised<AlertEvent> {
  const result = normaliseGrafanaBody(json, REQUEST);
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(result.items).toHaveLength(1);
  const [item] = result.items;
  if (!item) throw new Error('expected exactly one item');
  return { ...item, event: alertEventSchema.parse(item.event) };
}

function reasonFor(json: unknown): string {
  const result = normaliseGrafanaBody(json, REQUEST);
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.reason;
}

describe('normaliseGrafanaBody', () => {
  it('turns the firing fixture into one urgent, critical firing event from Grafana', () => {
    const normalised = only(fixture('firing.json'));

    expect(normalised.urgent).toBe(true);
    expect(normalised.occurredAt.toISOString()).toBe('2026-11-21T13:02:10.000Z');
    expect(normalised.event).toMatchObject({
      kind: 'alert',
      source: 'grafana',
      sourceId: 'src_grafana',
      channelId: 'c_payments',
      fingerprint: FINGERPRINT,
      groupKey: '{}/{severity="critical"}:{alertname="CheckoutErrorRate", grafana_folder="Payments"}',
      status: 'firing',
      severity: 'critical',
      title: 'Checkout error rate above 5%',
      startsAt: '2026-11-21T14:02:10+01:00',
      endsAt: null,
      actor: null,
    });
    expect(normalised.event.labels.service).toBe('checkout');
  });

  it('links to the rule, the dashboard, the panel, the silence form and Grafana itself', () => {
    const { event } = only(fixture('firing.json'));

    expect(event.links.map((l) => l.label)).toEqual(['source', 'dashboard', 'panel', 'silence', 'grafana']);
    expect(event.links.find((l) => l.label === 'panel')?.url).toContain('viewPanel=4');
    expect(event.links.find((l) => l.label === 'silence')?.url).toContain('/alerting/silence/new');
  });

  it('leaves out the dashboard and panel links Grafana sends as empty strings', () => {
    const { event } = only(withAlert('firing.json', { dashboardURL: '', panelURL: '' }));

    expect(event.links.map((l) => l.label)).toEqual(['source', 'silence', 'grafana']);
  });

  it('turns the resolved fixture into a non-urgent resolved event for the same alert, with its end time', () => {
    const firing = only(fixture('firing.json'));
    const resolved = only(fixture('resolved.json'));

    expect(resolved.event.status).toBe('resolved');
    expect(resolved.event.endsAt).toBe('2026-11-21T14:19:40+01:00');
    expect(resolved.occurredAt.toISOString()).toBe('2026-11-21T13:19:40.000Z');
    expect(resolved.urgent).toBe(false);
    expect(resolved.event.fingerprint).toBe(firing.event.fingerprint);
    expect(resolved.event.groupKey).toBe(firing.event.groupKey);
    expect(resolved.dedupeKey).not.toBe(firing.dedupeKey);
  });

  it('builds the dedupe key from the source, fingerprint, start and status', () => {
    const { dedupeKey } = only(fixture('firing.json'));

    expect(dedupeKey).toBe(`alert:src_grafana:${FINGERPRINT}:2026-11-21T14:02:10+01:00:firing`);
  });

  it('accepts null values, no title or message, and fields it does not know', () => {
    const { title: _title, message: _message, state: _state, ...rest } = withAlert('firing.json', { values: null, futureField: { a: 1 } });

    expect(only({ ...rest, anotherNewField: true }).event.status).toBe('firing');
  });

  it('rejects an Alertmanager payload (version "4") and says which field is wrong', () => {
    expect(reasonFor({ ...fixture('firing.json'), version: '4' })).toMatch(/version/);
  });

  it('rejects a payload with no alerts', () => {
    expect(reasonFor({ ...fixture('firing.json'), alerts: [] })).toMatch(/alerts/);
  });

  it('rejects a body that is not an object', () => {
    expect(reasonFor('firing')).toMatch(/not a Grafana webhook payload/);
  });
});

describe('grafanaPayloadSchema', () => {
  it('accepts both fixtures', () => {
    expect(grafanaPayloadSchema.safeParse(fixture('firing.json')).success).toBe(true);
    expect(grafanaPayloadSchema.safeParse(fixture('resolved.json')).success).toBe(true);
  });

  it('rejects values that are not numbers', () => {
    expect(grafanaPayloadSchema.safeParse(withAlert('firing.json', { values: { A: 'high' } })).success).toBe(false);
  });
});
