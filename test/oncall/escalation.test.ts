// The messages of an escalation step: who is messaged, who is passed over and why, and that the
// thread reminder the brain already wrote is not written twice.
import { describe, expect, it } from 'vitest';
import type { DueStep } from '../../src/core/escalation.js';
import { readSettings } from '../../src/core/settings.js';
import { inPersonalQuietHours, planEscalation, reminderKey } from '../../src/oncall/escalation.js';
import type { OnCallRoster } from '../../src/oncall/who.js';
import { makeIncident } from '../support/incident.js';

const now = new Date('2026-12-01T02:30:00Z'); // 03:30 in Berlin
const time = { now, timezone: 'UTC' };
const roster: OnCallRoster = {
  via: 'pagerduty', until: null,
  levels: [[{ personId: 'alice', label: 'alice' }, { personId: null, label: 'Dana (dana@example.com)' }], [{ personId: 'bob', label: 'bob' }]],
};
const settings = readSettings({ escalation: { severities: ['critical', 'warning'] }, oncall: { quietHours: { alice: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' } } } });
const step = (index: number): DueStep => ({ incidentId: 'inc_1', index, step: settings.escalation.steps[index] ?? { afterMs: 60_000, to: 'thread' } });

describe('an escalation step', () => {
  it('DMs the level\'s people with a key per step and person, and passes over who cannot be messaged', async () => {
    const incident = makeIncident({ announced: true, severity: 'critical' });
    const plan = await planEscalation([{ incident, due: step(1) }], settings, [], 'dec_1', time, async () => roster);
    expect(plan.messages.map((m) => [m.purpose, m.anchor, m.message.notify])).toEqual([['escalation', { type: 'dm', personId: 'alice' }, 'alice']]);
    expect(plan.messages[0]?.idempotencyKey).toBe(`incident:inc_1:escalation:${incident.startedAt.toISOString()}:2:alice`);
    expect(plan.steps[0]).toMatchObject({ step: 2, to: 'level 1', via: 'pagerduty', notified: ['alice'], skipped: [{ who: 'Dana (dana@example.com)', why: 'no chat person mapped (oncall.people)' }] });
  });

  it('respects personal quiet hours for non-critical incidents only', async () => {
    expect(inPersonalQuietHours({ start: '22:00', end: '07:00', timezone: 'Europe/Berlin' }, now)).toBe(true);
    const warning = makeIncident({ announced: true, severity: 'warning' });
    const quiet = await planEscalation([{ incident: warning, due: step(1) }], settings, [], null, time, async () => roster);
    expect(quiet.messages).toEqual([]);
    expect(quiet.steps[0]?.skipped.map((s) => s.who)).toEqual(['alice', 'Dana (dana@example.com)']);
    const critical = await planEscalation([{ incident: makeIncident({ announced: true }), due: step(1) }], settings, [], null, time, async () => roster);
    expect(critical.messages).toHaveLength(1);
  });

  it('asks the last level again when the policy has more steps than the on-call has levels', async () => {
    const plan = await planEscalation([{ incident: makeIncident({ announced: true }), due: step(2) }], settings, [], null, time, async () => ({ ...roster, levels: [[{ personId: 'bob', label: 'bob' }]] }));
    expect(plan.steps[0]).toMatchObject({ to: 'level 2', notified: ['bob'] });
  });

  it('writes the thread reminder only when the brain did not, and never asks who is on call for it', async () => {
    const incident = makeIncident({ announced: true });
    let asked = 0;
    const who = async () => {
      asked++;
      return roster;
    };
    const own = await planEscalation([{ incident, due: step(0) }], settings, [], null, time, who);
    expect(own.messages.map((m) => [m.idempotencyKey, m.purpose, m.anchor.type])).toEqual([[reminderKey(incident), 'nudge', 'incident_thread']]);
    const brainWrote = await planEscalation([{ incident, due: step(0) }], settings, own.messages, null, time, who);
    expect(brainWrote.messages).toEqual([]);
    expect(brainWrote.steps[0]).toMatchObject({ to: 'thread', keys: [reminderKey(incident)] });
    expect(asked).toBe(0);
  });
});
