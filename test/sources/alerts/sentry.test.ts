// Sentry integration-platform webhooks normalised into alert events, told apart by Sentry-Hook-Resource.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertEventSchema, type AlertEvent } from '../../../src/core/events.js';
import { normaliseSentryBody } from '../../../src/sources/alerts/sentry.js';
import type { HeaderMap, Normalised, NormaliseResult, RequestContext } from '../../../src/sources/normalised.js';

const ISSUE_ID = '4820193754';
const RECEIVED_AT = '2026-11-21T13:30:00.000Z';

type Body = { action: string; data: Record<string, Record<string, unknown>> };

function fixture(name: string): Body {
  return JSON.parse(readFileSync(new URL(`../../fixtures/sentry/${name}.json`, import.meta.url), 'utf8')) as Body;
}

/** A fixture with its action or one of its `data` objects changed. */
function variant(name: string, action: string | null, key?: string, changes: Record<string, unknown> = {}): Body {
  const body = fixture(name);
  const data = key ? { ...body.data, [key]: { ...body.data[key], ...changes } } : body.data;
  return { ...body, action: action ?? body.action, data };
}

function normalise(json: unknown, resource: string | undefined, headers: HeaderMap = {}): NormaliseResult<AlertEvent> {
  const context: RequestContext = {
    source: { id: 'src_sentry', channelId: 'c_web', settings: {} },
    headers: { 'sentry-hook-resource': resource, ...headers },
    receivedAt: new Date(RECEIVED_AT),
  };
  return normaliseSentryBody(json, context);
}

function only(json: unknown, resource: string, headers: HeaderMap = {}): Normalised<AlertEvent> {
  const result = normalise(json, resource, headers);
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(result.items).toHaveLength(1);
  const [item] = result.items;
  if (!item) throw new Error('expected exactly one item');
  return { ...item, event: alertEventSchema.parse(item.event) };
}

function reasonFor(json: unknown, resource: string): string {
  const result = normalise(json, resource);
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.reason;
}

describe('normaliseSentryBody: issue alerts (event_alert)', () => {
  it('turns a triggered issue alert into an urgent firing event keyed by the issue', () => {
    const normalised = only(fixture('event_alert.triggered'), 'event_alert', { 'request-id': 'req-51c0' });

    expect(normalised.urgent).toBe(true);
    expect(normalised.dedupeKey).toBe('sentry:src_sentry:req-51c0');
    expect(normalised.occurredAt.toISOString()).toBe('2026-11-21T13:01:58.204Z');
    expect(normalised.event).toMatchObject({
      source: 'sentry',
      sourceId: 'src_sentry',
      channelId: 'c_web',
      fingerprint: ISSUE_ID,
      groupKey: `sentry:issue:${ISSUE_ID}`,
      status: 'firing',
      severity: 'critical',
      title: "TypeError: Cannot read properties of undefined (reading 'token')",
      labels: { project: '4504512', level: 'fatal', culprit: 'submitPayment(checkout/pay)', environment: 'production', rule: 'Checkout crashes' },
      startsAt: '2026-11-21T13:01:58.204000Z',
      endsAt: null,
    });
    expect(normalised.event.links.map((l) => l.url)).toEqual([
      `https://sentry.io/organizations/acme/issues/${ISSUE_ID}/events/9f2c4b7e1a0d4e6b8c3f5a2d7e9b1c40/`,
      `https://sentry.io/api/0/issues/${ISSUE_ID}/`,
    ]);
  });

  it('maps Sentry levels: error and warning are warnings, info and debug are info', () => {
    const severityFor = (level: string) => only(variant('event_alert.triggered', null, 'event', { level }), 'event_alert').event.severity;

    expect(['error', 'warning', 'info', 'debug'].map(severityFor)).toEqual(['warning', 'warning', 'info', 'info']);
  });

  it('starts at the event timestamp (seconds) without a datetime, and at receipt without either', () => {
    const noDatetime = variant('event_alert.triggered', null, 'event', { datetime: undefined });
    const neither = variant('event_alert.triggered', null, 'event', { datetime: undefined, timestamp: undefined });

    expect(only(noDatetime, 'event_alert').event.startsAt).toBe('2026-11-21T13:01:58.204Z');
    expect(only(neither, 'event_alert').event.startsAt).toBe(RECEIVED_AT);
  });

  it('takes the environment from the tags when the event has no environment field', () => {
    const body = variant('event_alert.triggered', null, 'event', { environment: undefined });

    expect(only(body, 'event_alert').event.labels.environment).toBe('production');
  });

  it('without a Request-ID, dedupes on the resource, action, issue and start, stable across deliveries', () => {
    const first = only(fixture('event_alert.triggered'), 'event_alert');
    const again = only(fixture('event_alert.triggered'), 'event_alert');

    expect(first.dedupeKey).toBe(`sentry:src_sentry:event_alert:triggered:${ISSUE_ID}:2026-11-21T13:01:58.204000Z`);
    expect(again.dedupeKey).toBe(first.dedupeKey);
  });

  it('rejects an issue alert without an event, naming the field', () => {
    expect(reasonFor({ action: 'triggered', data: {} }, 'event_alert')).toMatch(/event_alert.*event/);
  });
});

