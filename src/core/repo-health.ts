// Repository health per branch: red or green, and since when. CI news is announced as a change of that
// state, not per event: a re-run of the same failed run or three red commits in a row are one notice,
// and the return to green is one short notice. Pure: values in, values out; the tick stores the rows.
import type { RepoEvent } from './events.js';

export type HealthState = 'red' | 'green';

export interface RepoHealth {
  repo: string;
  branch: string;
  state: HealthState;
  since: Date;
  /** The workflow whose result set the state: only the same workflow turns a red branch green. */
  workflow: string;
  sha: string | null;
  url: string | null;
}

/** `broke`: the branch turned red; `fixed`: back to green. Repeats of a state are no change. */
export interface RepoHealthChange {
  kind: 'broke' | 'fixed';
  eventId: number;
  channelId: string;
  health: RepoHealth;
  /** For `fixed`: since when it had been red. */
  redSince?: Date;
}

export function healthKey(repo: string, branch: string): string {
  return `${repo}#${branch}`;
}

/** Workflow results on the default branch are the branch's health; other events are not. */
export function tracksHealth(e: RepoEvent): boolean {
  return e.change === 'workflow' && e.defaultBranch !== null && e.branch === e.defaultBranch && (e.outcome === 'success' || e.outcome === 'failure');
}

/** The workflow's name, from the normalised title ("CI failure on main" → "CI"). */
export function workflowName(e: RepoEvent): string {
  const suffix = e.branch ? ` on ${e.branch}` : '';
  const title = suffix && e.title.endsWith(suffix) ? e.title.slice(0, -suffix.length) : e.title;
  return title.replace(/\s+\S+$/, '') || title;
}

/**
 * Applies workflow results, in order, to the known health (by `healthKey`). A branch seen for the
 * first time green is recorded quietly; one seen first red is news.
 */
export function applyRepoHealth(
  known: ReadonlyMap<string, RepoHealth>,
  events: readonly { id: number; payload: RepoEvent }[],
): { changed: Map<string, RepoHealth>; changes: RepoHealthChange[] } {
  const changed = new Map<string, RepoHealth>();
  const changes: RepoHealthChange[] = [];
  for (const { id, payload: e } of events) {
    if (!tracksHealth(e) || !e.branch) continue;
    const key = healthKey(e.repo, e.branch);
    const before = changed.get(key) ?? known.get(key);
    const workflow = workflowName(e);
    const at = new Date(e.at);
    const next: RepoHealth = { repo: e.repo, branch: e.branch, state: e.outcome === 'failure' ? 'red' : 'green', since: at, workflow, sha: e.sha, url: e.url };
    if (next.state === 'red') {
      if (before?.state === 'red') continue; // already told: the branch is red
      changed.set(key, next);
      changes.push({ kind: 'broke', eventId: id, channelId: e.channelId, health: next });
      continue;
    }
    if (!before) {
      changed.set(key, next);
      continue;
    }
    // Another workflow passing says nothing about the one that is red; an older result is stale.
    if (before.state === 'green' || before.workflow !== workflow || at < before.since) continue;
    changed.set(key, next);
    changes.push({ kind: 'fixed', eventId: id, channelId: e.channelId, health: next, redSince: before.since });
  }
  return { changed, changes };
}

/** The notice's key names the state it announces, so the same state can never be announced twice. */
export function healthNoticeKey(c: RepoHealthChange): string {
  return `repo-health:${healthKey(c.health.repo, c.health.branch)}:${c.health.state}:${c.health.since.toISOString()}`;
}
