// Poison isolation: no single stored event can stop a workspace. A tick that fails on what it read
// narrows its next read (2,000 events, then 250, 31, 3, 1); an event that keeps failing when read alone is
// set aside in quarantine with the reason, and the workspace goes on with the rest.
import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { isConnectionError } from '../db/errors.js';
import { events, quarantine } from '../db/schema.js';

/** Failures after which an event read alone is quarantined (it failed in every smaller batch first). */
export const maxEventFailures = 5;

/** How many unconsumed events a tick reads when the first of them has already failed `failures` times. */
export function readLimit(batchSize: number, failures: number): number {
  return Math.max(1, Math.floor(batchSize / 8 ** Math.max(0, failures)));
}

// SQLSTATE classes the data itself can cause: data exceptions (22), integrity (23), undefined
// objects or bad syntax from a value (42), program limits such as an index row too large (54).
const dataClasses = /^(22|23|42|54)/;

/**
 * True for failures the events may have caused (a bad value, a limit, a bug they trigger), false for
 * outages (database or Redis unreachable), lost claims and time-outs, which must never cost an event.
 */
export function isPoisonShaped(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  if (depth === 0 && isConnectionError(err)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return dataClasses.test(code);
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err.name === 'ZodError') return true;
  return isPoisonShaped(err.cause, depth + 1);
}

export interface ReadEvent {
  id: number;
  sourceId: string | null;
  failures: number;
  payload: unknown;
}

/**
 * After a tick failed on what it read: every event it read counts one failure, and a lone event at
 * the limit is quarantined (consumed, with its payload and the reason kept). Returns what was done.
 */
export async function recordTickFailure(
  db: Db, workspaceId: string, tickId: string, read: readonly ReadEvent[], err: unknown,
): Promise<'none' | 'counted' | 'quarantined'> {
  if (read.length === 0 || !isPoisonShaped(err)) return 'none';
  const ids = read.map((e) => e.id);
  const [only] = read;
  if (read.length === 1 && only && only.failures + 1 >= maxEventFailures) {
    const reason = `no tick could consume this event (${only.failures + 1} failures): ${(err as Error).message}`.slice(0, 2_000);
    await db.transaction(async (tx) => {
      const set = await tx
        .update(events)
        .set({ tickId: `quarantined:${tickId}`, failures: sql`${events.failures} + 1` })
        .where(and(inArray(events.id, ids), isNull(events.tickId)))
        .returning({ id: events.id });
      if (set.length === 0) return;
      await tx.insert(quarantine).values({
        workspaceId, sourceId: only.sourceId ?? 'chat', kind: 'event', eventId: only.id, reason,
        contentType: 'application/json', body: Buffer.from(JSON.stringify(only.payload)),
      });
    });
    return 'quarantined';
  }
  await db.update(events).set({ failures: sql`${events.failures} + 1` }).where(and(inArray(events.id, ids), isNull(events.tickId)));
  return 'counted';
}
