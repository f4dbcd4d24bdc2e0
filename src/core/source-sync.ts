// What happened when a person's acknowledge or resolve was carried to where the incident lives
// (PagerDuty, Alertmanager, Grafana, Sentry): stored in incidents.source_sync, shown on the card.
// Pure: the schema of the stored value and the line the card shows.
import { z } from 'zod';

export const syncTargets = ['pagerduty', 'alertmanager', 'grafana', 'sentry', 'generic'] as const;
export type SyncTarget = (typeof syncTargets)[number];

export const targetNames: Record<SyncTarget, string> = {
  pagerduty: 'PagerDuty', alertmanager: 'Alertmanager', grafana: 'Grafana', sentry: 'Sentry', generic: 'the sender',
};

/**
 * `sending`: claimed, the call is under way (or died with its process); `accepted`: the source took it;
 * `refused`: it answered no (4xx); `failed`: unreachable or 5xx; `unsupported`: its API has no such
 * thing; `awaiting_approval`: behind an approval the workspace asked for; `skipped`: not configured.
 */
export const targetStateSchema = z.object({
  state: z.enum(['sending', 'accepted', 'refused', 'failed', 'unsupported', 'awaiting_approval', 'skipped']),
  detail: z.string().max(500).default(''),
  at: z.string().optional(),
  /** Alertmanager: the silence created on acknowledge, expired on resolve. */
  silenceId: z.string().optional(),
});
export type TargetState = z.infer<typeof targetStateSchema>;

export const syncClaimSchema = z.object({
  /** The occurrence (incident startedAt, ISO) this claim is for: a recurrence can be acknowledged again. */
  occurrence: z.string(),
  by: z.object({ id: z.string(), name: z.string() }),
  at: z.string(),
  sources: z.partialRecord(z.enum(syncTargets), targetStateSchema).default({}),
});
export type SyncClaim = z.infer<typeof syncClaimSchema>;

export const sourceSyncSchema = z.object({
  ack: syncClaimSchema.optional(),
  resolve: syncClaimSchema.optional(),
});
export type SourceSync = z.infer<typeof sourceSyncSchema>;

/** The stored value, or nothing when it does not parse (the card then shows no sync line). */
export function readSourceSync(raw: unknown): SourceSync {
  const parsed = sourceSyncSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : {};
}

const verbs = { ack: { done: 'acknowledged', doing: 'acknowledging' }, resolve: { done: 'resolved', doing: 'resolving' } } as const;

/** One target's outcome for people: "acknowledged in PagerDuty by alice", "PagerDuty refused: 401 …". */
export function targetLine(verb: 'ack' | 'resolve', target: SyncTarget, claim: SyncClaim, s: TargetState): string {
  const name = targetNames[target];
  switch (s.state) {
    case 'accepted':
      return s.detail || `${verbs[verb].done} in ${name} by ${claim.by.name}`;
    case 'sending':
      return `${verbs[verb].doing} in ${name}…`;
    case 'refused':
      return `${name} refused: ${s.detail}`;
    case 'failed':
      return `${name} failed: ${s.detail}`;
    case 'awaiting_approval':
      return `${name}: ${s.detail}`;
    case 'unsupported':
    case 'skipped':
      return `${name}: ${s.detail}`;
    default: {
      const never: never = s.state;
      return String(never);
    }
  }
}

/** The card's line for the current occurrence: who acknowledged (and resolved) and what each source said. */
export function syncSummary(sync: SourceSync | undefined, occurrence: string): string | null {
  if (!sync) return null;
  const parts: string[] = [];
  for (const verb of ['ack', 'resolve'] as const) {
    const claim = sync[verb];
    if (!claim || claim.occurrence !== occurrence) continue;
    parts.push(`${verb === 'ack' ? 'Acknowledged' : 'Resolved'} by ${claim.by.name}`);
    for (const target of syncTargets) {
      const s = claim.sources[target];
      if (s) parts.push(targetLine(verb, target, claim, s));
    }
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}
