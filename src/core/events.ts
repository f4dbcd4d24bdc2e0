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
  status: z.enum(['firing', 'resolved']),
  severity: z.enum(severities),
  title: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  links: z.array(z.object({ label: z.string(), url: z.string() })),
  /** Where incidents from this source are announced. */
  channelId: z.string(),
});
export type AlertEvent = z.infer<typeof alertEventSchema>;

export const chatEventSchema = z.object({
  kind: z.enum(['chat.message', 'chat.mention']),
  channelId: z.string(),
  messageId: z.string(),
  /** The thread's root message id when the message is in a thread. */
  threadId: z.string().nullable(),
  author: z.object({ id: z.string(), name: z.string() }),
  text: z.string(),
});
export type ChatEvent = z.infer<typeof chatEventSchema>;

/** A person pressed "Acknowledge" on an incident card. Applied by the tick, like every incident change. */
export const ackEventSchema = z.object({
  kind: z.literal('incident.ack'),
  incidentId: z.string(),
  by: z.object({ id: z.string(), name: z.string() }),
});
export type AckEvent = z.infer<typeof ackEventSchema>;

export const eventPayloadSchema = z.discriminatedUnion('kind', [alertEventSchema, chatEventSchema, ackEventSchema]);
export type EventPayload = z.infer<typeof eventPayloadSchema>;

/** An event as a tick sees it: the stored row with its parsed payload. */
export interface EventRecord {
  id: number;
  workspaceId: string;
  occurredAt: Date;
  payload: EventPayload;
}
