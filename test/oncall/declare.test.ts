import { describe, expect, it } from 'vitest';
import { applySteps } from '../../src/oncall/advance.js';
import { mayRespond } from '../../src/oncall/authority.js';
import { declaredGroupKey, parseDeclaration } from '../../src/oncall/declare.js';
import { makeIncident } from '../support/incident.js';

describe('declaring, resolving and syncing steps', () => {
  it('reads a title and an optional trailing severity', () => {
    expect(parseDeclaration(['Checkout', 'is', 'slow', 'critical'])).toEqual({ title: 'Checkout is slow', severity: 'critical' });
    expect(parseDeclaration(['"Search', 'down"'])).toEqual({ title: 'Search down', severity: 'warning' });
    expect(parseDeclaration(['critical'])).toEqual({ title: 'critical', severity: 'warning' });
    expect(parseDeclaration([])).toBeNull();
  });

  it('opens a declared incident once, resolves an open one with a note, and re-renders on a sync', () => {
    const byId = new Map([['inc_b', makeIncident({ id: 'inc_b', announced: true })]]);
    const by = { id: 'U1', name: 'alice' };
    const declare = { kind: 'incident.step' as const, incidentId: 'inc_a', by, step: { type: 'declare' as const, title: 'Checkout slow', severity: 'critical' as const, channelId: 'c1' } };
    const at = new Date('2026-11-20T10:00:00.000Z');
    const out = applySteps(byId, [
      { eventId: 1, occurredAt: at, event: declare },
      { eventId: 2, occurredAt: at, event: declare },
      { eventId: 3, occurredAt: at, event: { kind: 'incident.step', incidentId: 'inc_b', by, step: { type: 'resolve', note: 'rolled back' } } },
      { eventId: 4, occurredAt: at, event: { kind: 'incident.step', incidentId: 'inc_b', by, step: { type: 'resolve', note: '' } } },
      { eventId: 5, occurredAt: at, event: { kind: 'incident.step', incidentId: 'inc_a', by, step: { type: 'synced' } } },
    ], 'ws');
    expect(out.transitions.map((t) => `${t.incidentId} ${t.kind}`)).toEqual(['inc_a opened', 'inc_b resolved', 'inc_a changed']);
    expect(byId.get('inc_a')).toMatchObject({ kind: 'declared', declaredBy: 'alice', status: 'firing', groupKey: declaredGroupKey('inc_a'), version: 2, startedAt: at });
    expect(byId.get('inc_b')).toMatchObject({ status: 'resolved', resolvedAt: at });
    expect(out.notes).toEqual([{ incidentId: 'inc_b', key: expect.stringMatching(/^resolved-by:/), text: 'Resolved by alice: rolled back' }]);
  });

  it('lets members respond, never guests or people from another organisation', () => {
    expect(mayRespond({ id: 'U1' }, 'ack')).toEqual({ allowed: true });
    expect(mayRespond({ id: 'U1', guest: true }, 'resolve')).toMatchObject({ allowed: false, reason: 'guest' });
    expect(mayRespond({ id: 'U1', external: true, admin: true }, 'declare')).toMatchObject({ allowed: false, reason: 'external' });
  });
});
