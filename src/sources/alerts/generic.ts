// Generic JSON alerts: a per-source mapping of dot paths says where the fingerprint, status, title
// and the rest live in the sender's body, for senders without a format of their own (Datadog, Opsgenie).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent } from '../../core/events.js';
import { normaliseSeverity } from '../../core/severity.js';
import { describeIssues, type AlertNormaliser } from '../normalised.js';

const path = z.string().min(1);

export const genericMappingSchema = z.object({
  fingerprint: path,
  status: path,
  title: path,
  severity: path.optional(),
  /** Defaults to the fingerprint: each alert is its own incident. */
  groupKey: path.optional(),
  /** ISO 8601 string, or a Unix time in seconds or milliseconds. Without it: when Tacit received the body. */
  startsAt: path.optional(),
  url: path.optional(),
  description: path.optional(),
  /** An object of scalars, each becoming a string label. */
  labels: path.optional(),
  firingValues: z.array(z.string()).default(['firing', 'triggered', 'alert', 'open', 'create', 'problem']),
  acknowledgedValues: z.array(z.string()).default(['acknowledged', 'acknowledge']),
  resolvedValues: z.array(z.string()).default(['resolved', 'ok', 'recovered', 'closed', 'close', 'resolve']),
});
export type GenericMapping = z.input<typeof genericMappingSchema>;

export interface RecommendedMapping {
  mapping: GenericMapping;
  /** What to paste into the sender's payload editor, when the sender lets you choose the body. */
  template?: string;
  notes: string;
}

export const recommendedMappings: Record<'datadog' | 'opsgenie', RecommendedMapping> = {
  datadog: {
    template: JSON.stringify(
      {
        id: '$ID',
        monitor_id: '$ALERT_ID',
        cycle_key: '$ALERT_CYCLE_KEY',
        transition: '$ALERT_TRANSITION',
        title: '$EVENT_TITLE',
        priority: '$ALERT_PRIORITY',
        link: '$LINK',
        message: '$TEXT_ONLY_MSG',
        date: '$DATE_POSIX',
        labels: { scope: '$ALERT_SCOPE', tags: '$TAGS' },
      },
      null,
      2,
    ),
    mapping: {
      fingerprint: 'cycle_key',
      groupKey: 'monitor_id',
      status: 'transition',
      title: 'title',
      severity: 'priority',
      startsAt: 'date',
      url: 'link',
      description: 'message',
      labels: 'labels',
      firingValues: ['Triggered', 'Re-Triggered', 'Warn', 'Re-Warn', 'No Data'],
      resolvedValues: ['Recovered'],
    },
    notes:
      'Datadog webhooks have no signature: add an "Authorization: Bearer <source token>" custom header. ' +
      '$ALERT_CYCLE_KEY links a trigger to its recovery, so one alert cycle is one alert; grouping by the ' +
      'monitor ($ALERT_ID) makes a new cycle of the same monitor a recurrence of its incident.',
  },
  opsgenie: {
    mapping: {
      fingerprint: 'alert.alias',
      status: 'action',
      title: 'alert.message',
      severity: 'alert.priority',
      startsAt: 'alert.createdAt',
      description: 'alert.description',
      labels: 'alert.details',
      firingValues: ['Create', 'UnAcknowledge'],
      acknowledgedValues: ['Acknowledge'],
      resolvedValues: ['Close', 'Delete'],
    },
    notes:
      'Opsgenie outgoing webhooks have no signature: add an "Authorization: Bearer <source token>" custom header. ' +
      'Forward only the Create, Acknowledge, UnAcknowledge, Close and Delete actions; any other action ' +
      '(AddNote, Escalate, custom actions) is quarantined as an unknown status.',
  },
};

type Scalar = string | number | boolean;

