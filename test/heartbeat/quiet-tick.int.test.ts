// Restraint costs nothing: a tick of a workspace with no news makes no Postgres query and no brain
// call. Queries are counted on the wire by a proxy in front of PostgreSQL.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import type { Brain } from '../../src/brain/port.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { fixture } from '../support/playground.js';

/** Observes the brain port: counts calls, delegates to the real rules brain. */
function countingBrain(): Brain & { calls: number } {
  const inner = new RulesBrain();
  const brain = {
    name: inner.name,
    calls: 0,
    decide: (c: Parameters<Brain['decide']>[0]) => {
      brain.calls++;
      return inner.decide(c);
    },
    reply: (c: Parameters<Brain['reply']>[0]) => {
      brain.calls++;
      return inner.reply(c);
    },
  };
  return brain;
}

describe('a quiet tick', () => {
  let testDb: TestDatabase;
  let proxy: PgProxy;
  let database: Database;
  let redis: Redis;
  let prefix: string;
  let signals: HeartbeatSignals;
  let brain: ReturnType<typeof countingBrain>;
  let deps: TickDeps;
  const delivered: string[] = [];
  const workspaceId = 'playground:quiet-test';

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const setup = new pg.Client({ connectionString: testDb.url });
    await setup.connect();
    await setup.query(`insert into workspaces (id, platform, name) values ($1, 'playground', 'quiet')`, [workspaceId]);
    await setup.query(`insert into channels (id, workspace_id, name) values ('playground:q', $1, 'q')`, [workspaceId]);
    await setup.end();
    proxy = await startPgProxy();
    database = connectPostgres({ url: proxy.url(testDb.url) });
    redis = new Redis(redisUrl);
    prefix = testPrefix();
    signals = new HeartbeatSignals(redis, prefix);
    brain = countingBrain();
    deps = {
      db: database.db, signals, brain, clock: systemClock, log: createLogger('silent'),
      deliver: async (ids) => void delivered.push(...ids),
      wakeAgain: async () => undefined,
    };
  });
  afterAll(async () => {
    await database?.close();
    redis?.disconnect();
    await proxy?.close();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  it('makes zero Postgres queries and zero brain calls when nothing is new', async () => {
    proxy.resetCount();
    for (let i = 0; i < 50; i++) {
      expect(await runTick(deps, workspaceId, 'schedule')).toEqual({ kind: 'quiet' });
    }
    expect(proxy.queries()).toBe(0);
    expect(brain.calls).toBe(0);
    const counters = await signals.counters(workspaceId);
    expect(counters.ticks).toBe(50);
    expect(counters.quiet).toBe(50);
  });

  it('reads Postgres but calls no brain when the news is only chatter', async () => {
    await database.db.execute(
      `insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ('${workspaceId}', 'chat.message', 'chat:1', now(),
       '{"kind":"chat.message","channelId":"playground:q","messageId":"m1","threadId":null,"author":{"id":"bob","name":"bob"},"text":"lunch?"}')`,
    );
    await signals.markDirty(workspaceId);
    proxy.resetCount();
    const outcome = await runTick(deps, workspaceId, 'schedule');
    expect(outcome).toMatchObject({ kind: 'gated', events: 1 });
    expect(proxy.queries()).toBeGreaterThan(0);
    expect(brain.calls).toBe(0);
    expect(await runTick(deps, workspaceId, 'schedule')).toEqual({ kind: 'quiet' }); // consumed and clean again
  });

  it('wakes the brain once for a firing alert, then is quiet again', async () => {
    const alert = JSON.parse(fixture('alertmanager/firing.json').toString()).alerts[0];
    const payload = {
      kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: alert.fingerprint, groupKey: 'g', status: 'firing',
      severity: 'critical', title: 'Pod is crash looping.', labels: alert.labels, annotations: alert.annotations,
      startsAt: alert.startsAt, endsAt: null, links: [], channelId: 'playground:q',
    };
    const client = new pg.Client({ connectionString: testDb.url });
    await client.connect();
    await client.query(
      `insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', 'a1', now(), $2)`,
      [workspaceId, payload],
    );
    await client.end();
    await signals.markDirty(workspaceId);
    const outcome = await runTick(deps, workspaceId, 'wake');
    expect(outcome).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    expect(brain.calls).toBe(1);
    // Parent card and thread summary queued; the card goes to delivery now, the summary when the card is out.
    expect(outcome.kind === 'decided' && outcome.outboxIds).toHaveLength(2);
    expect(delivered).toHaveLength(1);

    proxy.resetCount();
    expect(await runTick(deps, workspaceId, 'schedule')).toEqual({ kind: 'quiet' });
    expect(proxy.queries()).toBe(0);
    expect(brain.calls).toBe(1);
  });
});