describe('normaliseSentryBody: issues', () => {
  it('turns a resolved issue into a resolved event for the same incident, ended on receipt, naming who resolved it', () => {
    const resolved = only(fixture('issue.resolved'), 'issue');
    const fired = only(fixture('event_alert.triggered'), 'event_alert');

    expect(resolved.event).toMatchObject({
      fingerprint: ISSUE_ID,
      groupKey: fired.event.groupKey,
      status: 'resolved',
      severity: 'critical',
      startsAt: '2026-11-21T13:24:07.551000Z',
      endsAt: RECEIVED_AT,
      actor: 'Dana Ortiz',
      labels: { project: 'shop-web', level: 'fatal', culprit: 'submitPayment(checkout/pay)' },
      links: [{ label: 'sentry', url: `https://sentry.io/organizations/acme/issues/${ISSUE_ID}/` }],
    });
    expect(resolved.urgent).toBe(false);
    expect(resolved.occurredAt.toISOString()).toBe(RECEIVED_AT);
  });

  it('treats an archived issue as resolved', () => {
    expect(only(variant('issue.resolved', 'archived'), 'issue').event.status).toBe('resolved');
  });

  it('starts a created issue when first seen and a regressed (unresolved) one when last seen', () => {
    const created = only(variant('issue.resolved', 'created'), 'issue');
    const unresolved = only(variant('issue.resolved', 'unresolved'), 'issue');

    expect(created.event).toMatchObject({ status: 'firing', startsAt: '2026-11-21T13:01:58.204000Z', endsAt: null, actor: null });
    expect(unresolved.event).toMatchObject({ status: 'firing', startsAt: '2026-11-21T13:24:07.551000Z', endsAt: null });
  });

  it('accepts an assignment and stores nothing for it', () => {
    expect(normalise(variant('issue.resolved', 'assigned'), 'issue')).toEqual({ ok: true, items: [] });
  });

  it('rejects a resolved issue without an id, naming the field', () => {
    expect(reasonFor(variant('issue.resolved', null, 'issue', { id: undefined }), 'issue')).toMatch(/issue\.id/);
  });
});

describe('normaliseSentryBody: metric alerts', () => {
  it('turns a critical metric alert into an urgent firing event keyed by the alert rule', () => {
    const normalised = only(fixture('metric_alert.critical'), 'metric_alert');

    expect(normalised.urgent).toBe(true);
    expect(normalised.event).toMatchObject({
      fingerprint: '218',
      groupKey: 'sentry:metric:218',
      status: 'firing',
      severity: 'critical',
      title: 'Critical: Checkout error spike',
      annotations: { description: '1204 events in the last 10 minutes\nFilter: level:error' },
      labels: { rule: 'Checkout error spike' },
      links: [{ label: 'sentry', url: 'https://sentry.io/organizations/acme/alerts/rules/details/218/' }],
      startsAt: '2026-11-21T13:02:00.000000Z',
      endsAt: null,
    });
  });

  it('turns a warning into a non-urgent warning', () => {
    const { event, urgent } = only(variant('metric_alert.critical', 'warning'), 'metric_alert');

    expect(event.severity).toBe('warning');
    expect(urgent).toBe(false);
  });

  it('resolves the same alert, ending on receipt when Sentry has no close date', () => {
    const { event } = only(variant('metric_alert.critical', 'resolved'), 'metric_alert');

    expect(event).toMatchObject({ fingerprint: '218', status: 'resolved', startsAt: '2026-11-21T13:02:00.000000Z', endsAt: RECEIVED_AT });
  });

  it('falls back to the metric alert id when the rule has no id', () => {
    const body = variant('metric_alert.critical', null, 'metric_alert', { alert_rule: { name: 'Checkout error spike' } });

    expect(only(body, 'metric_alert').event.groupKey).toBe('sentry:metric:9931');
  });

  it('rejects a metric alert without a title', () => {
    const { description_title: _title, ...data } = fixture('metric_alert.critical').data;

    expect(reasonFor({ action: 'critical', data }, 'metric_alert')).toMatch(/description_title/);
  });
});

describe('normaliseSentryBody: other resources', () => {
  it('accepts installation, comment, error, seer and preprod artifact webhooks, and bodies without the header, storing nothing', () => {
    for (const resource of ['installation', 'comment', 'error', 'seer', 'preprod_artifact', undefined]) {
      expect(normalise(fixture('event_alert.triggered'), resource)).toEqual({ ok: true, items: [] });
    }
    expect(normalise({ installation: { uuid: 'a8e5d37a' } }, 'installation')).toEqual({ ok: true, items: [] });
  });

  it('rejects a body without an action', () => {
    expect(reasonFor({ data: {} }, 'issue')).toMatch(/not a Sentry webhook: action/);
  });
});
