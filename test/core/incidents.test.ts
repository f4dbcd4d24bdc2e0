// Incident grouping: alerts in, incidents and transitions out. Pure values, no I/O.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/core/events.js';
import {
  applyAcks,
  applyAlerts,
  incidentGroupKey,
  stateSignature,
  type AlertInput,
  type Incident,
} from '../../src/core/incidents.js';

const WORKSPACE = 'ws_incidents';
const T1 = '2026-11-20T09:00:00.000Z';
const T1_END = '2026-11-20T09:30:00.000Z';
const T2 = '2026-11-20T10:00:00.000Z';

function alert(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    kind: 'alert',
    source: 'alertmanager',
    sourceId: 'src_1',
    fingerprint: 'fp_a',
    groupKey: 'group_1',
    status: 'firing',
    severity: 'warning',
    title: 'Disk filling up',
    labels: { alertname: 'DiskFull' },
    annotations: {},
    startsAt: T1,
    endsAt: null,
    links: [],
    actor: null,
    channelId: 'c1',
    ...overrides,
  };
}

function resolvedAlert(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return alert({ status: 'resolved', endsAt: T1_END, ...overrides });
}

/** Numbers the alerts as event ids 1, 2, 3 … */
function inputs(...alerts: AlertEvent[]): AlertInput[] {
  return alerts.map((a, i) => ({ eventId: i + 1, alert: a }));
}

function idSequence(): () => string {
  let n = 0;
  return () => `inc_${++n}`;
}

/** Applies batches in order, feeding each result into the next; returns the last result and the known state. */
function applyBatches(...batches: AlertEvent[][]) {
  const known = new Map<string, Incident>();
  const newId = idSequence();
  let result = applyAlerts(WORKSPACE, known, [], newId);
  let eventId = 0;
  for (const batch of batches) {
    result = applyAlerts(WORKSPACE, known, batch.map((a) => ({ eventId: ++eventId, alert: a })), newId);
    for (const [key, incident] of result.changed) known.set(key, incident);
  }
  return { result, known };
}

function only<T>(values: Iterable<T>): T {
  const all = [...values];
  expect(all).toHaveLength(1);
  const [first] = all;
  if (first === undefined) throw new Error('expected exactly one value');
  return first;
}

