// Generic JSON alerts normalised through a per-source mapping, with the recommended Datadog and Opsgenie mappings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertEventSchema, type AlertEvent } from '../../../src/core/events.js';
import { genericMappingSchema, normaliseGenericBody, recommendedMappings } from '../../../src/sources/alerts/generic.js';
import type { Normalised, NormaliseResult } from '../../../src/sources/normalised.js';

const RECEIVED_AT = '2026-11-21T13:40:00.000Z';
const DATADOG = recommendedMappings.datadog.mapping;
const OPSGENIE = recommendedMappings.opsgenie.mapping;

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/generic/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function normalise(json: unknown, mapping: unknown): NormaliseResult<AlertEvent> {
  return normaliseGenericBody(json, {
    source: { id: 'src_generic', channelId: 'c_ops', settings: { mapping } },
    headers: {},
    receivedAt: new Date(RECEIVED_AT),
  });
}

function only(json: unknown, mapping: unknown): Normalised<AlertEvent> {
  const result = normalise(json, mapping);
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(result.items).toHaveLength(1);
  const [item] = result.items;
  if (!item) throw new Error('expected exactly one item');
  return { ...item, event: alertEventSchema.parse(item.event) };
}

function reasonFor(json: unknown, mapping: unknown): string {
  const result = normalise(json, mapping);
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.reason;
}

const minimal = { fingerprint: 'id', status: 'state', title: 'name' };

describe('normaliseGenericBody with the recommended Datadog mapping', () => {
  it('turns a Triggered P1 monitor into an urgent, critical firing alert for its alert cycle', () => {
    const normalised = only(fixture('datadog.triggered'), DATADOG);

    expect(normalised.urgent).toBe(true);
    expect(normalised.dedupeKey).toBe('generic:src_generic:7638422019284756301:firing:2026-11-21T13:02:00.000Z');
    expect(normalised.occurredAt.toISOString()).toBe('2026-11-21T13:02:00.000Z');
    expect(normalised.event).toEqual({
      kind: 'alert',
      source: 'generic',
      sourceId: 'src_generic',
      channelId: 'c_ops',
      fingerprint: '7638422019284756301',
      groupKey: '148293017',
      status: 'firing',
      severity: 'critical',
      title: '[P1] [Triggered on {service:checkout}] Checkout p95 latency above 2s',
      labels: { scope: 'service:checkout', tags: 'env:production,service:checkout,team:payments' },
      annotations: { description: expect.stringContaining('p95 latency of checkout-api is 2.84s') },
      startsAt: '2026-11-21T13:02:00.000Z',
      endsAt: null,
      links: [{ label: 'source', url: 'https://app.datadoghq.com/event/event?id=7638422019284756301' }],
      actor: null,
    });
  });

  it('turns Recovered into a resolved event for the same alert, ended on receipt', () => {
    const triggered = only(fixture('datadog.triggered'), DATADOG);
    const recovered = only(fixture('datadog.recovered'), DATADOG);

    expect(recovered.event).toMatchObject({ status: 'resolved', fingerprint: triggered.event.fingerprint, groupKey: '148293017', endsAt: RECEIVED_AT });
    expect(recovered.urgent).toBe(false);
    expect(recovered.dedupeKey).not.toBe(triggered.dedupeKey);
  });

  it('ships a payload template whose fields are the ones its mapping reads', () => {
    const template: unknown = JSON.parse(recommendedMappings.datadog.template ?? '');

    expect(Object.keys(template as object).sort()).toEqual(Object.keys(fixture('datadog.triggered')).sort());
    expect(recommendedMappings.datadog.template).toContain('$ALERT_CYCLE_KEY');
    expect(genericMappingSchema.safeParse(DATADOG).success).toBe(true);
  });

  it('reads Warn and No Data as firing', () => {
    for (const transition of ['Warn', 'Re-Warn', 'No Data', 'Re-Triggered']) {
      expect(only({ ...fixture('datadog.triggered'), transition }, DATADOG).event.status).toBe('firing');
    }
  });
});

describe('normaliseGenericBody with the recommended Opsgenie mapping', () => {
  it('turns a Create into a firing alert keyed by the alias, starting when Opsgenie created it', () => {
    const { event, urgent } = only(fixture('opsgenie.create'), OPSGENIE);

    expect(event).toMatchObject({
      fingerprint: 'checkout-error-rate',
      groupKey: 'checkout-error-rate',
      status: 'firing',
      severity: 'critical',
      title: 'Checkout error rate above 5%',
      labels: { service: 'checkout', region: 'eu-west-1' },
      annotations: { description: '5xx ratio on checkout-api is 7.4% over the last 5 minutes.' },
      startsAt: '2026-11-21T13:02:02.113Z',
      links: [],
    });
    expect(urgent).toBe(true);
  });

  it('reads Acknowledge as acknowledged and Close and Delete as resolved', () => {
    const statusOf = (action: string) => only({ ...fixture('opsgenie.create'), action }, OPSGENIE).event.status;

    expect(['Acknowledge', 'UnAcknowledge', 'Close', 'Delete'].map(statusOf)).toEqual(['acknowledged', 'firing', 'resolved', 'resolved']);
  });

  it('quarantines an action the mapping does not know, saying where to add it', () => {
    expect(reasonFor({ ...fixture('opsgenie.create'), action: 'AddNote' }, OPSGENIE)).toMatch(/"AddNote" at "action".*resolvedValues/);
  });
});

