// Per-workspace settings of the on-call workflows this folder owns, kept under the workspace
// settings key `oncallSync` (written with patchWorkspaceSettings, read here with defaults).
import { z } from 'zod';
import type { AlertEvent } from '../core/events.js';

const HOUR = 3_600_000;
const silenceMs = z.number().int().min(60_000).max(30 * 24 * HOUR).nullable();

/**
 * How long an open incident may go without alert news before it resolves itself, per source kind.
 * Off (null) for senders that say "resolved" themselves: Alertmanager (send_resolved defaults to
 * true), Grafana (unless "Disable resolved message" is set) and PagerDuty (incident.resolved).
 * On for generic webhooks, which often only ever say "firing", and for Sentry, whose issue alerts
 * (event_alert) have no resolution of their own.
 */
export const autoResolveSchema = z.object({
  generic: silenceMs.default(4 * HOUR),
  sentry: silenceMs.default(24 * HOUR),
  alertmanager: silenceMs.default(null),
  grafana: silenceMs.default(null),
  pagerduty: silenceMs.default(null),
});
export type AutoResolvePolicy = z.infer<typeof autoResolveSchema>;

export const syncSettingsSchema = z.object({
  /**
   * Alertmanager on acknowledge: `direct` silences the group at once (the click is a person's
   * decision, like an approval), `approval` asks for an approval first, `off` leaves Alertmanager alone.
   */
  alertmanagerSilence: z.enum(['direct', 'approval', 'off']).default('direct'),
  /** How long that silence lasts at most; it is expired when the incident is resolved through Tacit. */
  silenceMinutes: z.number().int().min(5).max(7 * 24 * 60).default(12 * 60),
  autoResolveMs: autoResolveSchema.default(autoResolveSchema.parse({})),
  /** Chat user id → PagerDuty login email: acknowledgements are made as that person (the From header). */
  pagerdutyEmails: z.record(z.string().min(1).max(100), z.email()).default({}),
});
export type SyncSettings = z.infer<typeof syncSettingsSchema>;

export const SYNC_SETTINGS_KEY = 'oncallSync';

/** The workspace's on-call sync settings; an invalid stored value falls back to the defaults. */
export function readSyncSettings(workspaceSettings: unknown): SyncSettings {
  const raw = typeof workspaceSettings === 'object' && workspaceSettings !== null ? (workspaceSettings as Record<string, unknown>)[SYNC_SETTINGS_KEY] : undefined;
  const parsed = syncSettingsSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : syncSettingsSchema.parse({});
}

export type SourceKind = AlertEvent['source'];