describe('applyAlerts', () => {
  it('opens a firing incident for the first firing alert of a group', () => {
    const { changed, transitions } = applyAlerts(WORKSPACE, new Map(), inputs(alert()), idSequence());

    const incident = only(changed.values());
    expect(incident).toMatchObject({
      id: 'inc_1',
      workspaceId: WORKSPACE,
      channelId: 'c1',
      groupKey: incidentGroupKey(alert()),
      status: 'firing',
      severity: 'warning',
      title: 'Disk filling up',
      recurrences: 0,
      version: 1,
      cardVersion: 0,
      announced: false,
      acknowledgedBy: null,
      flapping: false,
      cycleTimes: [],
      suspects: [],
      nudgedAt: null,
      resolvedAt: null,
    });
    expect(incident.startedAt.toISOString()).toBe(T1);
    expect(transitions).toEqual([{ kind: 'opened', incidentId: 'inc_1', eventIds: [1] }]);
  });

  it('joins a second alert of the same group to the open incident as a change, not a new opening', () => {
    const { result, known } = applyBatches([alert()], [alert({ fingerprint: 'fp_b' })]);

    const incident = only(result.changed.values());
    expect(known.size).toBe(1);
    expect(incident.id).toBe('inc_1');
    expect(Object.keys(incident.alerts).sort()).toEqual(['fp_a', 'fp_b']);
    expect(incident.status).toBe('firing');
    expect(incident.version).toBe(2);
    expect(result.transitions).toEqual([{ kind: 'changed', incidentId: 'inc_1', eventIds: [2] }]);
  });

  it('keeps alerts from different groups in separate incidents', () => {
    const { changed, transitions } = applyAlerts(
      WORKSPACE,
      new Map(),
      inputs(alert(), alert({ groupKey: 'group_2', fingerprint: 'fp_b' })),
      idSequence(),
    );

    expect(changed.size).toBe(2);
    expect(transitions.map((t) => t.kind)).toEqual(['opened', 'opened']);
  });

  it('stays firing while any alert of the group still fires', () => {
    const { result } = applyBatches([alert(), alert({ fingerprint: 'fp_b' })], [resolvedAlert()]);

    const incident = only(result.changed.values());
    expect(incident.status).toBe('firing');
    expect(incident.resolvedAt).toBeNull();
    expect(result.transitions.map((t) => t.kind)).toEqual(['changed']);
  });

  it('resolves the incident when all of its alerts have resolved', () => {
    const { result } = applyBatches(
      [alert(), alert({ fingerprint: 'fp_b' })],
      [resolvedAlert(), resolvedAlert({ fingerprint: 'fp_b', endsAt: '2026-11-20T09:45:00.000Z' })],
    );

    const incident = only(result.changed.values());
    expect(incident.status).toBe('resolved');
    expect(incident.resolvedAt?.toISOString()).toBe('2026-11-20T09:45:00.000Z');
    expect(result.transitions).toEqual([{ kind: 'resolved', incidentId: 'inc_1', eventIds: [3, 4] }]);
  });

  it('reports a recurrence when an alert fires again with a newer startsAt after the incident resolved', () => {
    const known = new Map<string, Incident>();
    const newId = idSequence();
    const opened = applyAlerts(WORKSPACE, known, inputs(alert()), newId);
    const [key, firing] = only(opened.changed.entries());
    // applyAcks works on incidents keyed by id; applyAlerts on incidents keyed by group key.
    const byId = new Map([[firing.id, firing]]);
    applyAcks(byId, [{ eventId: 2, incidentId: firing.id, by: 'Ada' }]);
    const acknowledged = byId.get(firing.id);
    if (!acknowledged) throw new Error('acknowledged incident missing');
    known.set(key, acknowledged);
    const resolved = applyAlerts(WORKSPACE, known, [{ eventId: 3, alert: resolvedAlert() }], newId);
    known.set(key, only(resolved.changed.values()));
    expect(known.get(key)?.acknowledgedBy).toBe('Ada');

    const recurred = applyAlerts(WORKSPACE, known, [{ eventId: 4, alert: alert({ startsAt: T2 }) }], newId);

    const incident = only(recurred.changed.values());
    expect(incident.id).toBe(firing.id);
    expect(incident.status).toBe('firing');
    expect(incident.recurrences).toBe(1);
    expect(incident.acknowledgedBy).toBeNull();
    expect(incident.resolvedAt).toBeNull();
    expect(incident.startedAt.toISOString()).toBe(T2);
    expect(recurred.transitions).toEqual([{ kind: 'recurred', incidentId: firing.id, eventIds: [4] }]);
  });

  it('changes nothing when the same alert state is delivered twice', () => {
    const { result } = applyBatches([alert()], [alert()]);

    expect(result.changed.size).toBe(0);
    expect(result.transitions).toEqual([]);
  });

  it('collapses a duplicate within one batch into the single opening', () => {
    const { changed, transitions } = applyAlerts(WORKSPACE, new Map(), inputs(alert(), alert()), idSequence());

    expect(only(changed.values()).version).toBe(1);
    expect(transitions).toEqual([{ kind: 'opened', incidentId: 'inc_1', eventIds: [1] }]);
  });

  it('ignores a delivery for an older occurrence of an alert', () => {
    const { result } = applyBatches([alert({ startsAt: T2 })], [resolvedAlert({ startsAt: T1 })]);

    expect(result.changed.size).toBe(0);
    expect(result.transitions).toEqual([]);
  });

  it('ignores a late firing for an occurrence already known to be resolved', () => {
    const { result, known } = applyBatches([alert()], [resolvedAlert()], [alert()]);

    expect(result.changed.size).toBe(0);
    expect(result.transitions).toEqual([]);
    expect(only(known.values()).status).toBe('resolved');
  });

  it('records a resolved-first alert quietly and does not open it when its firing arrives late', () => {
    const first = applyBatches([resolvedAlert()]);
    expect(first.result.transitions).toEqual([]);
    expect(only(first.known.values()).status).toBe('resolved');

    const { result, known } = applyBatches([resolvedAlert()], [alert()]);

    expect(result.changed.size).toBe(0);
    expect(result.transitions).toEqual([]);
    expect(only(known.values()).status).toBe('resolved');
  });

  it('opens nothing when resolved and then its late firing arrive in the same batch', () => {
    const { changed, transitions } = applyAlerts(WORKSPACE, new Map(), inputs(resolvedAlert(), alert()), idSequence());

    expect(only(changed.values()).status).toBe('resolved');
    expect(transitions).toEqual([]);
  });

  it('collapses opened and resolved in one batch into a single resolved transition', () => {
    const { changed, transitions } = applyAlerts(WORKSPACE, new Map(), inputs(alert(), resolvedAlert()), idSequence());

    expect(only(changed.values()).status).toBe('resolved');
    expect(transitions).toEqual([{ kind: 'resolved', incidentId: 'inc_1', eventIds: [1, 2] }]);
  });

  it('keeps "opened" when another alert joins in the same batch', () => {
    const { transitions } = applyAlerts(
      WORKSPACE,
      new Map(),
      inputs(alert(), alert({ fingerprint: 'fp_b' })),
      idSequence(),
    );

    expect(transitions).toEqual([{ kind: 'opened', incidentId: 'inc_1', eventIds: [1, 2] }]);
  });

  it('takes the highest severity among the firing alerts', () => {
    const { result } = applyBatches(
      [alert({ severity: 'info' })],
      [alert({ fingerprint: 'fp_b', severity: 'critical', title: 'Disk full' })],
      [alert({ fingerprint: 'fp_c', severity: 'warning' })],
    );

    expect(only(result.changed.values()).severity).toBe('critical');
  });

  it('drops a resolved alert from the severity once it stops firing', () => {
    const { result } = applyBatches(
      [alert({ severity: 'warning' }), alert({ fingerprint: 'fp_b', severity: 'critical' })],
      [resolvedAlert({ fingerprint: 'fp_b', severity: 'critical' })],
    );

    const incident = only(result.changed.values());
    expect(incident.status).toBe('firing');
    expect(incident.severity).toBe('warning');
  });
});

