// Planning turns intents into outbox messages with idempotency keys derived from the news itself.
import { describe, expect, it } from 'vitest';
import { makeIncident } from '../support/incident.js';
import type { Intent } from '../../src/core/decisions.js';
import { stateSignature, type AlertState, type Incident } from '../../src/core/incidents.js';
import type { OutgoingMessage } from '../../src/core/message.js';
import { planMessages } from '../../src/core/plan.js';

const DECISION = 'dec_42';

function firingAlert(overrides: Partial<AlertState> = {}): AlertState {
  return {
    status: 'firing',
    title: 'Pod is crash looping.',
    severity: 'critical',
    labels: { alertname: 'KubePodCrashLooping' },
    annotations: {},
    startsAt: '2026-11-20T09:14:05.123Z',
    endsAt: null,
    links: [],
    ...overrides,
  };
}

function incident(overrides: Partial<Incident> = {}): Incident {
  return makeIncident({ workspaceId: 'ws_plan', alerts: { fp_a: firingAlert() }, ...overrides });
}

function byId(...incidents: Incident[]): Map<string, Incident> {
  return new Map(incidents.map((i) => [i.id, i]));
}

const summary = (incidentId = 'inc_1'): Intent => ({ type: 'post_summary', incidentId, text: 'Payments API is crash looping.' });

function contextTexts(message: OutgoingMessage): string[] {
  return (message.blocks ?? []).flatMap((b) => (b.kind === 'context' ? [b.text] : []));
}

describe('planMessages', () => {
  it('posts the parent card before the thread summary for an incident not yet announced', () => {
    const inc = incident();

    const plan = planMessages([summary()], byId(inc), [inc], DECISION);

    expect(plan.messages.map((m) => [m.kind, m.anchor.type, m.idempotencyKey])).toEqual([
      ['post', 'incident_parent', 'incident:inc_1:parent'],
      ['post', 'incident_thread', `incident:inc_1:summary:${stateSignature(inc)}`],
    ]);
    expect(plan.messages.every((m) => m.channelId === 'c1' && m.incidentId === 'inc_1' && m.incidentVersion === 1)).toBe(true);
    expect(plan.messages[1]?.message.text).toBe('Payments API is crash looping.');
    expect(plan.announced).toEqual(['inc_1']);
  });

  it('queues the parent card only once when two summaries for one unannounced incident arrive together', () => {
    const inc = incident();

    const plan = planMessages([summary(), summary()], byId(inc), [], DECISION);

    expect(plan.messages.filter((m) => m.anchor.type === 'incident_parent')).toHaveLength(1);
  });

  it('posts only the thread summary for an incident already announced', () => {
    const inc = incident({ announced: true, cardVersion: 1 });

    const plan = planMessages([summary()], byId(inc), [], DECISION);

    expect(plan.messages).toHaveLength(1);
    expect(plan.messages[0]).toMatchObject({
      kind: 'post',
      anchor: { type: 'incident_thread' },
      idempotencyKey: `incident:inc_1:summary:${stateSignature(inc)}`,
    });
    expect(plan.announced).toEqual([]);
  });

  it('announces a recurrence in the channel, keyed by the recurrence count', () => {
    const inc = incident({ announced: true, cardVersion: 4, version: 4, recurrences: 2 });

    const plan = planMessages([{ type: 'announce_recurrence', incidentId: 'inc_1', text: 'It is back.' }], byId(inc), [], DECISION);

    expect(plan.messages).toEqual([
      expect.objectContaining({
        kind: 'post',
        channelId: 'c1',
        anchor: { type: 'channel' },
        idempotencyKey: 'incident:inc_1:recurred:2',
      }),
    ]);
  });

  it('tells the channel that an announced card is back to Firing even when the brain said nothing about it', () => {
    const inc = incident({ announced: true, cardVersion: 4, version: 5, recurrences: 1, title: 'Payments down' });
    const plan = planMessages([], byId(inc), [inc], DECISION, undefined, [{ kind: 'recurred', incidentId: 'inc_1', eventIds: [7] }]);
    expect(plan.messages.map((m) => [m.purpose, m.kind, m.anchor.type, m.idempotencyKey])).toEqual([
      ['recurrence', 'post', 'channel', 'incident:inc_1:recurred:1'],
      ['card_update', 'update', 'incident_parent', 'incident:inc_1:card:v5'],
    ]);
    expect(plan.messages[0]?.message.text).toContain('*Payments down* is firing again');
  });

  it("adds no second return notice when the brain announced the return itself", () => {
    const inc = incident({ announced: true, cardVersion: 5, version: 5, recurrences: 1, flapping: true });
    const plan = planMessages([{ type: 'announce_recurrence', incidentId: 'inc_1', text: 'Flapping.' }], byId(inc), [], DECISION, undefined, [{ kind: 'flapping', incidentId: 'inc_1', eventIds: [] }]);
    expect(plan.messages.map((m) => m.message.text)).toEqual(['Flapping.']);
  });

  it('updates the card of a changed, announced incident whose version is ahead of its card', () => {
    const inc = incident({ announced: true, version: 3, cardVersion: 2 });

    const plan = planMessages([], byId(inc), [inc], DECISION);

    expect(plan.messages).toEqual([
      expect.objectContaining({
        kind: 'update',
        anchor: { type: 'incident_parent' },
        idempotencyKey: 'incident:inc_1:card:v3',
        incidentVersion: 3,
      }),
    ]);
  });

  it('does not update a card that already shows the current version', () => {
    const inc = incident({ announced: true, version: 3, cardVersion: 3 });

    expect(planMessages([], byId(inc), [inc], DECISION).messages).toEqual([]);
  });

  it('does not update the card of a changed incident that was never announced', () => {
    const inc = incident({ version: 2 });

    expect(planMessages([], byId(inc), [inc], DECISION).messages).toEqual([]);
  });

  it('skips intents for incidents it does not know', () => {
    expect(planMessages([summary('inc_missing')], byId(incident()), [], DECISION).messages).toEqual([]);
  });

  it('derives the same idempotency keys from the same inputs', () => {
    const unannounced = incident();
    const announced = incident({ id: 'inc_2', announced: true, version: 5, cardVersion: 4, recurrences: 1 });
    const intents: Intent[] = [summary('inc_1'), { type: 'announce_recurrence', incidentId: 'inc_2', text: 'Back again.' }];

    const keys = () =>
      planMessages(intents, byId(unannounced, announced), [unannounced, announced], DECISION).messages.map((m) => m.idempotencyKey);

    expect(keys()).toEqual(keys());
    expect(new Set(keys()).size).toBe(keys().length);
  });

  it('gives a summary of a different incident state a different key', () => {
    const firing = incident({ announced: true });
    const resolved = incident({ announced: true, status: 'resolved', alerts: { fp_a: firingAlert({ status: 'resolved' }) } });

    const [firingKey] = planMessages([summary()], byId(firing), [], DECISION).messages.map((m) => m.idempotencyKey);
    const [resolvedKey] = planMessages([summary()], byId(resolved), [], DECISION).messages.map((m) => m.idempotencyKey);

    expect(firingKey).not.toBe(resolvedKey);
  });

  it('says in every message that it comes from a bot and which decision produced it', () => {
    const unannounced = incident();
    const changed = incident({ id: 'inc_2', announced: true, version: 2, cardVersion: 1 });
    const recurring = incident({ id: 'inc_3', announced: true, version: 6, cardVersion: 6, recurrences: 1 });
    const intents: Intent[] = [summary('inc_1'), { type: 'announce_recurrence', incidentId: 'inc_3', text: 'Back again.' }];

    const plan = planMessages(intents, byId(unannounced, changed, recurring), [unannounced, changed], DECISION);

    expect(plan.messages.map((m) => m.anchor.type)).toEqual(['incident_parent', 'incident_thread', 'channel', 'incident_parent']);
    for (const { message } of plan.messages) {
      const footers = contextTexts(message);
      expect(footers).toHaveLength(1);
      expect(footers[0]).toContain('Tacit (bot)');
      expect(footers[0]).toContain(DECISION);
    }
  });
});

