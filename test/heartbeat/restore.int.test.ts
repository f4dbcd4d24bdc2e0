// The restore from Postgres, part by part: schedules for every workspace that is not removed (in
// batches, within one beat even for thousands), dirty flags, pending deliveries, unanswered mentions;
// a single lost scheduler is found by the maintenance check.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { Delivery } from '../../src/delivery/worker.js';
import { Conversations } from '../../src/heartbeat/converse.js';
import { Maintenance } from '../../src/heartbeat/maintenance.js';
import { restoreMarker, restoreMissingHeartbeats, restoreSteps, ScheduleRestore, type RestoreDeps } from '../../src/heartbeat/restore.js';
import { Heartbeat } from '../../src/heartbeat/scheduler.js';
import { HeartbeatSignals, workspaceKey } from '../../src/heartbeat/signals.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const WORKSPACES = 5_000;
const BEAT_MS = 10_000; // the default heartbeat interval

describe('restoring schedules from Postgres', () => {
  let testDb: TestDatabase;
  let database: Database;
  let redis: Redis;
  let heartbeat: Heartbeat;
  let delivery: Delivery;
  let conversations: Conversations;
  let maintenance: Maintenance;
  let restore: ScheduleRestore;
  let deps: RestoreDeps;
  const prefix = testPrefix();
  const log = createLogger('silent');
  const mentions: Record<string, number> = {};

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const setup = new pg.Client({ connectionString: testDb.url });
    await setup.connect();
    await setup.query(`insert into workspaces (id, platform, name) select 'playground:w' || i, 'playground', 'w' || i from generate_series(0, $1 - 1) i`, [WORKSPACES]);
    await setup.query(`insert into workspaces (id, platform, name, removed_at) values ('playground:gone', 'playground', 'gone', now())`);
    await setup.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ('playground:w7', 'alert', 'a1', now(), '{"kind":"alert"}')`);
    const mention = async (key: string, receivedAgo: string) => {
      const { rows } = await setup.query(
        `insert into events (workspace_id, kind, dedupe_key, occurred_at, received_at, tick_id, payload)
         values ('playground:w1', 'chat.mention', $1, now(), now() - $2::interval, 'tick_x', '{"kind":"chat.mention"}') returning id`, [key, receivedAgo]);
      mentions[key] = Number(rows[0].id);
    };
    await mention('unanswered', '5 minutes');
    await mention('answered', '5 minutes');
    await mention('long-ago', '3 hours');
    await setup.query(`insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, status) values
      ('out_pending', 'playground:w1', 'k1', 'post', 'c', '{}', '{}', 'pending'),
      ('out_sent', 'playground:w1', 'k2', 'post', 'c', '{}', '{}', 'sent'),
      ('out_reply', 'playground:w1', $1, 'post', 'c', '{}', '{}', 'sent')`, [`reply:${mentions.answered}`]);
    await setup.end();

    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const signals = new HeartbeatSignals(redis, prefix);
    heartbeat = new Heartbeat({ connection: redis, prefix, signals, log, runTick: async () => ({ kind: 'quiet' }) });
    delivery = new Delivery({ db: database.db, connection: redis, prefix, adapters: {}, log });
    conversations = new Conversations({ db: database.db, connection: redis, prefix, brain: new RulesBrain(), clock: systemClock, signals, log, deliver: async () => undefined });
    maintenance = new Maintenance({ connection: redis, prefix, log, tasks: [{ name: 'noop', everyMs: 60_000, runAtStart: false, run: async () => undefined }] });
    deps = {
      db: database.db, defaultIntervalMs: BEAT_MS,
      schedule: (list) => heartbeat.scheduleMany(list),
      markDirty: (ws) => signals.markDirty(ws),
      scheduleMaintenance: (runNow) => maintenance.schedule(runNow),
      deliver: (ids) => delivery.enqueue(ids),
      converse: (id, ws) => conversations.enqueue(id, ws),
      reconcileActions: async () => ({ expired: 0, resumed: 0 }),
    };
    restore = new ScheduleRestore({ redis, prefix, log, checkEveryMs: 100, steps: restoreSteps(deps) });
  }, 60_000);

  afterAll(async () => {
    await restore?.close();
    await Promise.all([heartbeat?.close(), delivery?.close(), conversations?.close(), maintenance?.close()]);
    redis?.disconnect();
    await database?.close();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  it('restores every workspace schedule, dirty flag, delivery and unanswered mention at start-up', async () => {
    expect(await restore.ready()).toBe(false); // /readyz is 503 until the start-up restore is done
    const started = Date.now();
    await restore.start();
    const tookMs = Date.now() - started;
    console.info(`restore at start-up: ${WORKSPACES} workspaces in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(BEAT_MS);
    expect(await heartbeat.schedulerCount()).toBe(WORKSPACES);
    expect(await heartbeat.isScheduled('playground:gone')).toBe(false);
    expect(await restore.ready()).toBe(true);
    // Redis had no marker: every workspace ticks once (lost due times are asked for again).
    expect(Number(await redis.hget(workspaceKey(prefix, 'playground:w4999'), 'dirty'))).toBeGreaterThan(0);
    expect(await redis.hget(workspaceKey(prefix, 'playground:gone'), 'dirty')).toBeNull();
    expect(await delivery.queue.getJob('out_pending')).toBeDefined();
    expect(await delivery.queue.getJob('out_sent')).toBeUndefined();
    expect(await conversations.queue.getJob(`mention.${mentions.unanswered}`)).toBeDefined();
    expect(await conversations.queue.getJob(`mention.${mentions.answered}`)).toBeUndefined();
    expect(await conversations.queue.getJob(`mention.${mentions['long-ago']}`)).toBeUndefined();
    expect(await maintenance.schedule(false)).toBe(1);
  }, 30_000);

  it('notices Redis emptied and restores it again, reporting not ready until done', async () => {
    await dropPrefix(prefix); // what a restart without persistence does to this deployment's keys
    expect(await restore.ready()).toBe(false);
    const started = Date.now();
    await waitFor(async () => (await redis.exists(restoreMarker(prefix))) === 1, { what: 'the restore marker', timeoutMs: BEAT_MS });
    console.info(`restore after Redis emptied: ${WORKSPACES} workspaces in ${Date.now() - started} ms (detection included)`);
    expect(await heartbeat.schedulerCount()).toBe(WORKSPACES);
    expect(await redis.hget(workspaceKey(prefix, 'playground:w7'), 'dirty')).not.toBeNull();
    expect(await delivery.queue.getJob('out_pending')).toBeDefined();
    expect(await restore.ready()).toBe(true);
  }, 30_000);

  it('re-creates a scheduler lost on its own, found by the maintenance check', async () => {
    await heartbeat.unschedule('playground:w42');
    expect(await heartbeat.schedulerCount()).toBe(WORKSPACES - 1);
    expect(await restoreMissingHeartbeats({ ...deps, schedulerCount: () => heartbeat.schedulerCount() }, log)).toBe(WORKSPACES);
    expect(await heartbeat.isScheduled('playground:w42')).toBe(true);
    expect(await restoreMissingHeartbeats({ ...deps, schedulerCount: () => heartbeat.schedulerCount() }, log)).toBe(0);
  }, 30_000);
});