describe('applyAcks', () => {
  function firingIncident(): Map<string, Incident> {
    const { changed } = applyAlerts(WORKSPACE, new Map(), inputs(alert()), idSequence());
    const incident = only(changed.values());
    return new Map([[incident.id, incident]]);
  }

  it('acknowledges a firing incident once, recording by whom', () => {
    const incidents = firingIncident();

    const transitions = applyAcks(incidents, [
      { eventId: 10, incidentId: 'inc_1', by: 'Ada' },
      { eventId: 11, incidentId: 'inc_1', by: 'Grace' },
    ]);

    expect(transitions).toEqual([{ kind: 'changed', incidentId: 'inc_1', eventIds: [10] }]);
    expect(incidents.get('inc_1')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Ada', version: 2 });
  });

  it('ignores an ack for an incident that is already acknowledged', () => {
    const incidents = firingIncident();
    applyAcks(incidents, [{ eventId: 10, incidentId: 'inc_1', by: 'Ada' }]);
    const before = incidents.get('inc_1');

    const transitions = applyAcks(incidents, [{ eventId: 11, incidentId: 'inc_1', by: 'Grace' }]);

    expect(transitions).toEqual([]);
    expect(incidents.get('inc_1')).toBe(before);
  });

  it('ignores an ack for a resolved incident', () => {
    const { changed } = applyAlerts(WORKSPACE, new Map(), inputs(alert(), resolvedAlert()), idSequence());
    const incident = only(changed.values());
    const incidents = new Map([[incident.id, incident]]);

    const transitions = applyAcks(incidents, [{ eventId: 10, incidentId: incident.id, by: 'Ada' }]);

    expect(transitions).toEqual([]);
    expect(incidents.get(incident.id)).toBe(incident);
  });

  it('ignores an ack for an unknown incident', () => {
    const incidents = firingIncident();

    const transitions = applyAcks(incidents, [{ eventId: 10, incidentId: 'inc_missing', by: 'Ada' }]);

    expect(transitions).toEqual([]);
    expect([...incidents.keys()]).toEqual(['inc_1']);
    expect(incidents.get('inc_1')?.status).toBe('firing');
  });
});

describe('stateSignature', () => {
  it('differs between a firing incident and the same incident resolved', () => {
    const firing = applyAlerts(WORKSPACE, new Map(), inputs(alert()), idSequence());
    const resolved = applyAlerts(WORKSPACE, new Map(), inputs(alert(), resolvedAlert()), idSequence());

    const firingSignature = stateSignature(only(firing.changed.values()));
    const resolvedSignature = stateSignature(only(resolved.changed.values()));

    expect(firingSignature).not.toBe(resolvedSignature);
  });

  it('is the same for the same state regardless of the order alerts joined', () => {
    const ab = applyAlerts(WORKSPACE, new Map(), inputs(alert(), alert({ fingerprint: 'fp_b' })), idSequence());
    const ba = applyAlerts(WORKSPACE, new Map(), inputs(alert({ fingerprint: 'fp_b' }), alert()), idSequence());

    expect(stateSignature(only(ab.changed.values()))).toBe(stateSignature(only(ba.changed.values())));
  });

  it('differs between a first occurrence and its recurrence', () => {
    const first = applyBatches([alert()]);
    const again = applyBatches([alert()], [resolvedAlert()], [alert({ startsAt: T2 })]);

    expect(stateSignature(only(first.known.values()))).not.toBe(stateSignature(only(again.known.values())));
  });
});
