// The gate: a pure, cheap function deciding whether a tick needs the brain at all. Most ticks end
// here with `quiet`; only news (an incident opened, resolved or recurring) wakes the brain.
import type { EventRecord, RepoEvent } from './events.js';
import type { Incident, IncidentTransition } from './incidents.js';
import { tracksHealth, type RepoHealthChange } from './repo-health.js';

export type GateResult = { kind: 'quiet'; reason: string } | { kind: 'wake'; reasons: string[] };

export interface GateInput {
  events: readonly EventRecord[];
  transitions: readonly IncidentTransition[];
  incidents: ReadonlyMap<string, Incident>;
  now: Date;
  /** It is the workspace's digest hour and the digest is due. */
  digestDue?: boolean;
  /**
   * Branches that turned red or green in this tick. When given, CI results on a default branch are
   * news only as such a change (a branch already red is no news); without it, every failure is.
   */
  repoHealth?: readonly RepoHealthChange[];
}

export function gate(input: GateInput): GateResult {
  const reasons: string[] = [];
  for (const t of input.transitions) {
    const incident = input.incidents.get(t.incidentId);
    const name = incident ? `${incident.title} (${incident.severity})` : t.incidentId;
    switch (t.kind) {
      case 'opened':
        reasons.push(`incident opened: ${name}`);
        break;
      case 'resolved':
        reasons.push(`incident resolved: ${name}`);
        break;
      case 'recurred':
        reasons.push(`incident recurred: ${name}`);
        break;
      case 'flapping':
        reasons.push(`incident is flapping: ${name}`);
        break;
      case 'unacknowledged':
        reasons.push(`incident unacknowledged since ${incident?.startedAt.toISOString() ?? '?'}: ${name}`);
        break;
      case 'changed':
        // Alerts joining or leaving an ongoing incident update its card; not news on their own.
        break;
      default: {
        const never: never = t.kind;
        throw new Error(`unhandled transition ${String(never)}`);
      }
    }
  }
  for (const e of input.events) {
    if (e.payload.kind === 'incident.investigated') {
      // Evidence about an open incident is news worth a look; about one resolved meanwhile, it is history.
      const incident = input.incidents.get(e.payload.incidentId);
      if (incident && incident.status !== 'resolved') reasons.push(`investigation finished: ${incident.title} (${incident.severity})`);
      continue;
    }
    if (e.payload.kind !== 'repo' || (input.repoHealth && tracksHealth(e.payload))) continue;
    if (repoNeedsAttention(e.payload)) reasons.push(`${e.payload.repo}: ${e.payload.title}`);
  }
  for (const c of input.repoHealth ?? []) reasons.push(`${c.health.repo} ${c.health.branch} turned ${c.health.state}: ${c.health.workflow}`);
  if (input.digestDue) reasons.push('daily digest due');
  if (reasons.length > 0) return { kind: 'wake', reasons };
  const chatter = input.events.filter((e) => e.payload.kind === 'chat.message').length;
  return { kind: 'quiet', reason: chatter > 0 ? `${chatter} channel message(s), nothing to act on` : 'no news' };
}

/** A broken default branch or a failed deploy is news; a red feature branch is its author's business. */
export function repoNeedsAttention(e: RepoEvent): boolean {
  if (e.outcome !== 'failure') return false;
  if (e.change === 'deploy') return true;
  return e.change === 'workflow' && e.defaultBranch !== null && e.branch === e.defaultBranch;
}
