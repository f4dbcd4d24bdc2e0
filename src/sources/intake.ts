// Intake: every inbound thing becomes a committed event before anyone is told. Webhooks are
// authenticated on the raw body, parsed, normalised and inserted with a dedupe key; only after the
// commit is the workspace marked dirty (and woken at once for urgent news).
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { DatabaseUnavailableError, isConnectionError } from '../db/errors.js';
import { events, quarantine, sources } from '../db/schema.js';
import type { EventPayload } from '../core/events.js';
import type { SecretBox } from '../db/secret-box.js';
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
  /** Opens stored signing secrets. */
  secrets: SecretBox;
}

export interface NewEvent {
  workspaceId: string;
  sourceId: string | null;
  dedupeKey: string;
  urgent: boolean;
  occurredAt: Date;
  payload: EventPayload;
}

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
  const [found] = await guard(() => deps.db.select().from(sources).where(eq(sources.id, request.sourceId)));
  if (!found || (found.kind === 'github') !== (request.route === 'github')) throw new UnknownSourceError(request.sourceId);
  let authentic: boolean;
  try {
    authentic = authenticate(found, request.headers, request.body, deps.secrets, request.receivedAt);
  } catch (err) {
    deps.log.error({ err, sourceId: found.id }, 'cannot check the webhook signature: the stored secret is unusable');
    throw new UnauthorizedError('this source cannot verify signatures right now (its secret cannot be decrypted)');
  }
  if (!authentic) throw new UnauthorizedError(credentialHint(found.kind));

  const quarantined = async (reason: string): Promise<WebhookResult> => {
    await guard(() =>
      deps.db.insert(quarantine).values({
        workspaceId: found.workspaceId,
        sourceId: found.id,
        reason,
        contentType: request.headers['content-type'] ?? null,
        body: request.body,
      }),
    );
    deps.log.warn({ sourceId: found.id, workspaceId: found.workspaceId, reason }, 'webhook body quarantined');
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
  const inserted = await guard(() =>
    deps.db
      .insert(events)
      .values(list.map((e) => ({ ...e, kind: e.payload.kind })))
      .onConflictDoNothing({ target: [events.workspaceId, events.dedupeKey] })
      .returning({ id: events.id, workspaceId: events.workspaceId, urgent: events.urgent }),
  );
  try {
    for (const workspaceId of new Set(list.map((e) => e.workspaceId))) {
      const generation = await deps.signal.markDirty(workspaceId);
      if (inserted.some((e) => e.workspaceId === workspaceId && e.urgent)) await deps.signal.wake(workspaceId, generation);
    }
  } catch (err) {
    // Committed but not noticed: a 503 makes the sender retry, and the retry (a duplicate) signals again.
    throw new RetryLaterError('events were stored but the heartbeat could not be signalled; retry', { cause: err });
  }
  return { inserted: inserted.length, duplicates: list.length - inserted.length };
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
