// Flapping and sender acknowledgements: an alert that keeps resolving and re-firing is one incident
// marked flapping, not a stream of announcements.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/core/events.js';
import { applyAlerts, type Incident, type TransitionKind } from '../../src/core/incidents.js';

const base: AlertEvent = {
  kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: 'fp', groupKey: 'g', status: 'firing',
  severity: 'critical', title: 'Checkout 5xx', labels: {}, annotations: {}, startsAt: '', endsAt: null, links: [],
  actor: null, channelId: 'c',
};

function run(events: AlertEvent[], oneTickEach: boolean): { incident: Incident | undefined; transitions: TransitionKind[] } {
  let known = new Map<string, Incident>();
  const transitions: TransitionKind[] = [];
  let n = 0;
  const batches = oneTickEach ? events.map((e) => [e]) : [events];
  for (const batch of batches) {
    const result = applyAlerts('ws', known, batch.map((alert) => ({ eventId: ++n, alert })), () => 'inc_1');
    known = new Map([...known, ...result.changed]);
    transitions.push(...result.transitions.map((t) => t.kind));
  }
  return { incident: [...known.values()][0], transitions };
}

function cycles(count: number, start = Date.parse('2026-11-27T10:00:00Z'), everyMs = 60_000): AlertEvent[] {
  const events: AlertEvent[] = [];
  for (let i = 0; i < count; i++) {
    const startsAt = new Date(start + i * everyMs).toISOString();
    const endsAt = new Date(start + i * everyMs + everyMs / 2).toISOString();
    events.push({ ...base, startsAt }, { ...base, status: 'resolved', startsAt, endsAt });
  }
  return events;
}

describe('flapping', () => {
  it('turns 10 fire/resolve cycles in 10 minutes into one incident marked flapping, announced once', () => {
    const { incident, transitions } = run(cycles(10), true);
    expect(incident?.flapping).toBe(true);
    expect(incident?.recurrences).toBe(9);
    expect(transitions.filter((t) => t === 'opened')).toHaveLength(1);
    expect(transitions.filter((t) => t === 'flapping')).toHaveLength(1);
    // Recognised on the first re-fire after a resolve; after that, only card updates (no resolution notes).
    expect(transitions.slice(0, 3)).toEqual(['opened', 'resolved', 'flapping']);
    expect(transitions.slice(3).every((t) => t === 'changed')).toBe(true);
  });

  it('calls the first re-fire within the flapping window flapping, and one after it a recurrence', () => {
    const start = Date.parse('2026-11-27T10:00:00Z');
    const at = (ms: number) => new Date(start + ms).toISOString();
    const soon = run([{ ...base, startsAt: at(0) }, { ...base, status: 'resolved', startsAt: at(0), endsAt: at(60_000) }, { ...base, startsAt: at(10 * 60_000) }], true);
    expect(soon.transitions).toEqual(['opened', 'resolved', 'flapping']);
    expect(soon.incident?.flapping).toBe(true);
    const late = run([{ ...base, startsAt: at(0) }, { ...base, status: 'resolved', startsAt: at(0), endsAt: at(60_000) }, { ...base, startsAt: at(45 * 60_000) }], true);
    expect(late.transitions).toEqual(['opened', 'resolved', 'recurred']);
  });

  it('collapses the same cycles arriving in one batch into a single transition', () => {
    const { incident, transitions } = run(cycles(10), false);
    expect(incident?.flapping).toBe(true);
    expect(transitions).toEqual(['flapping']);
  });

  it('does not call slow recurrences flapping', () => {
    const { incident, transitions } = run(cycles(3, Date.parse('2026-11-27T10:00:00Z'), 2 * 60 * 60_000), true);
    expect(incident?.flapping).toBe(false);
    expect(transitions).toEqual(['opened', 'resolved', 'recurred', 'resolved', 'recurred', 'resolved']);
  });
});

describe("a sender's acknowledgement", () => {
  it('marks a firing incident acknowledged by the person the sender names', () => {
    const startsAt = '2026-11-27T10:00:00Z';
    const { incident, transitions } = run(
      [{ ...base, source: 'pagerduty', startsAt }, { ...base, source: 'pagerduty', status: 'acknowledged', startsAt, actor: 'Dana' }],
      true,
    );
    expect(incident?.status).toBe('acknowledged');
    expect(incident?.acknowledgedBy).toBe('Dana');
    expect(transitions).toEqual(['opened', 'changed']);
  });
});
