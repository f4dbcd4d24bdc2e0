// Prometheus Alertmanager webhook (payload version "4"): one POST is one alert-group flush. Each
// alert becomes one normalised event; the group key groups them into one incident. Grafana's
// webhook is this data model plus extra fields, so it reuses `normaliseAlertGroup`.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent } from '../../core/events.js';
import { normaliseSeverity } from '../../core/severity.js';
import { describeIssues, type AlertNormaliser, type Normalised, type SourceContext } from '../normalised.js';

export const labelMap = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertGroupSchema = z.object({
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

export const alertmanagerPayloadSchema = alertGroupSchema.extend({ version: z.literal('4') });
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
type AlertGroup = z.infer<typeof alertGroupSchema>;

/** Alertmanager sends the zero time as `endsAt` while an alert fires. */
const ZERO_TIME = /^0001-01-01T/;

export const normaliseAlertmanagerBody: AlertNormaliser = (json, { source }) => {
  const parsed = alertmanagerPayloadSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not an Alertmanager v4 payload: ${describeIssues(parsed.error.issues)}` };
  return { ok: true, items: normaliseAlertGroup(parsed.data, source, 'alertmanager') };
};

/** Kept for callers that already hold a parsed payload. */
export function normaliseAlertmanager(payload: AlertmanagerPayload, source: { id: string; channelId: string }): Normalised<AlertEvent>[] {
  return normaliseAlertGroup(payload, { ...source, settings: {} }, 'alertmanager');
}

export function normaliseAlertGroup<G extends AlertGroup>(
  group: G,
  source: SourceContext,
  kind: 'alertmanager' | 'grafana',
  extraLinks: (alert: G['alerts'][number]) => { label: string; url: string }[] = () => [],
): Normalised<AlertEvent>[] {
  const fingerprints = group.alerts.map((alert: G['alerts'][number]) => alert.fingerprint ?? labelFingerprint(alert.labels));
  const groupSize = new Set(fingerprints).size;
  return group.alerts.map((alert: G['alerts'][number], i: number) => {
    const fingerprint = fingerprints[i] ?? labelFingerprint(alert.labels);
    const endsAt = alert.endsAt && !ZERO_TIME.test(alert.endsAt) ? alert.endsAt : null;
    const severity = normaliseSeverity(alert.labels.severity ?? group.commonLabels.severity);
    const annotations = { ...group.commonAnnotations, ...alert.annotations };
    const title = annotations.summary ?? alert.labels.alertname ?? group.commonLabels.alertname ?? 'Alert';
    const links: { label: string; url: string }[] = [];
    if (alert.generatorURL) links.push({ label: 'source', url: alert.generatorURL });
    links.push(...extraLinks(alert));
    if (group.externalURL) links.push({ label: kind, url: group.externalURL });
    const event: AlertEvent = {
      kind: 'alert',
      source: kind,
      sourceId: source.id,
      fingerprint,
      groupKey: group.groupKey,
      status: alert.status,
      severity,
      title,
      labels: alert.labels,
      annotations,
      startsAt: alert.startsAt,
      endsAt,
      links,
      actor: null,
      channelId: source.channelId,
      groupSize,
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

export function labelFingerprint(labels: Record<string, string>): string {
  // JSON of the sorted pairs: no label value can forge a separator.
  const canonical = JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
