// Workspace settings: how often Tacit looks, when it keeps quiet, how much it may say. Stored as JSON
// on the workspace, validated here; missing values take the defaults. Memory and model output can
// never change these — only people, through commands.
import { z } from 'zod';
import { clockSchema, timezoneSchema } from './human-time.js';
import { severities } from './severity.js';
import { defaultStormPolicy } from './storms.js';
import { escalationSchema, oncallSettingsSchema, routesSchema } from './oncall-settings.js';

const clock = clockSchema;

export { timezoneSchema };

export const workspaceSettingsSchema = z.object({
  heartbeatIntervalMs: z.number().int().min(1_000).optional(),
  timezone: timezoneSchema.default('UTC'),
  /** Non-critical proactive posts wait while local time is in [start, end). */
  quietHours: z.object({ start: clock, end: clock }).nullable().default(null),
  /** Unsolicited posts per channel per rolling hour. */
  postsPerChannelPerHour: z.number().int().min(0).default(20),
  /** Minimum time between follow-up posts about one incident (openings and resolutions excepted). */
  incidentCooldownMs: z.number().int().min(0).default(5 * 60_000),
  /** A firing incident nobody acknowledged for this long is raised again, once. */
  unacknowledgedAfterMs: z.number().int().min(60_000).default(15 * 60_000),
  /** Local hour (0–23) of a daily digest of the last 24 hours; null for none. */
  digestHour: z.number().int().min(0).max(23).nullable().default(null),
  /** Where the digest goes; default the channel of the workspace's first alert source. */
  digestChannelId: z.string().nullable().default(null),
  /**
   * Who may approve actions: platform user ids and groups (Slack user group ids, Discord role ids).
   * Empty means nobody: the policy fails closed. Set by people (admin API), never by memory or a model.
   */
  approvers: z
    .object({
      users: z.array(z.string().min(1)).max(200).default([]),
      groups: z.array(z.string().min(1)).max(50).default([]),
      /** The person who asked for an action may not approve it. */
      twoPerson: z.boolean().default(false),
    })
    .default({ users: [], groups: [], twoPerson: false }),
  /**
   * Who may change settings besides the platform's own admins (core/roles): platform user ids and
   * groups (Slack user group ids, Discord role ids). Set by an admin (`/tacit admins`).
   */
  admins: z
    .object({
      users: z.array(z.string().min(1).max(100)).max(200).default([]),
      groups: z.array(z.string().min(1).max(100)).max(50).default([]),
    })
    .default({ users: [], groups: [] }),
  /** Who is on call (platform user ids): the people Tacit may notify directly, with the approvers. Set by people (admin API). */
  onCall: z.array(z.string().min(1).max(100)).max(50).default([]),
  /** Incidents opening together (at least `threshold` within `windowMs`) become one storm with one card; null for never. */
  storm: z
    .object({
      windowMs: z.number().int().min(1_000).max(3_600_000),
      threshold: z.number().int().min(2).max(1_000),
      burstWaitMs: z.number().int().min(0).max(300_000).default(defaultStormPolicy.burstWaitMs ?? 10_000),
    })
    .nullable()
    .default({ ...defaultStormPolicy, burstWaitMs: defaultStormPolicy.burstWaitMs ?? 10_000 }),
  /** How long an approval request stays open. */
  approvalTtlMs: z.number().int().min(60_000).max(24 * 3_600_000).default(15 * 60_000),
  /** Which incidents Tacit investigates (src/investigate) when they open or escalate, and its time bounds. */
  investigation: z
    .object({
      severities: z.array(z.enum(severities)).max(3).default(['critical']),
      sourceTimeoutMs: z.number().int().min(500).max(30_000).default(5_000),
      totalTimeoutMs: z.number().int().min(1_000).max(60_000).default(20_000),
    })
    .default({ severities: ['critical'], sourceTimeoutMs: 5_000, totalTimeoutMs: 20_000 }),
  /** Routing rules (core/routing.ts): the first match picks an incident's channel, or keeps it from posting. */
  routes: routesSchema.default([]),
  /** Who is on call (PagerDuty or a Tacit rotation), how PagerDuty people map to chat people, personal quiet hours. */
  oncall: oncallSettingsSchema.prefault({}),
  /** How unacknowledged incidents escalate (core/escalation.ts). */
  escalation: escalationSchema.prefault({}),
});
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;

/** Settings from storage; an invalid stored value falls back to its default rather than stopping ticks. */
export function readSettings(raw: unknown): WorkspaceSettings {
  const parsed = workspaceSettingsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
  return workspaceSettingsSchema.parse(Object.fromEntries(Object.entries(obj).filter(([k]) => !bad.has(k))));
}

/** Minutes since local midnight in `timezone`. */
export function localMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** When the current quiet hours end, or null when it is not quiet hours now. */
export function quietHoursEnd(settings: Pick<WorkspaceSettings, 'quietHours' | 'timezone'>, now: Date): Date | null {
  const q = settings.quietHours;
  if (!q) return null;
  const start = toMinutes(q.start);
  const end = toMinutes(q.end);
  if (start === end) return null;
  const local = localMinutes(now, settings.timezone);
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) return null;
  const untilEnd = (end - local + 1440) % 1440;
  const at = new Date(now.getTime() + untilEnd * 60_000);
  at.setUTCSeconds(0, 0);
  return at;
}

/** Parses `30m`, `2h`, `1d`, `90s`; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)\s*(s|m|h|d)$/i.exec(text.trim());
  if (!m) return null;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'm').toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The local calendar date (YYYY-MM-DD) in `timezone`. */
export function localDate(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** True during the digest hour (local time). */
export function digestHourNow(settings: WorkspaceSettings, now: Date): boolean {
  return settings.digestHour !== null && Math.floor(localMinutes(now, settings.timezone) / 60) === settings.digestHour;
}

/** The next start of the digest hour, local time; null when there is no digest. */
export function nextDigestAt(settings: WorkspaceSettings, now: Date): Date | null {
  if (settings.digestHour === null) return null;
  const minutesUntil = (settings.digestHour * 60 - localMinutes(now, settings.timezone) + 1440) % 1440 || 1440;
  const at = new Date(now.getTime() + minutesUntil * 60_000);
  at.setUTCSeconds(0, 0);
  return at;
}
