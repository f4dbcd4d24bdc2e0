// The database connection: node-postgres when DATABASE_URL is set, embedded PGlite otherwise. Both run
// the same drizzle schema and the same migrations, applied at start-up.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { OutsideTransactionError } from './errors.js';
import * as schema from './schema.js';

type PGliteClient = PGlite;

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle: the same query API as Db, committed or rolled back as one. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Runs pending migrations from migrations/; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** True when a trivial query succeeds within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Arbitrary fixed key for pg_advisory_lock so concurrent start-ups migrate one at a time. */
const MIGRATION_LOCK_KEY = 74_382_911;

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  onError?: (err: Error) => void;
}

export function connectPostgres(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    // A dead database must turn into a fast 503, not a hung webhook.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener an idle client's error (database restart) would crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  // A connection that drops while a client is checked out (between the queries of a transaction)
  // emits on the client; without a listener that would crash the process instead of failing the work.
  pool.on('connect', (client) => client.on('error', (err) => opts.onError?.(err)));
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
        client.release();
      }
    },
    ping: (timeoutMs = 2_000) => pingWith(db, timeoutMs),
    close: () => pool.end(),
  };
}

export async function connectPglite(dataDir: string): Promise<Database> {
  // PGlite is PostgreSQL compiled to one large WebAssembly module. V8's optimising tier recompiles its
  // hot functions in the background and keeps both copies: idle RSS went from ~150 MB to ~900 MB over
  // a few minutes. The baseline (Liftoff) code measured as fast for Tacit's small queries, so the
  // embedded database runs on it; nothing else in Tacit uses WebAssembly. Set before the module loads.
  v8.setFlagsFromString('--liftoff-only');
  // Loaded lazily: the embedded engine is only needed when DATABASE_URL is unset.
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir !== 'memory://') mkdirSync(dataDir, { recursive: true });
  const open = (): PGliteClient => {
    // One local user: 16 MB of shared buffers (PostgreSQL's default is 128 MB) holds Tacit's working set.
    const c = new PGlite(dataDir, { postgresqlconf: ['shared_buffers=16MB'] });
    guardSingleConnection(c);
    return c;
  };
  let client = open();
  const database: Database = {
    db: drizzle(client, { schema }) as unknown as Db,
    kind: 'pglite',
    async migrate() {
      const before = await appliedMigrations(client);
      await migrate(drizzle(client, { schema }), { migrationsFolder });
      // (An in-memory database would be lost by reopening: it keeps its heap.)
      if (dataDir === 'memory://' || (await appliedMigrations(client)) === before) return;
      // Creating the database and migrating it grow the WebAssembly heap to ~600 MB, and a heap never
      // shrinks: reopen, so the running instance starts from ~150 MB. (Before anything else uses `db`.)
      await client.close();
      client = open();
      database.db = drizzle(client, { schema }) as unknown as Db;
      // The closed instance is still referenced for a moment after close() returns: collect shortly after.
      setTimeout(collectGarbage, 50).unref();
    },
    ping: (timeoutMs = 2_000) => pingWith(database.db, timeoutMs),
    close: () => client.close(),
  };
  return database;
}

/** A full collection now, so the closed instance's heap is returned at once rather than at some later GC. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') gc();
}

async function appliedMigrations(client: PGliteClient): Promise<number> {
  try {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
    return rows[0]?.n ?? 0;
  } catch {
    return 0; // a new database: no migrations table yet
  }
}

/** Which transaction, if any, the current async call chain runs inside (PGlite only). */
const holding = new AsyncLocalStorage<{ open: boolean }>();

/**
 * PGlite has one connection. Inside a transaction, a query that does not go through the transaction
 * waits for it to end, and the transaction waits for that query: the embedded database would lock up
 * for good. Such a query is refused at once instead, naming the bug. (Work started from inside a
 * transaction that runs after it ended is fine: the mark is cleared at the end.)
 */
function guardSingleConnection(client: PGliteClient): void {
  const refuse = (what: string) => {
    if (holding.getStore()?.open) throw new OutsideTransactionError(what);
  };
  const { query, exec, transaction } = client;
  client.query = ((...args: Parameters<PGliteClient['query']>) => {
    refuse('query');
    return query.apply(client, args);
  }) as PGliteClient['query'];
  client.exec = ((...args: Parameters<PGliteClient['exec']>) => {
    refuse('exec');
    return exec.apply(client, args);
  }) as PGliteClient['exec'];
  client.transaction = (<T>(fn: Parameters<PGliteClient['transaction']>[0]) => {
    refuse('transaction');
    return transaction.call(client, async (tx) => {
      const mark = { open: true };
      try {
        return (await holding.run(mark, () => fn(tx))) as T;
      } finally {
        mark.open = false;
      }
    });
  }) as PGliteClient['transaction'];
}

async function pingWith(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([db.execute(sql`select 1`).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
