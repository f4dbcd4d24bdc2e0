// Intake: every inbound thing becomes a committed event before anyone is told. Webhooks are
// authenticated on the raw body, parsed, normalised and inserted with a dedupe key; only after the
// commit is the workspace marked dirty (and woken at once for urgent news).
import type { Db } from '../db/client.js';
import { DatabaseUnavailableError, isConnectionError } from '../db/errors.js';
import { quarantine } from '../db/schema.js';
import { SecretBoxError } from '../db/secret-box.js';
import { eventPayloadSchema, type EventPayload } from '../core/events.js';
import type { EventWriter, NewEvent } from './event-writer.js';
import type { CachedSource, SourceCache } from './source-cache.js';
import type { Logger } from '../log.js';
import { authenticate } from './auth.js';
import { alertFormats } from './formats.js';
import { normaliseGithub } from './github/normalise.js';
import type { HeaderMap, NormaliseResult } from './normalised.js';
import { RetryLaterError, UnauthorizedError, UnknownSourceError } from './errors.js';

/** How intake tells the heartbeat about news. Implemented by heartbeat/scheduler. */
export interface WorkspaceSignal {
  /** Marks news for the next tick; returns the dirty generation. */
  markDirty(workspaceId: string): Promise<number>;
  /** Runs a tick now (or after `delayMs`) instead of at the next scheduled beat. */
  wake(workspaceId: string, generation: number, delayMs?: number): Promise<void>;
}

export interface IntakeDeps {
  db: Db;
  signal: WorkspaceSignal;
  log: Logger;
  /** Sources with their signing secrets opened, cached for a few seconds. */
  sources: SourceCache;
  /** Group-commits event inserts. */
  writer: EventWriter;
}

export type { NewEvent } from './event-writer.js';

/** `source`: the source's kind (`alertmanager`, `github`…), for metrics. */
export type WebhookResult = { source: string } & (
  | { kind: 'accepted'; inserted: number; duplicates: number }
  | { kind: 'quarantined'; reason: string }
  | { kind: 'pong' });

export interface WebhookRequest {
  /** `alert` for /hooks/alerts, `github` for /hooks/github. */
  route: 'alert' | 'github';
  sourceId: string;
  /** Lower-cased header names. */
  headers: HeaderMap;
  body: Buffer;
  receivedAt: Date;
}

/**
 * Authenticates on the raw bytes, then parses and normalises. A body that is authentic but cannot
 * be used is quarantined (raw bytes and reason kept) and answered 2xx: senders disable endpoints
 * that keep answering 4xx.
 */
export async function ingestWebhook(deps: IntakeDeps, request: WebhookRequest): Promise<WebhookResult> {
  let found: CachedSource | null;
  try {
    found = await guard(() => deps.sources.get(request.sourceId));
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    // Our key problem, not the sender's: 503 keeps it retrying (a 401 would make it give up).
    deps.log.error({ err, sourceId: request.sourceId }, 'cannot check the webhook signature: the stored secret is unusable (TACIT_SECRET_KEY?)');
    throw new RetryLaterError('this source cannot verify signatures right now; retry later');
  }
  if (!found || (found.kind === 'github') !== (request.route === 'github')) throw new UnknownSourceError(request.sourceId);
  // A revoked source keeps its id (and its history) but no credentials: the sender learns at once.
  if (found.revokedAt) throw new UnauthorizedError('this source was revoked; connect a new one with /tacit connect');
  if (!authenticate(found, request.headers, request.body, request.receivedAt)) throw new UnauthorizedError(credentialHint(found.kind));
  const source = found;

  const quarantined = async (why: string): Promise<WebhookResult> => {
    const reason = withoutNul(why).slice(0, 2000);
    await guard(() =>
      deps.db.insert(quarantine).values({
        workspaceId: source.workspaceId,
        sourceId: source.id,
        reason,
        contentType: request.headers['content-type'] ?? null,
        body: request.body,
      }),
    );
    deps.log.warn({ sourceId: source.id, workspaceId: source.workspaceId, reason }, 'webhook body quarantined');
    return { kind: 'quarantined', reason, source: source.kind };
  };

  let json: unknown;
  try {
    json = JSON.parse(request.body.toString('utf8'));
  } catch (err) {
    return quarantined(`body is not JSON: ${(err as Error).message}`);
  }
  const context = {
    source: { id: found.id, channelId: found.channelId, settings: found.settings },
    headers: request.headers,
    receivedAt: request.receivedAt,
  };
  let result: NormaliseResult<EventPayload>;
  try {
    if (found.kind === 'github') {
      const eventName = request.headers['x-github-event'] ?? '';
      if (eventName === 'ping') return { kind: 'pong', source: source.kind };
      result = normaliseGithub(eventName, json, context);
    } else {
      result = alertFormats[found.kind](json, context);
    }
  } catch (err) {
    // A value no schema foresaw (a timestamp out of range…): the body is authentic, so keep it.
    return quarantined(`could not be normalised: ${(err as Error).message}`);
  }
  if (!result.ok) return quarantined(result.reason);

  const list: NewEvent[] = [];
  for (const n of result.items) {
    const checked = storable(n.event, n.occurredAt, request.receivedAt);
    if (!checked.ok) return quarantined(checked.reason);
    list.push({ workspaceId: source.workspaceId, sourceId: source.id, dedupeKey: withoutNul(n.dedupeKey), urgent: n.urgent, occurredAt: checked.occurredAt, payload: checked.event });
  }
  try {
    const { inserted, duplicates } = await insertEvents(deps, list);
    return { kind: 'accepted', inserted, duplicates, source: source.kind };
  } catch (err) {
    if (err instanceof RetryLaterError || err instanceof DatabaseUnavailableError) throw err;
    // Postgres refused the values themselves; a retry would never succeed, so keep the body instead.
    if (dataError(err)) return quarantined(`the database refused the values: ${databaseMessage(err)}`);
    // Any other refusal (serialisation, a lock, resources) may pass later: 503, and the sender retries.
    if (sqlState(err) !== undefined) throw new DatabaseUnavailableError('the database cannot commit right now', { cause: err });
    throw err;
  }
}

