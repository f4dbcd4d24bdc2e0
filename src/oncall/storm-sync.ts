// A storm's card stands for its member incidents, so Acknowledge or Resolve on it is carried to each
// member's own source (thirty PagerDuty incidents stop paging with one press). This folds the
// members' answers into one state per source for the storm's card, and how many were reached into one
// line for the person who pressed. Pure: values in, states and text out.
import { syncTargets, targetNames, type SyncTarget, type TargetState } from '../core/source-sync.js';
import type { SyncVerb } from './carriers.js';

/** Worst first: the state the storm's card shows for a source is its members' worst. */
const severity: readonly TargetState['state'][] = ['failed', 'refused', 'sending', 'awaiting_approval', 'accepted', 'unsupported', 'skipped'];

const done = { ack: 'acknowledged', resolve: 'resolved' } as const;

const incidentsWord = (n: number) => `${n} member incident${n === 1 ? '' : 's'}`;

/** How carrying the step to one member went (`already`: acknowledged or resolved before), for the line the person who pressed reads. */
export type MemberReach = { kind: 'done' } | { kind: 'already' } | { kind: 'error'; detail: string };

/** One state per source for the storm's card: each source's worst answer among the members, with a count. */
export function foldMemberStates(verb: SyncVerb, by: { name: string }, members: readonly ReadonlyMap<SyncTarget, TargetState>[]): Map<SyncTarget, TargetState> {
  const states = new Map<SyncTarget, TargetState>();
  for (const target of syncTargets) {
    const mine = members.flatMap((m) => [m.get(target)].filter((s): s is TargetState => s !== undefined));
    if (mine.length === 0) continue;
    const worst = severity.find((s) => mine.some((m) => m.state === s)) ?? 'skipped';
    const accepted = mine.filter((m) => m.state === 'accepted').length;
    const first = mine.find((m) => m.state === worst)?.detail ?? '';
    let detail: string;
    if (worst === 'accepted') detail = `${done[verb]} in ${targetNames[target]} by ${by.name} for ${accepted === 1 ? 'its member incident' : `all ${incidentsWord(accepted)}`}`;
    else if (worst === 'unsupported' || worst === 'skipped') detail = `${first} (${incidentsWord(mine.length)})`;
    else {
      const others = mine.filter((m) => m.state === worst).length;
      detail = `${accepted} of ${incidentsWord(mine.length)} ${done[verb]}; ${others} ${worst.replace('_', ' ')}${first ? ` (${first})` : ''}`;
    }
    states.set(target, { state: worst, detail: detail.slice(0, 500) });
  }
  return states;
}

/** "Members: 6 of 6 member incidents acknowledged with it", with those done before and those not reached. */
export function memberLine(verb: SyncVerb, reached: readonly MemberReach[]): string {
  const carried = reached.filter((o) => o.kind === 'done').length;
  const already = reached.filter((o) => o.kind === 'already').length;
  const errors = reached.filter((o): o is Extract<MemberReach, { kind: 'error' }> => o.kind === 'error');
  const parts = [`${carried} of ${incidentsWord(reached.length)} ${done[verb]} with it`];
  if (already > 0) parts.push(`${already} already ${done[verb]}`);
  if (errors.length > 0) parts.push(`${errors.length} not: ${errors[0]?.detail ?? ''}`);
  return `Members: ${parts.join('; ')}`;
}
