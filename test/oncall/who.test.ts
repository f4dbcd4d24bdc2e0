// Who is on call, through the PagerDuty stand-in speaking /oncalls and /users/{id}, with the
// rotation and the on-call list as fallbacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Integration } from '../../src/actions/integrations.js';
import { readSettings } from '../../src/core/settings.js';
import { PagerdutyRejectedError } from '../../src/oncall/errors.js';
import { fetchOnCalls } from '../../src/oncall/pagerduty-oncalls.js';
import { describeRoster, whoIsOnCall } from '../../src/oncall/who.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';

const now = new Date('2026-12-01T10:00:00Z');

describe('who is on call', () => {
  let pd: FakePagerduty;
  let integration: Integration;
  beforeAll(async () => {
    pd = await startFakePagerduty({ token: 'pd-token' });
    pd.oncalls.users.set('PALICE1', { id: 'PALICE1', name: 'Alice Ng', email: 'Alice@Example.com' });
    pd.oncalls.users.set('PBOB001', { id: 'PBOB001', name: 'Bob Ruiz', email: 'bob@example.com' });
    pd.oncalls.users.set('PCAROL1', { id: 'PCAROL1', name: 'Carol Ito', email: 'carol@example.com' });
    pd.oncalls.entries.push(
      { userId: 'PALICE1', level: 1, escalationPolicyId: 'PEP0001', scheduleId: 'PSCHED1', start: '2026-11-30T09:00:00Z', end: '2026-12-07T09:00:00Z' },
      { userId: 'PCAROL1', level: 1, escalationPolicyId: 'PEP0001', scheduleId: 'PSCHED1', start: '2026-11-23T09:00:00Z', end: '2026-11-30T09:00:00Z' },
      { userId: 'PBOB001', level: 2, escalationPolicyId: 'PEP0001', start: null, end: null },
      { userId: 'PCAROL1', level: 1, escalationPolicyId: 'POTHER1', start: null, end: null },
    );
    integration = { id: 'int_1', workspaceId: 'ws', kind: 'pagerduty', name: 'default', settings: { apiUrl: pd.apiUrl, fromEmail: 'tacit@example.com' }, secrets: { token: 'pd-token' } };
  });
  afterAll(() => pd?.close());

  it('reads the escalation policy\'s levels at the given time, with emails', async () => {
    const list = await fetchOnCalls({ apiUrl: pd.apiUrl, token: 'pd-token', escalationPolicyIds: ['PEP0001'], scheduleIds: [] }, now, AbortSignal.timeout(5_000));
    expect(list).toEqual([
      { level: 1, userId: 'PALICE1', name: 'Alice Ng', email: 'alice@example.com', end: '2026-12-07T09:00:00Z' },
      { level: 2, userId: 'PBOB001', name: 'Bob Ruiz', email: 'bob@example.com', end: null },
    ]);
    const asked = pd.calls.find((c) => c.path === '/oncalls');
    expect(asked?.status).toBe(200);
  });

  it('is refused without the token, as PagerDuty refuses it', async () => {
    await expect(fetchOnCalls({ apiUrl: pd.apiUrl, token: 'wrong', escalationPolicyIds: ['PEP0001'], scheduleIds: [] }, now, AbortSignal.timeout(5_000)))
      .rejects.toThrow(PagerdutyRejectedError);
    const res = await fetch(`${pd.apiUrl}/users/PALICE1`);
    expect(res.status).toBe(401);
  });

  it('maps PagerDuty people to chat people by email, and says who cannot be messaged', async () => {
    const settings = readSettings({ oncall: { pagerduty: { escalationPolicyIds: ['PEP0001'] }, people: { 'alice@example.com': 'alice' } } });
    const roster = await whoIsOnCall({ pagerduty: async () => integration }, 'ws', settings, now);
    expect(roster).toMatchObject({ via: 'pagerduty', until: new Date('2026-12-07T09:00:00Z') });
    expect(roster.levels).toEqual([[{ personId: 'alice', label: 'alice' }], [{ personId: null, label: 'Bob Ruiz (bob@example.com)' }]]);
    expect(describeRoster(roster, (d) => d.toISOString())[2]).toBe('Level 2: Bob Ruiz (bob@example.com) — no chat person mapped, cannot be messaged');
  });

  it('falls back to the rotation when PagerDuty refuses, saying why', async () => {
    const settings = readSettings({
      oncall: { pagerduty: { escalationPolicyIds: ['PEP0001'] }, rotation: { people: ['bob', 'alice'], startDate: '2026-11-30' } },
    });
    const roster = await whoIsOnCall({ pagerduty: async () => ({ ...integration, secrets: { token: 'revoked' } }) }, 'ws', settings, now);
    expect(roster.via).toBe('rotation');
    expect(roster.levels.map((l) => l[0]?.personId)).toEqual(['bob', 'alice']);
    expect(roster.problem).toMatch(/answered 401/);
  });

  it('uses the on-call list when there is neither PagerDuty nor a rotation', async () => {
    const roster = await whoIsOnCall({ pagerduty: async () => undefined }, 'ws', readSettings({ onCall: ['alice'] }), now);
    expect(roster).toMatchObject({ via: 'on-call list', levels: [[{ personId: 'alice' }]] });
  });
});
