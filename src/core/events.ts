// The normalised event shapes every source produces. Stored as JSON in `events.payload` and parsed
// back with these schemas when a tick reads them.
import { z } from 'zod';
import { severities } from './severity.js';

export const alertEventSchema = z.object({
  kind: z.literal('alert'),
  source: z.enum(['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic']),
  sourceId: z.string(),
  /** Stable per alert (Alertmanager's label-set hash). */
  fingerprint: z.string(),
  /** Which alerts belong together (Alertmanager's groupKey); scoped by source when grouped. */
  groupKey: z.string(),
  /** `acknowledged`: the sender itself says someone is on it (PagerDuty); the alert still fires. */
  status: z.enum(['firing', 'acknowledged', 'resolved']),
  severity: z.enum(severities),
  title: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  links: z.array(z.object({ label: z.string(), url: z.string() })),
  /** Who acknowledged or resolved it at the sender, when the sender says (PagerDuty's agent). */
  actor: z.string().nullable().default(null),
  /** Where incidents from this source are announced. */
  channelId: z.string(),
  /**
   * How many distinct alerts the delivery that carried this one held for its group (Alertmanager and
   * Grafana send the whole group each time): lets a tick tell a group still being read from a whole one.
   */
  groupSize: z.number().int().positive().optional(),
});
export type AlertEvent = z.infer<typeof alertEventSchema>;

/** A change in a linked repository, normalised from a GitHub webhook. */
export const repoEventSchema = z.object({
  kind: z.literal('repo'),
  sourceId: z.string(),
  event: z.enum(['push', 'pull_request', 'workflow_run', 'check_run', 'deployment_status', 'issues', 'release']),
  action: z.string().nullable(),
  /** `owner/name`. */
  repo: z.string(),
  defaultBranch: z.string().nullable(),
  /** One human line: "PR #12 merged: Fix checkout retries". Untrusted text from the repo. */
  title: z.string(),
  url: z.string().nullable(),
  actor: z.string().nullable(),
  sha: z.string().nullable(),
  branch: z.string().nullable(),
  /** What kind of change this is, for correlating incidents with what changed shortly before. */
  change: z.enum(['merge', 'push', 'deploy', 'release', 'workflow', 'check', 'issue', 'other']),
  outcome: z.enum(['success', 'failure', 'pending', 'neutral']).nullable(),
  environment: z.string().nullable(),
  /** When it happened (ISO 8601), from the payload where it says. */
  at: z.string(),
  channelId: z.string(),
});
export type RepoEvent = z.infer<typeof repoEventSchema>;

export const chatEventSchema = z.object({
  kind: z.enum(['chat.message', 'chat.mention']),
  channelId: z.string(),
  messageId: z.string(),
  /** The thread's root message id when the message is in a thread. */
  threadId: z.string().nullable(),
  author: z.object({ id: z.string(), name: z.string() }),
  text: z.string(),
  /** Set when the author edited the message after Tacit stored it. */
  edited: z.boolean().optional(),
  /** Set when the author deleted it: the text is gone from Tacit too. */
  deleted: z.boolean().optional(),
});
export type ChatEvent = z.infer<typeof chatEventSchema>;

/** A person pressed "Acknowledge" on an incident card. Applied by the tick, like every incident change. */
export const ackEventSchema = z.object({
  kind: z.literal('incident.ack'),
  incidentId: z.string(),
  by: z.object({ id: z.string(), name: z.string() }),
});
export type AckEvent = z.infer<typeof ackEventSchema>;

/**
 * A person's step on an incident other than the card's Acknowledge (src/oncall): declaring one by
 * hand, resolving one, or the outcome of carrying an acknowledge/resolve to its source. Applied by the tick.
 */
export const incidentStepEventSchema = z.object({
  kind: z.literal('incident.step'),
  incidentId: z.string(),
  by: z.object({ id: z.string(), name: z.string() }),
  step: z.discriminatedUnion('type', [
    z.object({ type: z.literal('declare'), title: z.string().min(1).max(300), severity: z.enum(severities), channelId: z.string() }),
    z.object({ type: z.literal('resolve'), note: z.string().max(2_000).default('') }),
    /** The source sync (incidents.source_sync) changed: the card shows it. */
    z.object({ type: z.literal('synced') }),
  ]),
});
export type IncidentStepEvent = z.infer<typeof incidentStepEventSchema>;

/** An investigation of an incident finished (src/investigate): its evidence is stored, the brain may tell it. */
export const investigatedEventSchema = z.object({
  kind: z.literal('incident.investigated'),
  incidentId: z.string(),
  investigationId: z.string(),
});
export type InvestigatedEvent = z.infer<typeof investigatedEventSchema>;

export const eventPayloadSchema = z.discriminatedUnion('kind', [alertEventSchema, chatEventSchema, ackEventSchema, repoEventSchema, incidentStepEventSchema, investigatedEventSchema]);
export type EventPayload = z.infer<typeof eventPayloadSchema>;

/** An event as a tick sees it: the stored row with its parsed payload. */
export interface EventRecord {
  id: number;
  workspaceId: string;
  occurredAt: Date;
  payload: EventPayload;
}
