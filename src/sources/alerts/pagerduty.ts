// PagerDuty v3 webhooks: one event per POST; incident lifecycle events become alert events, every
// other event type is accepted and dropped.
import { z } from 'zod';
import type { AlertEvent } from '../../core/events.js';
import type { Severity } from '../../core/severity.js';
import { describeIssues, type AlertNormaliser } from '../normalised.js';

const isoTime = z.iso.datetime({ offset: true });
const reference = z.object({ summary: z.string().optional() });

const envelopeSchema = z.object({
  event: z.object({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: z.string(),
    occurred_at: isoTime,
    agent: reference.nullable().optional(),
    client: z.unknown().optional(),
    data: z.unknown(),
  }),
});

const incidentSchema = z.object({
  id: z.string().min(1),
  html_url: z.string().optional(),
  number: z.number().int().optional(),
  title: z.string(),
  incident_key: z.string().nullable().optional(),
  created_at: isoTime,
  service: reference.nullable().optional(),
  priority: reference.nullable().optional(),
  urgency: z.string().nullable().optional(),
});
type Incident = z.infer<typeof incidentSchema>;

/**
 * The incident event types that change what Tacit shows. Escalations, reassignments, notes,
 * responders and service changes are news for PagerDuty's own UI, not for an incident's status.
 */
const statusByEventType = new Map<string, AlertEvent['status']>([
  ['incident.triggered', 'firing'],
  ['incident.acknowledged', 'acknowledged'],
  ['incident.unacknowledged', 'firing'],
  ['incident.resolved', 'resolved'],
  ['incident.reopened', 'firing'],
]);

/**
 * A reopened or unacknowledged incident is a new occurrence: Tacit treats "firing" with an unchanged
 * startsAt after a resolve as a stale delivery, so these start when the event happened.
 */
const restartingEventTypes = new Set(['incident.reopened', 'incident.unacknowledged']);

export const normalisePagerDutyBody: AlertNormaliser = (json, { source, headers }) => {
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `not a PagerDuty v3 webhook: ${describeIssues(envelope.error.issues)}` };
  const { event } = envelope.data;
  const status = statusByEventType.get(event.event_type);
  if (!status) return { ok: true, items: [] };

  const parsed = incidentSchema.safeParse(event.data);
  if (!parsed.success) {
    return { ok: false, reason: `PagerDuty ${event.event_type} without a usable incident in event.data: ${describeIssues(parsed.error.issues)}` };
  }
  const incident = parsed.data;
  const severity = incidentSeverity(incident);
  const links = incident.html_url ? [{ label: 'pagerduty', url: incident.html_url }] : [];
  const alert: AlertEvent = {
    kind: 'alert',
    source: 'pagerduty',
    sourceId: source.id,
    fingerprint: incident.id,
    groupKey: `pagerduty:${incident.id}`,
    status,
    severity,
    title: incident.title,
    labels: incidentLabels(incident),
    annotations: {},
    startsAt: restartingEventTypes.has(event.event_type) ? event.occurred_at : incident.created_at,
    endsAt: status === 'resolved' ? event.occurred_at : null,
    links,
    actor: event.agent?.summary ?? null,
    channelId: source.channelId,
  };
  return {
    ok: true,
    items: [
      {
        // PagerDuty delivers at least once and names each delivery in X-Webhook-Id.
        dedupeKey: `pagerduty:${source.id}:${headers['x-webhook-id'] ?? event.id}`,
        urgent: status === 'firing' && severity === 'critical',
        occurredAt: new Date(event.occurred_at),
        event: alert,
      },
    ],
  };
};

/** Standard priorities P1–P5 decide; accounts without priorities (or custom names) fall back to urgency. */
function incidentSeverity(incident: Incident): Severity {
  const priority = incident.priority?.summary?.trim().toUpperCase();
  if (priority === 'P1') return 'critical';
  if (priority === 'P2' || priority === 'P3') return 'warning';
  if (priority === 'P4' || priority === 'P5') return 'info';
  return incident.urgency === 'high' ? 'critical' : 'warning';
}

function incidentLabels(incident: Incident): Record<string, string> {
  const labels: Record<string, string> = {};
  if (incident.service?.summary) labels.service = incident.service.summary;
  if (incident.urgency) labels.urgency = incident.urgency;
  if (incident.priority?.summary) labels.priority = incident.priority.summary;
  if (incident.number !== undefined) labels.number = String(incident.number);
  if (incident.incident_key) labels.incident_key = incident.incident_key;
  return labels;
}