/** The stored form: no NUL characters (Postgres text cannot hold them), a valid event time. */
function storable(event: EventPayload, occurredAt: Date, receivedAt: Date): { ok: true; event: EventPayload; occurredAt: Date } | { ok: false; reason: string } {
  const cleaned = eventPayloadSchema.safeParse(stripNul(event));
  if (!cleaned.success) return { ok: false, reason: `normalised event is invalid: ${cleaned.error.issues[0]?.message ?? ''}` };
  return { ok: true, event: cleaned.data, occurredAt: Number.isFinite(occurredAt.getTime()) ? occurredAt : receivedAt };
}

function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

function stripNul(value: unknown): unknown {
  if (typeof value === 'string') return withoutNul(value);
  if (Array.isArray(value)) return value.map(stripNul);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), stripNul(v)]));
  return value;
}

/**
 * SQLSTATEs that say "these values can never be stored": class 22 (a bad value), 23 (a constraint),
 * 54 (a limit: an index row or a statement too large) and 08P01 (a statement the protocol cannot
 * carry). Everything else (connection, serialisation, lock, resources) may pass on a retry: 503.
 */
function dataError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && (/^(22|23|54)/.test(code) || code === '08P01');
}

/** The PostgreSQL error code in an error's cause chain, if the database answered with one. */
function sqlState(err: unknown): string | undefined {
  const code = databaseError(err)?.code;
  return typeof code === 'string' ? code : undefined;
}

function databaseError(err: unknown): (Error & { code?: unknown }) | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return e;
  }
  return undefined;
}

/** What PostgreSQL said (drizzle wraps it in "database query failed"), first line, with its code. */
function databaseMessage(err: unknown): string {
  const e = databaseError(err);
  return e ? `${e.message.split('\n')[0] ?? ''} (SQLSTATE ${String(e.code)})` : (err as Error).message;
}

function credentialHint(kind: string): string {
  switch (kind) {
    case 'github':
      return 'missing or wrong X-Hub-Signature-256 for this source';
    case 'sentry':
      return 'missing or wrong Sentry-Hook-Signature for this source';
    case 'pagerduty':
      return 'missing or wrong X-PagerDuty-Signature (or bearer token) for this source';
    case 'grafana':
      return 'missing or wrong signature or bearer token for this Grafana source';
    default:
      return 'missing or wrong bearer token for this alert source';
  }
}

/**
 * Inserts events (duplicates by dedupe key are ignored) in one statement, then signals the
 * heartbeat. The signal is sent even when every event was a duplicate: a sender retrying after a
 * failed signal must still get its events noticed.
 */
export async function insertEvents(
  deps: IntakeDeps,
  list: NewEvent[],
): Promise<{ inserted: number; duplicates: number; ids: number[] }> {
  if (list.length === 0) return { inserted: 0, duplicates: 0, ids: [] };
  const { inserted, duplicates } = await guard(() => deps.writer.write(list));
  try {
    for (const workspaceId of new Set(list.map((e) => e.workspaceId))) {
      const generation = await withTimeout(deps.signal.markDirty(workspaceId), SIGNAL_TIMEOUT_MS);
      // Urgent even when a duplicate: a retry after a failed signal must still wake the workspace.
      if (list.some((e) => e.workspaceId === workspaceId && e.urgent)) await withTimeout(deps.signal.wake(workspaceId, generation, WAKE_COALESCE_MS), SIGNAL_TIMEOUT_MS);
    }
  } catch (err) {
    // Committed, so answered 2xx: the events are safe in Postgres and the mark comes back without the
    // sender. The command waits for Redis's return; a restart, or Redis coming back empty, rebuilds
    // marks from unconsumed events (heartbeat/restore.ts). A 503 here would only invite duplicates.
    deps.log.warn({ err: (err as Error).message, workspaceIds: [...new Set(list.map((e) => e.workspaceId))] }, 'events stored; the heartbeat will be signalled when Redis answers again');
  }
  return { inserted: inserted.length, duplicates, ids: inserted.map((e) => e.id) };
}

/** Redis down must not hold a committed request until the sender times out (Slack: 3 s for everything). */
const SIGNAL_TIMEOUT_MS = 1_000;

/**
 * Urgent news wakes the tick this long after it arrived, not at once: Alertmanager flushes the groups
 * of one outage together, and a tick that reads them together makes one storm card of them instead of
 * a card for whichever group came first. Short, because the card's latency is the on-call's.
 */
const WAKE_COALESCE_MS = 250;

/** A Redis signal (mark, wake, enqueue) after a commit, bounded: it still completes when Redis returns. */
export function boundedSignal<T>(promise: Promise<T>): Promise<T> {
  return withTimeout(promise, SIGNAL_TIMEOUT_MS);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a database call; a connection failure becomes DatabaseUnavailableError (503, sender retries). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isConnectionError(err)) throw new DatabaseUnavailableError('the database cannot commit right now', { cause: err });
    throw err;
  }
}
