// What a storm's card and the person who pressed are told after the step went to each member.
import { describe, expect, it } from 'vitest';
import type { SyncTarget, TargetState } from '../../src/core/source-sync.js';
import { foldMemberStates, memberLine, type MemberReach } from '../../src/oncall/storm-sync.js';

type Outcome = MemberReach | { kind: 'done'; states: ReadonlyMap<SyncTarget, TargetState> };
const done = (states: Partial<Record<SyncTarget, TargetState>>): Outcome => ({ kind: 'done', states: new Map(Object.entries(states) as [SyncTarget, TargetState][]) });
/** The card's states from the members' answers, and the presser's line from how each was reached. */
const foldMemberOutcomes = (verb: 'ack' | 'resolve', by: { name: string }, outcomes: Outcome[]) => ({
  states: foldMemberStates(verb, by, outcomes.flatMap((o) => ('states' in o ? [o.states] : []))),
  line: memberLine(verb, outcomes.map((o): MemberReach => ('states' in o ? { kind: 'done' } : o))),
});
const ok: TargetState = { state: 'accepted', detail: 'acknowledged in PagerDuty by alice' };

describe('a storm step folded over its members', () => {
  it('says all were acknowledged when every source took it', () => {
    const folded = foldMemberOutcomes('ack', { name: 'alice' }, [done({ pagerduty: ok }), done({ pagerduty: ok }), done({ alertmanager: { state: 'accepted', detail: 'silenced' } })]);
    expect(folded.states.get('pagerduty')).toEqual({ state: 'accepted', detail: 'acknowledged in PagerDuty by alice for all 2 member incidents' });
    expect(folded.states.get('alertmanager')).toEqual({ state: 'accepted', detail: 'acknowledged in Alertmanager by alice for its member incident' });
    expect(folded.line).toBe('Members: 3 of 3 member incidents acknowledged with it');
  });

  it('shows the worst answer per source, with how many took it and the first reason', () => {
    const folded = foldMemberOutcomes('resolve', { name: 'bob' }, [
      done({ pagerduty: ok }), done({ pagerduty: { state: 'refused', detail: '404 Not Found' } }), done({ pagerduty: { state: 'failed', detail: 'timed out after 10 s' } }),
    ]);
    expect(folded.states.get('pagerduty')).toEqual({ state: 'failed', detail: '1 of 3 member incidents resolved; 1 failed (timed out after 10 s)' });
  });

  it('keeps "not supported" as it is, and counts members done before and members it could not reach', () => {
    const folded = foldMemberOutcomes('ack', { name: 'alice' }, [
      done({ grafana: { state: 'unsupported', detail: 'Grafana alerting has no per-alert acknowledge' } }), { kind: 'already' }, { kind: 'error', detail: 'database unavailable' },
    ]);
    expect(folded.states.get('grafana')).toEqual({ state: 'unsupported', detail: 'Grafana alerting has no per-alert acknowledge (1 member incident)' });
    expect(folded.states.has('pagerduty')).toBe(false);
    expect(folded.line).toBe('Members: 1 of 3 member incidents acknowledged with it; 1 already acknowledged; 1 not: database unavailable');
  });
});
