// The rules brain's findings: deterministic text from evidence, and the planted cause ranked first.
import { describe, expect, it } from 'vitest';
import { findingsText, rankHypotheses } from '../../src/brain/rules/findings.js';
import type { InvestigationReport } from '../../src/core/evidence.js';
import type { Incident } from '../../src/core/incidents.js';
import { investigationRequests } from '../../src/investigate/qualify.js';
import { withRulesFindings } from '../../src/brain/claude/findings-tools.js';
import { noUsage } from '../../src/core/decisions.js';
import { readSettings } from '../../src/core/settings.js';

const startedAt = new Date('2026-12-01T10:00:00Z');
const incident: Incident = {
  id: 'inc_1', workspaceId: 'ws', channelId: 'c', groupKey: 'g', status: 'firing', severity: 'critical', title: 'Checkout errors',
  alerts: { fp: { status: 'firing', title: 'Checkout errors', severity: 'critical', labels: { service: 'checkout' }, annotations: {}, startsAt: startedAt.toISOString(), endsAt: null, links: [] } },
  startedAt, resolvedAt: null, recurrences: 0, version: 1, cardVersion: 0, announced: true, acknowledgedBy: null, flapping: false, cycleTimes: [], suspects: [], nudgedAt: null,
};
const change = (sha: string, minutes: number, title: string, files: string[]) => ({
  repo: 'acme/shop', sha, title, at: new Date(startedAt.getTime() - minutes * 60_000).toISOString(), change: 'merge', url: null,
  files: files.map((filename) => ({ filename, additions: 10, deletions: 2 })), filesTotal: files.length, additions: 10 * files.length, deletions: 2 * files.length,
});
const report: InvestigationReport = {
  incidentId: 'inc_1', investigationId: 'inv_1', at: startedAt.toISOString(), durationMs: 1_234,
  metric: { expr: 'rate(errors[5m])', comparison: { op: '>', threshold: 0.05 }, current: 0.3, before: 0.01, peak: 0.31, trend: 'rising', points: [], series: 1, labels: {} },
  logs: { query: '{job="checkout"}', lines: 50, top: [{ pattern: 'checkout db pool exhausted', example: 'x', count: 30, sinceStart: 30, firstAt: startedAt.toISOString() }] },
  changes: [change('aaaaaaa1', 2, 'Bump docs theme', ['docs/theme.css']), change('bbbbbbb2', 9, 'Smaller checkout pool', ['services/checkout/pool.go'])],
  history: { similar: [{ incidentId: 'inc_0', title: 'Checkout errors', startedAt: '2026-11-25T08:00:00Z', durationMs: 1_200_000, resolvedBy: 'runbook.restart' }], occurrences: 3, memories: [] },
  sources: [{ source: 'prometheus', query: 'q', status: 'ok', durationMs: 10 }, { source: 'loki', query: 'q', status: 'timeout', durationMs: 5_000, error: 'no answer in 5 s' }],
};

describe('rules findings', () => {
  it('ranks the change touching what hurts above a nearer one that does not', () => {
    const [top, ...rest] = rankHypotheses(report, incident);
    expect(top?.cause).toContain('bbbbbbb');
    expect(top?.confidence).toBe('high');
    expect(rest.at(-1)?.cause).toContain('aaaaaaa');
  });

  it('says the value against the threshold, the change and files, the top error, the history, and what is missing', () => {
    const { text } = findingsText(report, incident, { now: startedAt, timezone: 'UTC' });
    expect(text).toContain('is 0.3 now, past its threshold > 0.05; 0.01 on average in the hour before the start; rising');
    expect(text).toContain('Started 9 min after bbbbbbb (Smaller checkout pool) in acme/shop, touching services/checkout/pool.go');
    expect(text).toContain('Top log error: "checkout db pool exhausted" — 30× (30 since the start)');
    expect(text).toContain('Seen 3 time(s) in 30 days, last on 2026-11-25 (lasted 20 min); last resolved by runbook.restart.');
    expect(text).toContain('Missing: Loki did not answer in 5 s.');
  });

  it('says it does not know when nothing points at a cause', () => {
    const { text, hypotheses } = findingsText({ ...report, changes: [], logs: undefined, history: undefined }, incident, { now: startedAt, timezone: 'UTC' });
    expect(hypotheses).toEqual([]);
    expect(text).toContain('I do not know the cause yet');
  });
});

describe('which incidents are investigated', () => {
  const settings = readSettings({});
  it('critical incidents that open, recur or change, once each; not warnings, storms or resolved ones', () => {
    const list = new Map<string, Incident>([
      ['inc_1', incident],
      ['inc_2', { ...incident, id: 'inc_2', severity: 'warning' }],
      ['inc_3', { ...incident, id: 'inc_3', kind: 'storm' }],
      ['inc_4', { ...incident, id: 'inc_4', status: 'resolved' }],
    ]);
    const jobs = investigationRequests('ws', 'dec_1', [
      { kind: 'opened', incidentId: 'inc_1', eventIds: [] }, { kind: 'changed', incidentId: 'inc_1', eventIds: [] },
      { kind: 'opened', incidentId: 'inc_2', eventIds: [] }, { kind: 'opened', incidentId: 'inc_3', eventIds: [] }, { kind: 'resolved', incidentId: 'inc_4', eventIds: [] },
    ], list, settings);
    expect(jobs).toEqual([{ workspaceId: 'ws', incidentId: 'inc_1', version: 1, decisionId: 'dec_1' }]);
    expect(investigationRequests('ws', null, [{ kind: 'opened', incidentId: 'inc_2', eventIds: [] }], list, readSettings({ investigation: { severities: ['critical', 'warning'] } }))).toHaveLength(1);
  });
});

describe('Claude without findings', () => {
  it('gets the rules findings added when it wrote none for an investigated incident, and says so', () => {
    const ctx = { workspaceId: 'ws', now: startedAt, reasons: [], transitions: [], events: [], incidents: new Map([['inc_1', incident]]), investigations: [report] };
    const d = withRulesFindings({ kind: 'quiet', reasons: ['stayed quiet: nothing new'], usage: noUsage, brain: 'claude' }, ctx);
    expect(d.kind).toBe('speak');
    expect(d.reasons.at(-1)).toBe('findings by rules for 1 investigation(s): the model wrote none');
    const again = withRulesFindings(d, ctx);
    expect(again).toBe(d);
  });
});
