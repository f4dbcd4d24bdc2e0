import { describe, expect, it } from 'vitest';
import { dueSteps, nextStepAt, stepJustTaken, takeStep } from '../../src/core/escalation.js';
import { readSettings } from '../../src/core/settings.js';
import { makeIncident } from '../support/incident.js';

const settings = readSettings({});
const card = new Date('2026-11-20T09:15:00Z');
const at = (min: number) => new Date(card.getTime() + min * 60_000);

describe('the escalation policy', () => {
  const critical = makeIncident({ announced: true, announcedAt: card, severity: 'critical' });

  it('defaults to a reminder at 5 min, DM level 1 at 15, level 2 at 30, for critical incidents', () => {
    expect(settings.escalation.steps.map((s) => [s.afterMs / 60_000, s.to])).toEqual([[5, 'thread'], [15, { level: 1 }], [30, { level: 2 }]]);
    expect(nextStepAt([critical], settings, at(0))).toEqual(at(5));
    expect(dueSteps([critical], settings, at(4))).toEqual([]);
    const [first] = dueSteps([critical], settings, at(5));
    expect(first).toMatchObject({ index: 0, step: { to: 'thread' } });
    const reminded = takeStep(critical, first ?? { incidentId: '', index: 0, step: { afterMs: 0, to: 'thread' } }, at(5));
    expect(reminded).toMatchObject({ escalationLevel: 1, nudgedAt: at(5) });
    expect(stepJustTaken(reminded, settings, at(5))).toMatchObject({ index: 0 });
    expect(nextStepAt([reminded], settings, at(5))).toEqual(at(15));
    const [second] = dueSteps([reminded], settings, at(15));
    expect(second).toMatchObject({ index: 1, step: { to: { level: 1 } } });
  });

  it('stops at the first acknowledgement and never escalates an unannounced or resolved incident', () => {
    for (const i of [{ ...critical, status: 'acknowledged' as const }, { ...critical, status: 'resolved' as const }, { ...critical, announced: false }]) {
      expect(dueSteps([i], settings, at(60))).toEqual([]);
      expect(nextStepAt([i], settings, at(60))).toBeNull();
    }
  });

  it('keeps the single reminder after unacknowledgedAfterMs for severities outside the policy', () => {
    const warning = { ...critical, severity: 'warning' as const };
    expect(nextStepAt([warning], settings, at(0))).toEqual(at(15));
    const [only] = dueSteps([warning], settings, at(15));
    expect(only).toMatchObject({ index: 0, step: { to: 'thread' } });
    const done = takeStep(warning, only ?? { incidentId: '', index: 0, step: { afterMs: 0, to: 'thread' } }, at(15));
    expect(nextStepAt([done], settings, at(15))).toBeNull();
  });

  it('starts again from the first step when the incident recurs', () => {
    const old = { ...critical, escalationLevel: 3, escalatedAt: at(30), nudgedAt: at(5) };
    const back = { ...old, startedAt: at(60), announcedAt: card };
    expect(dueSteps([old], settings, at(90))).toEqual([]);
    expect(dueSteps([back], settings, at(65))).toMatchObject([{ index: 0 }]);
  });

  it('counts a reminder sent before escalation existed as step 1', () => {
    expect(dueSteps([{ ...critical, nudgedAt: at(15) }], settings, at(16))).toMatchObject([{ index: 1 }]);
  });
});

describe('escalation in the workspace\'s quiet hours', () => {
  const quiet = readSettings({ quietHours: { start: '22:00', end: '07:00' }, timezone: 'UTC', escalation: { severities: ['critical', 'warning'] } });
  const night = new Date('2026-11-20T23:00:00Z');
  const incident = makeIncident({ announced: true, announcedAt: night, startedAt: night });

  it('waits for them to end for a non-critical incident, and never for a critical one', () => {
    const later = new Date(night.getTime() + 60 * 60_000);
    expect(dueSteps([{ ...incident, severity: 'warning' }], quiet, later)).toEqual([]);
    expect(nextStepAt([{ ...incident, severity: 'warning' }], quiet, later)).toEqual(new Date('2026-11-21T07:00:00Z'));
    expect(dueSteps([incident], quiet, later)).toMatchObject([{ index: 0 }]);
  });
});
