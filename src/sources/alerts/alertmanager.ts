// Prometheus Alertmanager webhook (payload version "4"): one POST is one alert-group flush. Each
// alert becomes one normalised event; the group key groups them into one incident.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent } from '../../core/events.js';
import { normaliseSeverity } from '../../core/severity.js';

const labelMap = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelMap.default({}),
  commonLabels: labelMap.default({}),
  commonAnnotations: labelMap.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).min(1),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

/** Alertmanager sends the zero time as `endsAt` while an alert fires. */
const ZERO_TIME = /^0001-01-01T/;

export interface NormalisedAlert {
  dedupeKey: string;
  urgent: boolean;
  occurredAt: Date;
  event: AlertEvent;
}

export function normaliseAlertmanager(
  payload: AlertmanagerPayload,
  source: { id: string; channelId: string },
): NormalisedAlert[] {
  return payload.alerts.map((alert) => {
    const fingerprint = alert.fingerprint ?? labelFingerprint(alert.labels);
    const endsAt = alert.endsAt && !ZERO_TIME.test(alert.endsAt) ? alert.endsAt : null;
    const severity = normaliseSeverity(alert.labels.severity ?? payload.commonLabels.severity);
    const annotations = { ...payload.commonAnnotations, ...alert.annotations };
    const title = annotations.summary ?? alert.labels.alertname ?? payload.commonLabels.alertname ?? 'Alert';
    const links: { label: string; url: string }[] = [];
    if (alert.generatorURL) links.push({ label: 'source', url: alert.generatorURL });
    if (payload.externalURL) links.push({ label: 'alertmanager', url: payload.externalURL });
    const event: AlertEvent = {
      kind: 'alert',
      source: 'alertmanager',
      sourceId: source.id,
      fingerprint,
      groupKey: payload.groupKey,
      status: alert.status,
      severity,
      title,
      labels: alert.labels,
      annotations,
      startsAt: alert.startsAt,
      endsAt,
      links,
      channelId: source.channelId,
    };
    return {
      // One event per alert occurrence and status: repeats and HA duplicates collapse on insert.
      dedupeKey: `alert:${source.id}:${fingerprint}:${alert.startsAt}:${alert.status}`,
      urgent: alert.status === 'firing' && severity === 'critical',
      occurredAt: new Date(alert.status === 'resolved' && endsAt ? endsAt : alert.startsAt),
      event,
    };
  });
}

function labelFingerprint(labels: Record<string, string>): string {
  // JSON of the sorted pairs: no label value can forge a separator.
  const canonical = JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
