// Bounded keys: what reaches a unique index or a person has a bounded size, and the same text always
// bounds the same way.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/core/events.js';
import { applyAlerts, incidentGroupKey } from '../../src/core/incidents.js';
import { boundKey, displayKey, isHashedKey, MAX_KEY_LENGTH } from '../../src/core/keys.js';

describe('boundKey', () => {
  it('keeps keys up to the limit as they are', () => {
    expect(boundKey('alert:src_1:0f4c2b7a9e1d3c55:2026-11-20T09:14:05.123Z:firing')).toBe('alert:src_1:0f4c2b7a9e1d3c55:2026-11-20T09:14:05.123Z:firing');
    const atLimit = 'k'.repeat(MAX_KEY_LENGTH);
    expect(boundKey(atLimit)).toBe(atLimit);
    expect(isHashedKey(atLimit)).toBe(false);
  });

  it('replaces a longer key by the SHA-256 of its text, the same every time', () => {
    const long = `{}/{cluster="${'c'.repeat(3_000)}"}`;
    const bounded = boundKey(long);

    expect(bounded).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(isHashedKey(bounded)).toBe(true);
    expect(boundKey(long)).toBe(bounded);
    expect(boundKey(`${long}x`)).not.toBe(bounded);
    // Multi-byte text: bounded by characters, so the index row stays far below PostgreSQL's 2,704 bytes.
    expect(Buffer.byteLength(boundKey('🔥'.repeat(MAX_KEY_LENGTH / 2)))).toBeLessThanOrEqual(4 * MAX_KEY_LENGTH);
  });
});

describe('displayKey', () => {
  it('shows short keys whole and long ones as a start plus a hash that tells them apart', () => {
    expect(displayKey('0f4c2b7a9e1d3c55')).toBe('0f4c2b7a9e1d3c55');
    const a = displayKey(`${'f'.repeat(3_000)}a`);
    const b = displayKey(`${'f'.repeat(3_000)}b`);
    expect(a.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
  });
});

describe('incident group keys', () => {
  const alert = (groupKey: string, fingerprint = 'fp1'): AlertEvent => ({
    kind: 'alert', source: 'alertmanager', sourceId: 'src_am', fingerprint, groupKey, status: 'firing', severity: 'critical', title: 'Node down',
    labels: {}, annotations: {}, startsAt: '2026-12-01T10:00:00Z', endsAt: null, links: [], actor: null, channelId: 'c1',
  });

  it('keeps a realistic Alertmanager group key readable, with no separate label', () => {
    const groupKey = '{}/{severity="critical"}:{alertname="NodeDown", cluster="prod-eu-1"}';
    const { changed } = applyAlerts('w1', new Map(), [{ eventId: 1, alert: alert(groupKey) }], () => 'inc_1');
    const [incident] = [...changed.values()];

    expect(incident?.groupKey).toBe(`src_am|${groupKey}`);
    expect(incident?.groupLabel).toBeNull();
  });

  it('hashes a 3,000-character group key and keeps the original as the incident label; its alerts still group together', () => {
    const groupKey = `{}/{cluster="${'c'.repeat(3_000)}"}`;
    const { changed } = applyAlerts('w1', new Map(), [{ eventId: 1, alert: alert(groupKey, 'a') }, { eventId: 2, alert: alert(groupKey, 'b') }], () => 'inc_1');

    expect(changed.size).toBe(1);
    const [incident] = [...changed.values()];
    expect(incident?.groupKey).toBe(incidentGroupKey(alert(groupKey)));
    expect(incident?.groupKey).toMatch(/^sha256:/);
    expect(incident?.groupLabel).toBe(`src_am|${groupKey}`);
    expect(Object.keys(incident?.alerts ?? {})).toEqual(['a', 'b']);
  });
});
