// Intake: every inbound thing becomes a committed event before anyone is told. Webhooks are
// authenticated on the raw body, parsed, normalised and inserted with a dedupe key; only after the
// commit is the workspace marked dirty (and woken at once for urgent news).
import { eq } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { DatabaseUnavailableError, isConnectionError } from '../db/errors.js';
import { events, quarantine, sources } from '../db/schema.js';
import type { EventPayload } from '../core/events.js';
import type { Logger } from '../log.js';
import { alertmanagerPayloadSchema, normaliseAlertmanager } from './alerts/alertmanager.js';
import { bearerMatches } from './auth.js';
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
}

export interface NewEvent {
  workspaceId: string;
  sourceId: string | null;
  dedupeKey: string;
  urgent: boolean;
  occurredAt: Date;
  payload: EventPayload;
}

export type AlertIntakeResult =
  | { kind: 'accepted'; inserted: number; duplicates: number }
  | { kind: 'quarantined'; reason: string };

export interface AlertRequest {
  sourceId: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export async function ingestAlertWebhook(deps: IntakeDeps, request: AlertRequest): Promise<AlertIntakeResult> {
  const source = await guard(() => deps.db.select().from(sources).where(eq(sources.id, request.sourceId)));
  const found = source[0];
  if (!found || found.kind === 'github') throw new UnknownSourceError(request.sourceId);
  if (!bearerMatches(request.authorization, found.tokenHash)) {
    throw new UnauthorizedError('missing or wrong bearer token for this alert source');
  }

  const parsed = parseAlertmanager(request.body);
  if (!parsed.ok) {
    await guard(() =>
      deps.db.insert(quarantine).values({
        workspaceId: found.workspaceId,
        sourceId: found.id,
        reason: parsed.reason,
        contentType: request.contentType ?? null,
        body: request.body,
      }),
    );
    deps.log.warn({ sourceId: found.id, workspaceId: found.workspaceId, reason: parsed.reason }, 'webhook body quarantined');
    return { kind: 'quarantined', reason: parsed.reason };
  }

  const normalised = normaliseAlertmanager(parsed.payload, { id: found.id, channelId: found.channelId });
  const result = await insertEvents(
    deps,
    normalised.map((n) => ({
      workspaceId: found.workspaceId,
      sourceId: found.id,
      dedupeKey: n.dedupeKey,
      urgent: n.urgent,
      occurredAt: n.occurredAt,
      payload: n.event,
    })),
  );
  return { kind: 'accepted', ...result };
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

function parseAlertmanager(body: Buffer): { ok: true; payload: z.infer<typeof alertmanagerPayloadSchema> } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const parsed = alertmanagerPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: `not an Alertmanager v4 payload: ${issues.join('; ')}` };
  }
  return { ok: true, payload: parsed.data };
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
