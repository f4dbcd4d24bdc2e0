// Who decides that a message is dead: only the delivery processor, and only when the platform refused
// it (or failed on it every attempt). A job BullMQ failed on its own — stalled past its limit, which is
// what a crash looks like to it — leaves the row pending, and the row is queued again and delivered once.
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaygroundAdapter } from '../../src/chat/playground/index.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { Delivery } from '../../src/delivery/worker.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('delivery verdicts', () => {
  let testDb: TestDatabase;
  let database: Database;
  let direct: pg.Client;
  let redis: Redis;
  let delivery: Delivery;
  const prefix = testPrefix();
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

  const insertRow = (id: string, key: string, anchor: Record<string, unknown> = { type: 'channel' }) =>
    direct.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message) values ($1, 'playground:local', $2, 'post', 'playground:incidents', $3, $4)`,
      [id, key, anchor, { text: `note ${key}` }],
    );
  const row = async (id: string) => (await direct.query('select status, last_error from outbox where id = $1', [id])).rows[0] as { status: string; last_error: string | null };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    direct = new pg.Client({ connectionString: testDb.url });
    await direct.connect();
    await direct.query(`insert into workspaces (id, platform, name) values ('playground:local', 'playground', 'Playground')`);
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const playground = createPlaygroundAdapter({ db: database.db, log });
    delivery = new Delivery({ db: database.db, connection: redis, prefix, adapters: { playground }, log });
  });
  afterAll(async () => {
    await delivery?.close();
    redis?.disconnect();
    await database?.close();
    await direct?.end();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  it('queues again, and delivers once, a pending row whose job BullMQ failed for stalling too often', async () => {
    await insertRow('out_stalled', 'test:stalled');
    await delivery.enqueue(['out_stalled']);
    // BullMQ fails a job that stalled past `maxStalledCount` before any processor sees it; a worker that
    // does only that stands in for the process that kept dying under it.
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const stalling = new Worker('deliver', async () => {
      throw new UnrecoverableError('job stalled more than allowable limit');
    }, { connection, prefix });
    await waitFor(async () => (await delivery.queue.getJobState('out_stalled')) === 'failed', { what: 'the job failed by BullMQ' });
    await stalling.close();
    connection.disconnect();
    expect((await row('out_stalled')).status).toBe('pending');

    // What the outbox sweep and the start-up recovery do: the failed job no longer blocks the row's id.
    await delivery.enqueue(['out_stalled']);
    delivery.start();
    await waitFor(async () => (await row('out_stalled')).status === 'sent', { what: 'the row delivered' });
    const { rows } = await direct.query(`select count(*)::int as n from playground_messages where idempotency_key = 'test:stalled'`);
    expect(rows[0]?.n).toBe(1);
  });

  it('marks a row dead at once when the platform refuses it, with the reason', async () => {
    await insertRow('out_refused', 'test:refused', { type: 'dm', personId: 'nobody-here' });
    await delivery.enqueue(['out_refused']);
    await waitFor(async () => (await row('out_refused')).status === 'dead', { what: 'the refused row dead' });
    expect((await row('out_refused')).last_error).toContain('no playground user nobody-here');
  });
});