describe('planMessages and the clock', () => {
  const T = new Date('2026-11-20T09:26:05Z');
  const startedField = (m: OutgoingMessage) =>
    (m.blocks ?? []).flatMap((b) => (b.kind === 'fields' ? b.fields : [])).find((f) => f.label === 'Started')?.value;

  it('shows human times on the card, in the workspace zone, but keys each card by its state, never by the time it is rendered', () => {
    const inc = incident({ announced: true, cardVersion: 1, version: 2 });
    const early = planMessages([summary()], byId(inc), [inc], DECISION, { now: T, timezone: 'Europe/Berlin' });
    const later = planMessages([summary()], byId(inc), [inc], DECISION, { now: new Date(T.getTime() + 47 * 60_000), timezone: 'Europe/Berlin' });
    const card = (p: typeof early) => p.messages.find((m) => m.purpose === 'card_update');
    expect(startedField(card(early)?.message ?? { text: '' })).toBe('10:14 CET (12 min ago)');
    expect(startedField(card(later)?.message ?? { text: '' })).toBe('10:14 CET (59 min ago)');
    // Same incident state: same keys, so a later tick cannot queue the same card or summary again.
    expect(later.messages.map((m) => m.idempotencyKey)).toEqual(early.messages.map((m) => m.idempotencyKey));
  });

  it('writes the full UTC date when no clock is given', () => {
    const inc = incident();
    const [card] = planMessages([summary()], byId(inc), [], DECISION).messages;
    expect(startedField(card?.message ?? { text: '' })).toBe('2026-11-20 09:14 UTC');
  });
});
