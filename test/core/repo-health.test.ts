// Branch health: CI on a default branch is announced as a change of state — red once, green once —
// never once per failed run.
import { describe, expect, it } from 'vitest';
import type { RepoEvent } from '../../src/core/events.js';
import { gate } from '../../src/core/gate.js';
import { applyRepoHealth, healthKey, healthNoticeKey, workflowName, type RepoHealth } from '../../src/core/repo-health.js';

const run = (n: number, outcome: 'success' | 'failure', overrides: Partial<RepoEvent> = {}): { id: number; payload: RepoEvent } => ({
  id: n,
  payload: {
    kind: 'repo', sourceId: 'gh', event: 'workflow_run', action: 'completed', repo: 'acme/shop', defaultBranch: 'main',
    title: `CI ${outcome} on main`, url: `https://github.com/acme/shop/actions/runs/${n}`, actor: 'dana', sha: `${n}`.padStart(40, 'a'),
    branch: 'main', change: 'workflow', outcome, environment: null, at: new Date(Date.UTC(2026, 10, 27, 10, n)).toISOString(), channelId: 'c_ops',
    ...overrides,
  },
});

function replay(batches: { id: number; payload: RepoEvent }[][]) {
  let known = new Map<string, RepoHealth>();
  const kinds: string[] = [];
  const keys: string[] = [];
  for (const batch of batches) {
    const r = applyRepoHealth(known, batch);
    known = new Map([...known, ...r.changed]);
    kinds.push(...r.changes.map((c) => c.kind));
    keys.push(...r.changes.map(healthNoticeKey));
  }
  return { known, kinds, keys };
}

describe('repository health', () => {
  it('makes three red commits in a row one "broke", and the first pass after them one "fixed"', () => {
    const { known, kinds, keys } = replay([[run(1, 'failure')], [run(2, 'failure')], [run(3, 'failure')], [run(4, 'success')]]);
    expect(kinds).toEqual(['broke', 'fixed']);
    expect(new Set(keys).size).toBe(2);
    expect(known.get(healthKey('acme/shop', 'main'))?.state).toBe('green');
  });

  it('treats a re-run of the same failed run as no news', () => {
    const first = run(1, 'failure');
    expect(replay([[first], [first], [{ ...first, id: 9 }]]).kinds).toEqual(['broke']);
  });

  it('records a branch first seen green quietly, and ignores feature branches and other outcomes', () => {
    expect(replay([[run(1, 'success')], [run(2, 'success')]]).kinds).toEqual([]);
    expect(replay([[run(1, 'failure', { branch: 'feature/x', title: 'CI failure on feature/x' })]]).kinds).toEqual([]);
    expect(replay([[run(1, 'failure', { change: 'check' })]]).kinds).toEqual([]);
  });

  it('does not call a red branch green because another workflow passed', () => {
    const lint = run(2, 'success', { title: 'Lint success on main' });
    expect(replay([[run(1, 'failure')], [lint]]).kinds).toEqual(['broke']);
    expect(workflowName(lint.payload)).toBe('Lint');
  });

  it('keys each notice by the state it announces, so the same state is never queued twice', () => {
    const a = replay([[run(1, 'failure')]]).keys;
    const b = replay([[run(1, 'failure')]]).keys;
    expect(a).toEqual(b);
    expect(a[0]).toBe(`repo-health:acme/shop#main:red:${new Date(Date.UTC(2026, 10, 27, 10, 1)).toISOString()}`);
  });

  it('wakes the gate for a change of branch state only, not for a branch that is already red', () => {
    const now = new Date();
    const events = [run(2, 'failure')].map((e) => ({ id: e.id, workspaceId: 'ws', occurredAt: now, payload: e.payload }));
    expect(gate({ events, transitions: [], incidents: new Map(), now, repoHealth: [] }).kind).toBe('quiet');
    expect(gate({ events, transitions: [], incidents: new Map(), now }).kind).toBe('wake');
  });
});
