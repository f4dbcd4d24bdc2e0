// A plain incident value for tests of the pure core; override what the test is about.
import type { Incident } from '../../src/core/incidents.js';

export function makeIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    workspaceId: 'ws',
    channelId: 'c1',
    groupKey: 'src_1|group_1',
    status: 'firing',
    severity: 'critical',
    title: 'Pod is crash looping.',
    alerts: {},
    startedAt: new Date('2026-11-20T09:14:05.123Z'),
    resolvedAt: null,
    recurrences: 0,
    version: 1,
    cardVersion: 0,
    announced: false,
    acknowledgedBy: null,
    flapping: false,
    cycleTimes: [],
    suspects: [],
    nudgedAt: null,
    ...overrides,
  };
}
