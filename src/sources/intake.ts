// Intake: every inbound thing becomes a committed event before anyone is told. Webhooks are
// authenticated on the raw body, parsed, normalised and inserted with a dedupe key; only after the
// commit is the workspace marked dirty (and woken at once for urgent news).
import type { Db } from '../db/client.js';
import { DatabaseUnavailableError, isConnectionError } from '../db/errors.js';
import { quarantine } from '../db/schema.js';
import { SecretBoxError } from '../db/secret-box.js';
import type { EventPayload } from '../core/events.js';
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
  /** Runs a tick now instead of at the next scheduled beat. */
  wake(workspaceId: string, generation: number): Promise<void>;
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

export type WebhookResult =
  | { kind: 'accepted'; inserted: number; duplicates: number }
  | { kind: 'quarantined'; reason: string }
  | { kind: 'pong' };

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
    deps.log.error({ err, sourceId: request.sourceId }, 'cannot check the webhook signature: the stored secret is unusable');
    throw new UnauthorizedError('this source cannot verify signatures right now (its secret cannot be decrypted)');
  }
  if (!found || (found.kind === 'github') !== (request.route === 'github')) throw new UnknownSourceError(request.sourceId);
  if (!authenticate(found, request.headers, request.body, request.receivedAt)) throw new UnauthorizedError(credentialHint(found.kind));
  const source = found;

  const quarantined = async (reason: string): Promise<WebhookResult> => {
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
    return { kind: 'quarantined', reason };
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
  if (found.kind === 'github') {
    const eventName = request.headers['x-github-event'] ?? '';
    if (eventName === 'ping') return { kind: 'pong' };
    result = normaliseGithub(eventName, json, context);
  } else {
    result = alertFormats[found.kind](json, context);
  }
  if (!result.ok) return quarantined(result.reason);

  const inserted = await insertEvents(
    deps,
    result.items.map((n) => ({
      workspaceId: found.workspaceId,
      sourceId: found.id,
      dedupeKey: n.dedupeKey,
      urgent: n.urgent,
      occurredAt: n.occurredAt,
      payload: n.event,
    })),
  );
  return { kind: 'accepted', ...inserted };
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
export async function insertEvents(deps: IntakeDeps, list: NewEvent[]): Promise<{ inserted: number; duplicates: number }> {
  if (list.length === 0) return { inserted: 0, duplicates: 0 };
  const { inserted, duplicates } = await guard(() => deps.writer.write(list));
  try {
    for (const workspaceId of new Set(list.map((e) => e.workspaceId))) {
      const generation = await deps.signal.markDirty(workspaceId);
      if (inserted.some((e) => e.workspaceId === workspaceId && e.urgent)) await deps.signal.wake(workspaceId, generation);
    }
  } catch (err) {
    // Committed but not noticed: a 503 makes the sender retry, and the retry (a duplicate) signals again.
    throw new RetryLaterError('events were stored but the heartbeat could not be signalled; retry', { cause: err });
  }
  return { inserted: inserted.length, duplicates };
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
