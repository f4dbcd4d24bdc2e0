// A throwaway PostgreSQL database per benchmark run, migrated, on the machine's server
// (BENCH_DATABASE_URL names the admin connection), dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectPostgres, type Database } from '../src/db/client.js';

export const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  database: Database;
  /** Its connection URL, for clients of its own (a raw baseline, a separate process). */
  url: string;
  /** Closes Tacit's pool and drops the database. */
  drop(): Promise<void>;
}

export async function createBenchDatabase(poolSize = 20): Promise<BenchDatabase> {
  const name = `tacit_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = connectPostgres({ url: url.toString(), poolSize });
  await database.migrate();
  return {
    database,
    url: url.toString(),
    drop: async () => {
      await database.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}
