// Sentry integration-platform webhooks: issue alerts, issue lifecycle and metric alerts become alert
// events, told apart by the `Sentry-Hook-Resource` header; other resources are accepted and dropped.
import { z } from 'zod';
import type { AlertEvent } from '../../core/events.js';
import type { Severity } from '../../core/severity.js';
import { describeIssues, type AlertNormaliser, type NormaliseResult, type RequestContext } from '../normalised.js';

const isoTime = z.iso.datetime({ offset: true });
const id = z.union([z.string().min(1), z.number()]).transform(String);

const bodySchema = z.object({
  action: z.string(),
  data: z.unknown(),
  actor: z.object({ type: z.string().optional(), name: z.string().optional() }).nullable().optional(),
});
type Body = z.infer<typeof bodySchema>;

const eventAlertSchema = z.object({
  event: z.object({
    issue_id: id,
    title: z.string(),
    level: z.string().optional(),
    project: id.optional(),
    culprit: z.string().nullable().optional(),
    environment: z.string().nullable().optional(),
    datetime: isoTime.optional(),
    timestamp: z.number().optional(),
    web_url: z.string().optional(),
    issue_url: z.string().optional(),
    tags: z.array(z.unknown()).optional(),
  }),
  triggered_rule: z.string().optional(),
});

const issueSchema = z.object({
  issue: z.object({
    id,
    title: z.string(),
    level: z.string().optional(),
    culprit: z.string().nullable().optional(),
    firstSeen: isoTime.optional(),
    lastSeen: isoTime.optional(),
    web_url: z.string().optional(),
    project: z.object({ slug: z.string().optional(), name: z.string().optional() }).nullable().optional(),
  }),
});

const metricAlertSchema = z.object({
  description_title: z.string(),
  description_text: z.string().optional(),
  web_url: z.string().optional(),
  metric_alert: z.object({
    id,
    alert_rule: z.object({ id: id.optional(), name: z.string().optional() }).optional(),
    date_started: isoTime.optional(),
    date_closed: isoTime.nullable().optional(),
  }),
});

/** What a resource contributes; the rest of an alert event is the same for every resource. */
type Parts = Pick<AlertEvent, 'fingerprint' | 'groupKey' | 'status' | 'severity' | 'title' | 'labels' | 'annotations' | 'startsAt' | 'endsAt' | 'links' | 'actor'>;
type PartsResult = { ok: true; parts: Parts | null } | { ok: false; reason: string };

export const normaliseSentryBody: AlertNormaliser = (json, request) => {
  const resource = request.headers['sentry-hook-resource'] ?? '';
  const build = builders.get(resource);
  // installation, comment, error, seer, preprod_artifact (or no header): nothing about an alert.
  if (!build) return { ok: true, items: [] };
  const body = bodySchema.safeParse(json);
  if (!body.success) return { ok: false, reason: `not a Sentry webhook: ${describeIssues(body.error.issues)}` };

  const result = build(body.data, request);
  if (!result.ok) return result;
  if (!result.parts) return { ok: true, items: [] };
  return normalised(result.parts, `${resource}:${body.data.action}`, request);
};

function fromEventAlert(body: Body, { receivedAt }: RequestContext): PartsResult {
  if (body.action !== 'triggered') return { ok: true, parts: null };
  const parsed = eventAlertSchema.safeParse(body.data);
  if (!parsed.success) return invalid('event_alert', parsed.error.issues);
  const { event, triggered_rule: rule } = parsed.data;
  const startsAt = event.datetime ?? (event.timestamp === undefined ? receivedAt.toISOString() : new Date(event.timestamp * 1000).toISOString());
  return {
    ok: true,
    parts: {
      fingerprint: event.issue_id,
      groupKey: `sentry:issue:${event.issue_id}`,
      status: 'firing',
      severity: levelSeverity(event.level),
      title: event.title,
      labels: present({ project: event.project, level: event.level, culprit: event.culprit, environment: event.environment ?? tagValue(event.tags, 'environment'), rule }),
      annotations: {},
      startsAt,
      endsAt: null,
      links: linksOf({ sentry: event.web_url, issue: event.issue_url }),
      actor: null,
    },
  };
}

