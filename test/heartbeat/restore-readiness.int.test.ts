// Readiness means restored: Tacit starting on an empty Redis with 2,000 workspaces in Postgres
// answers /readyz 503 until every workspace's scheduler is back, and 200 only once all of them are,
// so a load balancer never sends traffic to a process whose heartbeats are still missing.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEAT_PARTITIONS, beatsKey } from '../../src/heartbeat/beats.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { freePort } from '../support/net.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

/** RESTORE_READY_WORKSPACES: the size (default 2,000; the issue measured 10,000). */
const WORKSPACES = Number(process.env.RESTORE_READY_WORKSPACES ?? 2_000);

describe('readiness after a start on an empty Redis', () => {
  let testDb: TestDatabase;
  let redis: Redis;
  let tacit: TestTacit | undefined;
  const prefix = testPrefix();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const client = new pg.Client({ connectionString: testDb.url });
    await client.connect();
    await client.query(
      `insert into workspaces (id, platform, name) select 'playground:r' || i, 'playground', 'r' || i from generate_series(1, $1) i`,
      [WORKSPACES],
    );
    await client.end();
    redis = new Redis(redisUrl);
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
    redis?.disconnect();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  it(`is not ready before all ${WORKSPACES} schedulers are restored`, { timeout: 60_000 }, async () => {
    const port = await freePort();
    const started = Date.now();
    const starting = startTestTacit({
      env: { PORT: String(port), TACIT_REDIS_PREFIX: prefix, TACIT_HEARTBEAT_INTERVAL_MS: '10000' },
      databaseUrl: () => testDb.url,
    });
    const answers: { status: number; schedulers: number; atMs: number }[] = [];
    for (let done = false; !done;) {
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
      // Counted right after the answer: a 200 must already see every scheduler.
      const schedulers = (await Promise.all(Array.from({ length: BEAT_PARTITIONS }, (_, p) => redis.zcard(beatsKey(prefix, p))))).reduce((a, b) => a + b, 0);
      if (status !== 0) answers.push({ status, schedulers, atMs: Date.now() - started });
      done = status === 200;
      if (!done) await new Promise((r) => setTimeout(r, 10));
    }
    tacit = await starting;
    const first200 = answers.find((a) => a.status === 200);
    const not = answers.filter((a) => a.status === 503);
    console.info(
      `restore before ready: ${WORKSPACES} workspaces; first answer at ${answers[0]?.atMs} ms, ${not.length} × 503, ` +
      `ready at ${first200?.atMs} ms with ${first200?.schedulers} schedulers`,
    );
    expect(answers.every((a) => a.status === 503 || a.status === 200)).toBe(true);
    expect(first200?.schedulers).toBeGreaterThanOrEqual(WORKSPACES); // and the playground's own
    expect(not.length).toBeGreaterThan(0);
  });
});
