// Benchmark: signed webhooks over loopback, committed to Postgres before each 2xx, at increasing
// concurrency — against two raw baselines of the same payload at the same concurrency, in the same run:
// single-row INSERTs, and multi-row INSERT … VALUES batches (BENCH_INGEST_BATCH rows each, default 100),
// the ceiling any group commit can approach. Prints committed events/s for all three and both ratios.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startTacit } from '../src/main.js';
import { createBenchDatabase } from './database.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const batchRows = Number(process.env.BENCH_INGEST_BATCH ?? 100);

async function pool<T>(concurrency: number, total: number, task: (i: number) => Promise<T>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface LoadResult {
  seconds: number;
  ok: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
}

/** The load generator runs in its own process, as a real sender would. */
function runLoad(env: Record<string, string>): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./load-client.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as LoadResult);
    });
  });
}

/** One multi-row INSERT … VALUES of `rows` copies of the payload (3 parameters a row, far below Postgres's 65,535). */
async function insertBatch(raw: pg.Pool, rows: number, body: string): Promise<void> {
  const values = Array.from({ length: rows }, (_, r) => `($${r * 3 + 1}, null, 'repo', $${r * 3 + 2}, now(), $${r * 3 + 3})`);
  const params = Array.from({ length: rows }, () => ['playground:local', `raw:${randomUUID()}`, body]).flat();
  await raw.query(`insert into events (workspace_id, source_id, kind, dedupe_key, occurred_at, payload) values ${values.join(', ')}`, params);
}

export async function benchIngest(requests = Number(process.env.BENCH_REQUESTS ?? 2000), levels = [1, 8, 32, 64]): Promise<void> {
  const bench = await createBenchDatabase();
  const { database } = bench;
  const url = new URL(bench.url);
  const secretKey = randomBytes(32).toString('hex');
  const config = loadConfig({
    DATABASE_URL: url.toString(), REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: `tacit-bench-${randomBytes(4).toString('hex')}`,
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TACIT_SECRET_KEY: secretKey,
  });
  const tacit = await startTacit(config, { database, logger: createLogger('silent') });
  const created = await fetch(`${tacit.url}/api/sources`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspaceId: 'playground:local', channelId: 'playground:incidents', kind: 'github' }),
  }).then((r) => r.json() as Promise<{ url: string; secret: string }>);
  const body = readFileSync(new URL('../test/fixtures/github/push.json', import.meta.url), 'utf8');
  const raw = new pg.Pool({ connectionString: url.toString(), max: 64 });

  const rows: Record<string, string | number>[] = [];
  for (const concurrency of levels) {
    const load = await runLoad({ LOAD_URL: created.url, LOAD_SECRET: created.secret, LOAD_BODY: body, LOAD_CONCURRENCY: String(concurrency), LOAD_REQUESTS: String(requests) });
    const webhookSeconds = load.seconds;
    const failures = load.failed;
    const rawSeconds = await pool(concurrency, requests, async () => {
      await raw.query(
        `insert into events (workspace_id, source_id, kind, dedupe_key, occurred_at, payload) values ($1, null, 'repo', $2, now(), $3)`,
        ['playground:local', `raw:${randomUUID()}`, body],
      );
    });
    const batchSeconds = await pool(concurrency, Math.ceil(requests / batchRows), (b) => insertBatch(raw, Math.min(batchRows, requests - b * batchRows), body));
    const webhookRate = requests / webhookSeconds;
    const rawRate = requests / rawSeconds;
    const batchRate = requests / batchSeconds;
    rows.push({
      concurrency,
      'webhook events/s': Math.round(webhookRate),
      'raw inserts/s': Math.round(rawRate),
      [`batched inserts/s (${batchRows}/INSERT)`]: Math.round(batchRate),
      'ratio to single-row': (webhookRate / rawRate).toFixed(2),
      'ratio to batched': (webhookRate / batchRate).toFixed(3),
      'webhook p50 ms': load.p50Ms.toFixed(1),
      'webhook p99 ms': load.p99Ms.toFixed(1),
      'non-2xx': failures,
    });
  }
  const [{ n }] = (await raw.query(`select count(*)::int as n from events where kind = 'repo' and source_id is not null`)).rows as [{ n: number }];

  await raw.end();
  await tacit.stop();
  await bench.drop();

  console.log(`\ningest: signed GitHub webhooks from a separate process (${requests} per level), each answered 200 only after`);
  console.log(`its event is committed, vs raw single-row INSERTs and ${batchRows}-row INSERT … VALUES batches of the same payload from this process`);
  console.table(rows);
  console.log(`events committed through the webhook: ${n} (expected ${requests * levels.length})`);
}