function fromIssue(body: Body, { receivedAt }: RequestContext): PartsResult {
  const firing = body.action === 'created' || body.action === 'unresolved';
  const resolved = body.action === 'resolved' || body.action === 'archived';
  // `assigned` (and any action Sentry adds later) does not change whether the issue is happening.
  if (!firing && !resolved) return { ok: true, parts: null };
  const parsed = issueSchema.safeParse(body.data);
  if (!parsed.success) return invalid('issue', parsed.error.issues);
  const { issue } = parsed.data;
  // A regression (unresolved) is a new occurrence: it starts when the issue was last seen.
  const seen = body.action === 'created' ? (issue.firstSeen ?? issue.lastSeen) : (issue.lastSeen ?? issue.firstSeen);
  return {
    ok: true,
    parts: {
      fingerprint: issue.id,
      groupKey: `sentry:issue:${issue.id}`,
      status: firing ? 'firing' : 'resolved',
      severity: levelSeverity(issue.level),
      title: issue.title,
      labels: present({ project: issue.project?.slug ?? issue.project?.name, level: issue.level, culprit: issue.culprit }),
      annotations: {},
      startsAt: seen ?? receivedAt.toISOString(),
      endsAt: resolved ? receivedAt.toISOString() : null,
      links: linksOf({ sentry: issue.web_url }),
      actor: resolved && body.actor?.type === 'user' ? (body.actor.name ?? null) : null,
    },
  };
}

function fromMetricAlert(body: Body, { receivedAt }: RequestContext): PartsResult {
  const status = body.action === 'resolved' ? 'resolved' : body.action === 'critical' || body.action === 'warning' ? 'firing' : null;
  if (!status) return { ok: true, parts: null };
  const parsed = metricAlertSchema.safeParse(body.data);
  if (!parsed.success) return invalid('metric_alert', parsed.error.issues);
  const data = parsed.data;
  const alert = data.metric_alert;
  const fingerprint = alert.alert_rule?.id ?? alert.id;
  return {
    ok: true,
    parts: {
      fingerprint,
      groupKey: `sentry:metric:${fingerprint}`,
      status,
      // A resolve does not say how bad it was; 'warning' is Tacit's severity for "not stated".
      severity: body.action === 'critical' ? 'critical' : 'warning',
      title: data.description_title,
      labels: present({ rule: alert.alert_rule?.name }),
      annotations: present({ description: data.description_text }),
      startsAt: alert.date_started ?? receivedAt.toISOString(),
      endsAt: status === 'resolved' ? (alert.date_closed ?? receivedAt.toISOString()) : null,
      links: linksOf({ sentry: data.web_url }),
      actor: null,
    },
  };
}

const builders = new Map<string, (body: Body, request: RequestContext) => PartsResult>([
  ['event_alert', fromEventAlert],
  ['issue', fromIssue],
  ['metric_alert', fromMetricAlert],
]);

function normalised(parts: Parts, kind: string, { source, headers }: RequestContext): NormaliseResult<AlertEvent> {
  // Request-ID names one delivery; without it, the news itself (what, which issue, which occurrence) does.
  const delivery = headers['request-id'] ?? `${kind}:${parts.fingerprint}:${parts.startsAt}`;
  const event: AlertEvent = { kind: 'alert', source: 'sentry', sourceId: source.id, channelId: source.channelId, ...parts };
  return {
    ok: true,
    items: [
      {
        dedupeKey: `sentry:${source.id}:${delivery}`,
        urgent: parts.status === 'firing' && parts.severity === 'critical',
        occurredAt: new Date(parts.endsAt ?? parts.startsAt),
        event,
      },
    ],
  };
}

function levelSeverity(level: string | undefined): Severity {
  switch (level?.toLowerCase()) {
    case 'fatal':
      return 'critical';
    case 'info':
    case 'debug':
      return 'info';
    default:
      return 'warning';
  }
}

function invalid(resource: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): PartsResult {
  return { ok: false, reason: `Sentry ${resource} webhook without the fields Tacit needs in data: ${describeIssues(issues)}` };
}

/** Drops absent and empty values, so labels and links only say what Sentry said. */
function present(values: Record<string, string | null | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => Boolean(e[1])));
}

function linksOf(urls: Record<string, string | null | undefined>): { label: string; url: string }[] {
  return Object.entries(present(urls)).map(([label, url]) => ({ label, url }));
}

/** Sentry events carry tags as `[key, value]` pairs; the environment is often only there. */
function tagValue(tags: readonly unknown[] | undefined, key: string): string | undefined {
  const pair = tags?.find((t): t is [string, string] => Array.isArray(t) && t[0] === key && typeof t[1] === 'string');
  return pair?.[1];
}
