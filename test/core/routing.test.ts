import { describe, expect, it } from 'vitest';
import { routeSchema, type Route } from '../../src/core/oncall-settings.js';
import { describeRoute, incidentSourceId, matches, pickRoute } from '../../src/core/routing.js';

const route = (r: Record<string, unknown>): Route => routeSchema.parse(r);
const subject = (labels: Record<string, string>, severity: 'critical' | 'warning' | 'info' = 'warning') => ({ sourceId: 'src_1', sourceKind: 'alertmanager', labels, severity });

describe('routing rules', () => {
  const rules = [
    route({ matchers: [{ name: 'team', op: '=', value: 'payments' }, { name: 'severity', op: '=', value: 'critical' }], channelId: 'c-payments' }),
    route({ matchers: [{ name: 'env', op: '=~', value: 'staging|dev' }], proactive: false }),
    route({ source: 'grafana', channelId: 'c-grafana' }),
  ];

  it('sends a team=payments, severity=critical alert to the payments channel and others to the default', () => {
    expect(pickRoute(rules, subject({ team: 'payments' }, 'critical'))).toMatchObject({ kind: 'matched', index: 0, route: { channelId: 'c-payments' } });
    expect(pickRoute(rules, subject({ team: 'payments' }, 'warning'))).toEqual({ kind: 'default' });
    expect(pickRoute(rules, subject({ team: 'search' }, 'critical'))).toEqual({ kind: 'default' });
  });

  it('lets the first matching rule win', () => {
    const both = [route({ matchers: [{ name: 'team', op: '=', value: 'payments' }], channelId: 'first' }), route({ matchers: [], channelId: 'second' })];
    expect(pickRoute(both, subject({ team: 'payments' }))).toMatchObject({ index: 0 });
    expect(pickRoute(both, subject({ team: 'other' }))).toMatchObject({ index: 1 });
  });

  it('anchors regex matchers like Alertmanager, and treats a missing label as empty', () => {
    expect(matches({ name: 'env', op: '=~', value: 'staging|dev' }, { env: 'staging' })).toBe(true);
    expect(matches({ name: 'env', op: '=~', value: 'stag' }, { env: 'staging' })).toBe(false);
    expect(matches({ name: 'env', op: '!~', value: 'prod.*' }, { env: 'production' })).toBe(false);
    expect(matches({ name: 'env', op: '!=', value: 'prod' }, {})).toBe(true);
    expect(matches({ name: 'env', op: '=', value: '' }, {})).toBe(true);
    expect(pickRoute(rules, subject({ env: 'dev' }))).toMatchObject({ index: 1, route: { proactive: false } });
  });

  it('matches a source by kind or by id', () => {
    expect(pickRoute(rules, { ...subject({}), sourceKind: 'grafana' })).toMatchObject({ index: 2 });
    expect(pickRoute([route({ source: 'src_1', channelId: 'x' })], subject({}))).toMatchObject({ index: 0 });
  });

  it('refuses a regex that does not compile', () => {
    expect(routeSchema.safeParse({ matchers: [{ name: 'a', op: '=~', value: '(' }], channelId: 'x' }).success).toBe(false);
  });

  it('finds the source of an incident in its group label and describes rules as people write them', () => {
    expect(incidentSourceId({ groupKey: 'src_9|{}/{a="b"}', groupLabel: null })).toBe('src_9');
    expect(incidentSourceId({ groupKey: 'sha256:ab', groupLabel: 'src_7|long' })).toBe('src_7');
    expect(describeRoute(rules[0] as Route, () => 'payments-oncall')).toBe('team=payments severity=critical → #payments-oncall');
    expect(describeRoute(rules[1] as Route, String)).toBe('env=~"staging|dev" → proactive off (tracked, never posted)');
  });
});
