// Group commit for events: inserts that arrive while one is in flight are written together in the
// next single INSERT. Every caller still waits for the commit of its own rows before answering, so
// "2xx only after commit" holds; under load, many webhooks share one round trip and one fsync.
import type { Db, Tx } from '../db/client.js';
import { isConnectionError } from '../db/errors.js';
import { events } from '../db/schema.js';
import type { EventPayload } from '../core/events.js';
import { boundKey } from '../core/keys.js';

/**
 * Rows per INSERT statement. PostgreSQL takes at most 65,535 bind parameters per statement and an
 * event row binds 7, so one Alertmanager group of 12,000 alerts is written as several statements
 * of one transaction: still committed (or refused) as a whole before anyone is answered.
 */
export const ROWS_PER_STATEMENT = 1_000;

export interface NewEvent {
  workspaceId: string;
  sourceId: string | null;
  dedupeKey: string;
  urgent: boolean;
  occurredAt: Date;
  payload: EventPayload;
}

export interface WriteResult {
  /** The events this call inserted (not duplicates of stored ones). */
  inserted: { id: number; workspaceId: string; dedupeKey: string; urgent: boolean }[];
  duplicates: number;
}

interface Pending {
  list: NewEvent[];
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

export class EventWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly maxRows = 500,
  ) {}

  write(list: NewEvent[]): Promise<WriteResult> {
    if (list.length === 0) return Promise.resolve({ inserted: [], duplicates: 0 });
    // Dedupe keys embed sender text (fingerprints, ids): bounded so any of them fits the unique index.
    const bounded = list.map((e) => ({ ...e, dedupeKey: boundKey(e.dedupeKey) }));
    return new Promise((resolve, reject) => {
      this.queue.push({ list: bounded, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let rows = 0;
        while (this.queue.length > 0 && (batch.length === 0 || rows + (this.queue[0]?.list.length ?? 0) <= this.maxRows)) {
          const next = this.queue.shift();
          if (!next) break;
          batch.push(next);
          rows += next.list.length;
        }
        await this.insert(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async insert(batch: Pending[]): Promise<void> {
    try {
      const rows = batch.flatMap((p) => p.list.map((e) => ({ ...e, kind: e.payload.kind })));
      const inserted = rows.length <= ROWS_PER_STATEMENT
        ? await insertRows(this.db, rows)
        : await this.db.transaction(async (tx) => {
            const all: Awaited<ReturnType<typeof insertRows>> = [];
            for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) all.push(...(await insertRows(tx, rows.slice(i, i + ROWS_PER_STATEMENT))));
            return all;
          });
      // A key inserted by this statement belongs to the first caller that asked for it.
      const fresh = new Map(inserted.map((r) => [`${r.workspaceId}\u0000${r.dedupeKey}`, r]));
      for (const p of batch) {
        const mine = p.list.flatMap((e) => {
          const key = `${e.workspaceId}\u0000${e.dedupeKey}`;
          const row = fresh.get(key);
          if (!row) return [];
          fresh.delete(key);
          return [row];
        });
        p.resolve({ inserted: mine, duplicates: p.list.length - mine.length });
      }
    } catch (err) {
      // One sender's bad value must not fail everyone else's webhook: write them one by one.
      if (batch.length > 1 && !isConnectionError(err)) {
        for (const p of batch) await this.insert([p]);
        return;
      }
      for (const p of batch) p.reject(err);
    }
  }
}

type EventRow = NewEvent & { kind: EventPayload['kind'] };

function insertRows(db: Db | Tx, rows: EventRow[]) {
  return db
    .insert(events)
    .values(rows)
    .onConflictDoNothing({ target: [events.workspaceId, events.dedupeKey] })
    .returning({ id: events.id, workspaceId: events.workspaceId, dedupeKey: events.dedupeKey, urgent: events.urgent });
}