export const normaliseGenericBody: AlertNormaliser = (json, { source, receivedAt }) => {
  const parsedMapping = genericMappingSchema.safeParse(source.settings.mapping);
  if (!parsedMapping.success) return { ok: false, reason: `invalid generic mapping in source settings.mapping: ${describeIssues(parsedMapping.error.issues)}` };
  const mapping = parsedMapping.data;

  const fingerprint = scalarAt(json, mapping.fingerprint);
  const rawStatus = scalarAt(json, mapping.status);
  const title = scalarAt(json, mapping.title);
  if (fingerprint === undefined) return missing('fingerprint', mapping.fingerprint);
  if (rawStatus === undefined) return missing('status', mapping.status);
  if (title === undefined) return missing('title', mapping.title);

  const status = statusOf(rawStatus, mapping);
  if (!status) return { ok: false, reason: `unknown status value "${rawStatus}" at "${mapping.status}" (mapping.status): add it to firingValues, acknowledgedValues or resolvedValues` };

  let startsAt = receivedAt.toISOString();
  if (mapping.startsAt) {
    const raw = scalarAt(json, mapping.startsAt);
    const time = raw === undefined ? receivedAt : timeOf(raw);
    if (!time) return { ok: false, reason: `value at "${mapping.startsAt}" (mapping.startsAt) is neither an ISO 8601 time nor a Unix time` };
    startsAt = time.toISOString();
  }

  const labels = mapping.labels === undefined ? {} : labelsAt(json, mapping.labels);
  if (!labels) return { ok: false, reason: `value at "${mapping.labels}" (mapping.labels) is not an object` };

  const severity = normaliseSeverity(optionalAt(json, mapping.severity));
  const description = optionalAt(json, mapping.description);
  const url = optionalAt(json, mapping.url);
  const endsAt = status === 'resolved' ? receivedAt.toISOString() : null;
  const event: AlertEvent = {
    kind: 'alert',
    source: 'generic',
    sourceId: source.id,
    fingerprint,
    groupKey: optionalAt(json, mapping.groupKey) ?? fingerprint,
    status,
    severity,
    title,
    labels,
    annotations: description ? { description } : {},
    startsAt,
    endsAt,
    links: url ? [{ label: 'source', url }] : [],
    actor: null,
    channelId: source.channelId,
  };
  return {
    ok: true,
    items: [
      {
        // Without a start time from the sender, the body itself tells a retry (identical) from news.
        dedupeKey: `generic:${source.id}:${fingerprint}:${status}:${mapping.startsAt ? startsAt : `body-${contentHash(json)}`}`,
        urgent: status === 'firing' && severity === 'critical',
        occurredAt: new Date(endsAt ?? startsAt),
        event,
      },
    ],
  };
};

/** A hash of the body's content, independent of key order and whitespace (senders re-serialise on retry). */
function contentHash(json: unknown): string {
  return createHash('sha256').update(canonicalJson(json)).digest('hex').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function missing(field: string, at: string): { ok: false; reason: string } {
  return { ok: false, reason: `no ${field} at "${at}" (mapping.${field}): the body has no text or number there` };
}

function statusOf(raw: string, mapping: z.infer<typeof genericMappingSchema>): AlertEvent['status'] | undefined {
  const is = (values: string[]) => values.some((v) => v.toLowerCase() === raw.trim().toLowerCase());
  if (is(mapping.firingValues)) return 'firing';
  if (is(mapping.acknowledgedValues)) return 'acknowledged';
  if (is(mapping.resolvedValues)) return 'resolved';
  return undefined;
}

/** 10^12 is the year 2001 in Unix milliseconds but far in the future in seconds: below it, a number is seconds. */
function timeOf(raw: string): Date | undefined {
  const numeric = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
  const date = numeric === undefined ? new Date(raw) : new Date(numeric < 1e12 ? numeric * 1000 : numeric);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Follows `a.b.0.c` through objects and arrays; undefined when any step is missing. */
function valueAt(json: unknown, dotPath: string): unknown {
  let current: unknown = json;
  for (const key of dotPath.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A non-empty scalar as text: numbers are common for ids and times. */
function scalarAt(json: unknown, dotPath: string): string | undefined {
  const value = valueAt(json, dotPath);
  return isScalar(value) && String(value).trim() !== '' ? String(value) : undefined;
}

function optionalAt(json: unknown, dotPath: string | undefined): string | undefined {
  return dotPath === undefined ? undefined : scalarAt(json, dotPath);
}

/** Missing labels are no labels; a non-object is a mapping mistake. Nested values are skipped. */
function labelsAt(json: unknown, dotPath: string): Record<string, string> | undefined {
  const value = valueAt(json, dotPath);
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (isScalar(v) ? [[k, String(v)]] : [])));
}
