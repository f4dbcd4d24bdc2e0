// The on-call part of workspace settings: routing rules, who is on call (PagerDuty or a Tacit
// rotation), the escalation policy and personal quiet hours. Validated here; set only by people.
import { z } from 'zod';
import { clockSchema, timezoneSchema } from './human-time.js';
import { severities } from './severity.js';

const hhmm = clockSchema;
const zone = timezoneSchema;

/** Alertmanager-style: `=` and `!=` compare the value, `=~` and `!~` match a fully anchored regex. */
export const matcherSchema = z.object({
  name: z.string().min(1).max(100),
  op: z.enum(['=', '!=', '=~', '!~']),
  value: z.string().max(500),
}).refine((m) => {
  if (m.op === '=' || m.op === '!=') return true;
  try {
    new RegExp(`^(?:${m.value})$`);
    return true;
  } catch {
    return false;
  }
}, { message: 'not a valid regular expression', path: ['value'] });
export type Matcher = z.infer<typeof matcherSchema>;

/**
 * One routing rule. Every condition given must hold; the first matching rule decides. `channelId`
 * absent keeps the source's channel; `proactive: false` tracks the incident but never posts about it.
 */
export const routeSchema = z.object({
  /** A source kind (`alertmanager`) or a source id (`src_…`). */
  source: z.string().min(1).max(100).optional(),
  matchers: z.array(matcherSchema).max(20).default([]),
  severities: z.array(z.enum(severities)).max(3).optional(),
  channelId: z.string().min(1).max(200).optional(),
  proactive: z.boolean().default(true),
});
export type Route = z.infer<typeof routeSchema>;
export const routesSchema = z.array(routeSchema).max(50);

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];
export const weekdaySchema = z.enum(weekdays);
export const weekdayNames = weekdays;

/** A weekly rotation kept by Tacit: `people[0]` from the first handoff on or after `startDate`, then each in turn. */
export const rotationSchema = z.object({
  people: z.array(z.string().min(1).max(100)).min(1).max(50),
  handoffWeekday: weekdaySchema.default('mon'),
  handoffTime: hhmm.default('09:00'),
  timezone: zone.default('UTC'),
  /** YYYY-MM-DD, local date. */
  startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
});
export type Rotation = z.infer<typeof rotationSchema>;

export const personalQuietHoursSchema = z.object({ start: hhmm, end: hhmm, timezone: zone.default('UTC') });
export type PersonalQuietHours = z.infer<typeof personalQuietHoursSchema>;

export const oncallSettingsSchema = z.object({
  /** When the workspace has a PagerDuty integration: whose on-call to ask (`GET /oncalls`). */
  pagerduty: z.object({
    escalationPolicyIds: z.array(z.string().regex(/^[A-Z0-9]{5,20}$/)).max(20).default([]),
    scheduleIds: z.array(z.string().regex(/^[A-Z0-9]{5,20}$/)).max(20).default([]),
  }).nullable().default(null),
  rotation: rotationSchema.nullable().default(null),
  /** PagerDuty user email (lowercase) → chat person id. A PagerDuty user with no entry cannot be messaged. */
  people: z.record(z.email().max(200), z.string().min(1).max(100)).default({}),
  /** Per person (chat id): non-critical escalations never reach them in these hours. */
  quietHours: z.record(z.string().min(1).max(100), personalQuietHoursSchema).default({}),
});
export type OncallSettings = z.infer<typeof oncallSettingsSchema>;

/** A step after the incident card: a reminder in its thread, or a DM to the on-call at a level. */
export const escalationStepSchema = z.object({
  afterMs: z.number().int().min(60_000).max(24 * 3_600_000),
  to: z.union([z.literal('thread'), z.object({ level: z.number().int().min(1).max(5) })]),
});
export type EscalationStep = z.infer<typeof escalationStepSchema>;

export const defaultEscalationSteps: EscalationStep[] = [
  { afterMs: 5 * 60_000, to: 'thread' },
  { afterMs: 15 * 60_000, to: { level: 1 } },
  { afterMs: 30 * 60_000, to: { level: 2 } },
];

/**
 * Which incidents escalate through `steps` (counted from the card); other firing incidents get one
 * reminder after `unacknowledgedAfterMs`, as before. Steps are kept in `afterMs` order.
 */
export const escalationSchema = z.object({
  severities: z.array(z.enum(severities)).max(3).default(['critical']),
  steps: z.array(escalationStepSchema).min(1).max(10).default(defaultEscalationSteps)
    .transform((steps) => [...steps].sort((a, b) => a.afterMs - b.afterMs)),
});
export type EscalationPolicy = z.infer<typeof escalationSchema>;