describe('normaliseGenericBody', () => {
  it('matches the default status values case-insensitively', () => {
    const statusOf = (state: string) => only({ id: 'a1', state, name: 'Disk full' }, minimal).event.status;

    expect([statusOf('FIRING'), statusOf('Acknowledged'), statusOf('OK'), statusOf('recovered')]).toEqual(['firing', 'acknowledged', 'resolved', 'resolved']);
  });

  it('follows dot paths through objects and array indexes, and accepts numbers as text', () => {
    const body = { alerts: [{ id: 4711, check: { name: 'Disk full' }, status: 'problem', host: { name: 'db-1', zone: 'b', tags: ['x'] } }] };
    const mapping = { fingerprint: 'alerts.0.id', status: 'alerts.0.status', title: 'alerts.0.check.name', labels: 'alerts.0.host' };
    const { event } = only(body, mapping);

    expect(event).toMatchObject({ fingerprint: '4711', groupKey: '4711', title: 'Disk full', status: 'firing', labels: { name: 'db-1', zone: 'b' } });
  });

  it('without a startsAt path, starts the alert when Tacit received it', () => {
    const { event, dedupeKey } = only({ id: 'a1', state: 'firing', name: 'Disk full' }, minimal);

    expect(event.startsAt).toBe(RECEIVED_AT);
    expect(event.severity).toBe('warning');
    expect(dedupeKey).toMatch(/^generic:src_generic:a1:firing:body-[0-9a-f]{32}$/);
  });

  it('without a startsAt path, gives a redelivery of the same body the same dedupe key, whenever it arrives', () => {
    const keyOf = (json: unknown, receivedAt: string) => {
      const result = normaliseGenericBody(json, { source: { id: 'src_generic', channelId: 'c_ops', settings: { mapping: minimal } }, headers: {}, receivedAt: new Date(receivedAt) });
      if (!result.ok) throw new Error(result.reason);
      return result.items[0]?.dedupeKey;
    };
    const body = { id: 'a1', state: 'firing', name: 'Disk full', host: { name: 'db-1', zone: 'eu' } };
    const first = keyOf(body, RECEIVED_AT);

    expect(keyOf(body, '2026-11-21T13:45:00.000Z')).toBe(first);
    // Re-serialised by the sender (keys in another order): the same content.
    expect(keyOf({ host: { zone: 'eu', name: 'db-1' }, name: 'Disk full', state: 'firing', id: 'a1' }, RECEIVED_AT)).toBe(first);
    // Anything else in the body differs: news, not a retry.
    expect(keyOf({ ...body, host: { name: 'db-2', zone: 'eu' } }, RECEIVED_AT)).not.toBe(first);
    expect(keyOf({ ...body, state: 'resolved' }, RECEIVED_AT)).not.toBe(first);
  });

  it('reads ISO times, Unix seconds and Unix milliseconds as the start', () => {
    const startOf = (at: unknown) => only({ id: 'a1', state: 'firing', name: 'x', at }, { ...minimal, startsAt: 'at' }).event.startsAt;

    expect(startOf('2026-11-21T14:02:00+01:00')).toBe('2026-11-21T13:02:00.000Z');
    expect(startOf(1795266120)).toBe('2026-11-21T13:02:00.000Z');
    expect(startOf(1795266120000)).toBe('2026-11-21T13:02:00.000Z');
  });

  it('rejects a start that is not a time, naming the path', () => {
    expect(reasonFor({ id: 'a1', state: 'firing', name: 'x', at: 'soon' }, { ...minimal, startsAt: 'at' })).toMatch(/"at" \(mapping\.startsAt\)/);
  });

  it('rejects a body missing a required field, naming the field and the path', () => {
    expect(reasonFor({ state: 'firing', name: 'x' }, minimal)).toMatch(/no fingerprint at "id"/);
    expect(reasonFor({ id: 'a1', name: 'x' }, minimal)).toMatch(/no status at "state"/);
    expect(reasonFor({ id: 'a1', state: 'firing', name: { text: 'x' } }, minimal)).toMatch(/no title at "name"/);
  });

  it('rejects an unknown status value', () => {
    expect(reasonFor({ id: 'a1', state: 'maybe', name: 'x' }, minimal)).toMatch(/unknown status value "maybe"/);
  });

  it('rejects labels that are not an object', () => {
    expect(reasonFor({ id: 'a1', state: 'firing', name: 'x', tags: 'a,b' }, { ...minimal, labels: 'tags' })).toMatch(/mapping\.labels/);
  });

  it('rejects a source without a mapping, or with a mapping missing a required path', () => {
    expect(reasonFor({ id: 'a1' }, undefined)).toMatch(/invalid generic mapping/);
    expect(reasonFor({ id: 'a1' }, { fingerprint: 'id', status: 'state' })).toMatch(/mapping.*title/);
  });
});
