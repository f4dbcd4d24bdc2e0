// The gate decides, cheaply and without I/O, whether a tick needs the brain at all.
import { describe, expect, it } from 'vitest';
import { makeIncident } from '../support/incident.js';
import type { EventRecord } from '../../src/core/events.js';
import { gate, type GateInput } from '../../src/core/gate.js';
import type { Incident, IncidentTransition, TransitionKind } from '../../src/core/incidents.js';

const NOW = new Date('2026-11-20T09:15:00.000Z');

function incident(overrides: Partial<Incident> = {}): Incident {
  return makeIncident({ ...overrides });
}

function transition(kind: TransitionKind, incidentId = 'inc_1'): IncidentTransition {
  return { kind, incidentId, eventIds: [1] };
}

function chatMessage(id: number): EventRecord {
  return {
    id,
    workspaceId: 'ws_gate',
    occurredAt: NOW,
    payload: {
      kind: 'chat.message',
      channelId: 'c1',
      messageId: `m${id}`,
      threadId: null,
      author: { id: 'U1', name: 'Ada' },
      text: 'anyone looking at payments?',
    },
  };
}

function input(overrides: Partial<GateInput> = {}): GateInput {
  const known = incident();
  return {
    events: [],
    transitions: [],
    incidents: new Map([[known.id, known]]),
    now: NOW,
    ...overrides,
  };
}

describe('gate', () => {
  it('stays quiet with "no news" when nothing happened', () => {
    expect(gate(input())).toEqual({ kind: 'quiet', reason: 'no news' });
  });

  it.each(['opened', 'resolved', 'recurred'] as const)('wakes for an incident %s, naming the incident', (kind) => {
    const result = gate(input({ transitions: [transition(kind)] }));

    expect(result.kind).toBe('wake');
    if (result.kind !== 'wake') return;
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toContain(kind);
    expect(result.reasons[0]).toContain('Pod is crash looping.');
    expect(result.reasons[0]).toContain('critical');
  });

  it('names an incident it does not know by its id', () => {
    const result = gate(input({ transitions: [transition('opened', 'inc_unknown')] }));

    expect(result).toEqual({ kind: 'wake', reasons: [expect.stringContaining('inc_unknown')] });
  });

  it('gives one reason per piece of news', () => {
    const other = incident({ id: 'inc_2', title: 'Disk filling up', severity: 'warning' });
    const result = gate(
      input({
        transitions: [transition('opened'), transition('changed'), transition('resolved', 'inc_2')],
        incidents: new Map([
          ['inc_1', incident()],
          ['inc_2', other],
        ]),
      }),
    );

    expect(result.kind).toBe('wake');
    if (result.kind !== 'wake') return;
    expect(result.reasons).toHaveLength(2);
    expect(result.reasons[0]).toContain('Pod is crash looping.');
    expect(result.reasons[1]).toContain('Disk filling up');
  });

  it('stays quiet when an incident only changed', () => {
    const result = gate(input({ transitions: [transition('changed')] }));

    expect(result).toEqual({ kind: 'quiet', reason: 'no news' });
  });

  it('stays quiet for channel messages alone, saying it saw them', () => {
    const result = gate(input({ events: [chatMessage(1), chatMessage(2)] }));

    expect(result.kind).toBe('quiet');
    if (result.kind === 'quiet') expect(result.reason).toMatch(/2 channel message/);
  });
});
