// Which normaliser reads which kind of alert source.
import type { sources } from '../db/schema.js';
import { normaliseAlertmanagerBody } from './alerts/alertmanager.js';
import { normaliseGenericBody } from './alerts/generic.js';
import { normaliseGrafanaBody } from './alerts/grafana.js';
import { normalisePagerDutyBody } from './alerts/pagerduty.js';
import { normaliseSentryBody } from './alerts/sentry.js';
import type { AlertNormaliser } from './normalised.js';

export type SourceKind = (typeof sources.$inferSelect)['kind'];
export type AlertSourceKind = Exclude<SourceKind, 'github'>;

export const alertFormats: Record<AlertSourceKind, AlertNormaliser> = {
  alertmanager: normaliseAlertmanagerBody,
  grafana: normaliseGrafanaBody,
  pagerduty: normalisePagerDutyBody,
  sentry: normaliseSentryBody,
  generic: normaliseGenericBody,
};

export const sourceKinds: readonly SourceKind[] = ['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic', 'github'];
