// Grafana unified alerting webhook contact point (payload `version: "1"`): the Alertmanager group
// data model plus Grafana's own fields, normalised through the shared Alertmanager path.
import { z } from 'zod';
import { describeIssues, type AlertNormaliser } from '../normalised.js';
import { alertGroupSchema, alertSchema, normaliseAlertGroup } from './alertmanager.js';

export const grafanaAlertSchema = alertSchema.extend({
  // Go encodes an empty `map[string]float64` as null.
  values: z.record(z.string(), z.number()).nullable().optional(),
  valueString: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  silenceURL: z.string().optional(),
  imageURL: z.string().optional(),
  orgId: z.number().optional(),
});

export const grafanaPayloadSchema = alertGroupSchema.extend({
  version: z.literal('1'),
  orgId: z.number(),
  state: z.string().optional(),
  // Grafana's docs mark state, title and message "will be deprecated soon": do not require them.
  title: z.string().optional(),
  message: z.string().optional(),
  alerts: z.array(grafanaAlertSchema).min(1),
});
export type GrafanaPayload = z.infer<typeof grafanaPayloadSchema>;
type GrafanaAlert = GrafanaPayload['alerts'][number];

export const normaliseGrafanaBody: AlertNormaliser = (json, { source }) => {
  const parsed = grafanaPayloadSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a Grafana webhook payload (version "1"): ${describeIssues(parsed.error.issues)}` };
  return { ok: true, items: normaliseAlertGroup(parsed.data, source, 'grafana', grafanaLinks) };
};

/** Grafana sends these keys with an empty string when the rule has no dashboard or panel. */
function grafanaLinks(alert: GrafanaAlert): { label: string; url: string }[] {
  const candidates: [string, string | undefined][] = [
    ['dashboard', alert.dashboardURL],
    ['panel', alert.panelURL],
    ['silence', alert.silenceURL],
  ];
  return candidates.flatMap(([label, url]) => (url ? [{ label, url }] : []));
}
