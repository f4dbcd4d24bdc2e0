// Correlation: the repository changes shortly before an incident started are its suspects —
// merges, pushes to the default branch, deploys, releases and failed workflows.
import type { RepoEvent } from './events.js';
import type { Suspect } from './incidents.js';

export const defaultSuspectWindowMs = 30 * 60_000;
/** Clocks differ between senders; a change stamped just after the start still counts. */
const SKEW_MS = 60_000;

export function isSuspectChange(e: RepoEvent): boolean {
  switch (e.change) {
    case 'merge':
    case 'release':
      return true;
    case 'deploy':
      return e.outcome === 'success' || e.outcome === 'failure';
    case 'push':
      return e.defaultBranch !== null && e.branch === e.defaultBranch;
    case 'workflow':
      return e.outcome === 'failure';
    case 'check':
    case 'issue':
    case 'other':
      return false;
    default: {
      const never: never = e.change;
      throw new Error(`unhandled change ${String(never)}`);
    }
  }
}

/** Suspects for an incident that started at `startedAt`, newest first, at most `limit`. */
export function pickSuspects(changes: readonly RepoEvent[], startedAt: Date, windowMs = defaultSuspectWindowMs, limit = 5): Suspect[] {
  const from = startedAt.getTime() - windowMs;
  const to = startedAt.getTime() + SKEW_MS;
  return changes
    .filter((e) => isSuspectChange(e))
    .filter((e) => {
      const at = Date.parse(e.at);
      return at >= from && at <= to;
    })
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
    .slice(0, limit)
    .map((e) => ({ repo: e.repo, change: e.change, title: e.title, url: e.url, at: e.at, sha: e.sha }));
}
