// Alertmanager webhook payloads (version 4) normalised into alert events.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertmanagerPayloadSchema, normaliseAlertmanager, type AlertmanagerPayload } from '../../../src/sources/alerts/alertmanager.js';

const SOURCE = { id: 'src_1', channelId: 'c1' };
const FINGERPRINT = '0f4c2b7a9e1d3c55';
const STARTS_AT = '2026-11-20T09:14:05.123Z';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/alertmanager/${name}`, import.meta.url), 'utf8'));
}

function parse(body: unknown): AlertmanagerPayload {
  return alertmanagerPayloadSchema.parse(body);
}

function only<T>(values: T[]): T {
  expect(values).toHaveLength(1);
  const [first] = values;
  if (first === undefined) throw new Error('expected exactly one value');
  return first;
}

/** A minimal valid payload with one alert, for cases the fixtures do not cover. */
function payload(alert: Record<string, unknown>, extra: Record<string, unknown> = {}): AlertmanagerPayload {
  return parse({
    version: '4',
    groupKey: '{}:{alertname="HighLatency"}',
    status: 'firing',
    receiver: 'tacit',
    alerts: [{ status: 'firing', startsAt: STARTS_AT, ...alert }],
    ...extra,
  });
}

describe('alertmanagerPayloadSchema', () => {
  it('accepts the real firing and resolved payloads', () => {
    expect(alertmanagerPayloadSchema.safeParse(fixture('firing.json')).success).toBe(true);
    expect(alertmanagerPayloadSchema.safeParse(fixture('resolved.json')).success).toBe(true);
  });

  it('rejects a payload of version "3"', () => {
    const body = { ...(fixture('firing.json') as Record<string, unknown>), version: '3' };

    expect(alertmanagerPayloadSchema.safeParse(body).success).toBe(false);
  });

  it('rejects a payload with no alerts', () => {
    const body = { ...(fixture('firing.json') as Record<string, unknown>), alerts: [] };

    expect(alertmanagerPayloadSchema.safeParse(body).success).toBe(false);
  });
});

describe('normaliseAlertmanager', () => {
  it('turns the firing fixture into one urgent, critical firing event', () => {
    const normalised = only(normaliseAlertmanager(parse(fixture('firing.json')), SOURCE));

    expect(normalised.urgent).toBe(true);
    expect(normalised.occurredAt.toISOString()).toBe(STARTS_AT);
    expect(normalised.event).toMatchObject({
      kind: 'alert',
      source: 'alertmanager',
      sourceId: 'src_1',
      channelId: 'c1',
      fingerprint: FINGERPRINT,
      status: 'firing',
      severity: 'critical',
      title: 'Pod is crash looping.',
      startsAt: STARTS_AT,
      endsAt: null,
    });
  });

  it('links to the generator and to Alertmanager', () => {
    const { event } = only(normaliseAlertmanager(parse(fixture('firing.json')), SOURCE));
    const urls = event.links.map((l) => l.url);

    expect(urls).toContain(
      'http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Breason%3D%22CrashLoopBackOff%22%7D%5B5m%5D%29+%3E%3D+1&g0.tab=1',
    );
    expect(urls).toContain('http://alertmanager-main-0:9093');
  });

  it('builds a dedupe key from fingerprint, startsAt and status', () => {
    const { dedupeKey } = only(normaliseAlertmanager(parse(fixture('firing.json')), SOURCE));

    expect(dedupeKey).toContain(FINGERPRINT);
    expect(dedupeKey).toContain(STARTS_AT);
    expect(dedupeKey).toContain('firing');
  });

  it('turns the resolved fixture into a non-urgent event with its end time and a different dedupe key', () => {
    const firing = only(normaliseAlertmanager(parse(fixture('firing.json')), SOURCE));
    const resolved = only(normaliseAlertmanager(parse(fixture('resolved.json')), SOURCE));

    expect(resolved.event.status).toBe('resolved');
    expect(resolved.event.endsAt).toBe('2026-11-20T09:41:35.456Z');
    expect(resolved.occurredAt.toISOString()).toBe('2026-11-20T09:41:35.456Z');
    expect(resolved.urgent).toBe(false);
    expect(resolved.event.fingerprint).toBe(firing.event.fingerprint);
    expect(resolved.event.groupKey).toBe(firing.event.groupKey);
    expect(resolved.dedupeKey).not.toBe(firing.dedupeKey);
  });

  it('gives an alert without a fingerprint a stable fingerprint derived from its labels', () => {
    const fingerprintOf = (labels: Record<string, string>) =>
      only(normaliseAlertmanager(payload({ labels }), SOURCE)).event.fingerprint;

    const a = fingerprintOf({ alertname: 'HighLatency', service: 'api' });
    const sameReordered = fingerprintOf({ service: 'api', alertname: 'HighLatency' });
    const other = fingerprintOf({ alertname: 'HighLatency', service: 'web' });

    expect(a).toMatch(/\S/);
    expect(sameReordered).toBe(a);
    expect(other).not.toBe(a);
  });

  it('gives different label sets different fingerprints even when values contain separators', () => {
    const fingerprintOf = (labels: Record<string, string>) =>
      only(normaliseAlertmanager(payload({ labels }), SOURCE)).event.fingerprint;

    expect(fingerprintOf({ a: 'x\nb=y' })).not.toBe(fingerprintOf({ a: 'x', b: 'y' }));
  });

  it('does not treat a firing warning as urgent', () => {
    const normalised = only(normaliseAlertmanager(payload({ labels: { alertname: 'HighLatency', severity: 'warning' } }), SOURCE));

    expect(normalised.event.severity).toBe('warning');
    expect(normalised.urgent).toBe(false);
  });

  it('falls back to the alert name for the title when there is no summary', () => {
    const normalised = only(normaliseAlertmanager(payload({ labels: { alertname: 'HighLatency' } }), SOURCE));

    expect(normalised.event.title).toBe('HighLatency');
  });
});
