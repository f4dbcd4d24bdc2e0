// A tick that fails midway leaves nothing half-applied and is retried; Tacit's own and other bots'
// messages never wake a workspace.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Brain } from '../../src/brain/port.js';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { Heartbeat } from '../../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { ingestChatMessage } from '../../src/sources/chat.js';
import { EventWriter } from '../../src/sources/event-writer.js';
import { createSecretBox } from '../../src/db/secret-box.js';
import { SourceCache } from '../../src/sources/source-cache.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { fixture } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';

describe('tick failures and bot traffic', () => {
  let testDb: TestDatabase;
  let database: Database;
  let direct: pg.Client;
  let redis: Redis;
  let prefix: string;
  let signals: HeartbeatSignals;
  const ws = 'playground:fail-test';
  const log = createLogger('silent');

  beforeAll(async () => {
    testDb = await createTestDatabase();
    direct = new pg.Client({ connectionString: testDb.url });
    await direct.connect();
    await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', 'fail')`, [ws]);
    await direct.query(`insert into channels (id, workspace_id, name) values ('playground:f', $1, 'f')`, [ws]);
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl);
    prefix = testPrefix();
    signals = new HeartbeatSignals(redis, prefix);
  });
  afterAll(async () => {
    await direct?.end();
    await database?.close();
    redis?.disconnect();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  const count = async (sql: string) => Number((await direct.query(sql)).rows[0].n);

  it('rolls back a tick whose brain fails, keeps the workspace dirty, and applies everything once on the retry', async () => {
    const alert = JSON.parse(fixture('alertmanager/firing.json').toString()).alerts[0];
    await direct.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', 'a1', now(), $2)`, [
      ws,
      { kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: 'fp', groupKey: 'g', status: 'firing', severity: 'critical',
        title: 'Pod is crash looping.', labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt, endsAt: null,
        links: [], actor: null, channelId: 'playground:f' },
    ]);
    await signals.markDirty(ws);
    let failures = 1;
    const rules = new RulesBrain();
    const flaky: Brain = {
      name: 'flaky',
      decide: async (c) => {
        if (failures-- > 0) throw new Error('model unavailable');
        return rules.decide(c);
      },
      reply: (c) => rules.reply(c),
    };
    const delivered: string[] = [];
    const deps: TickDeps = {
      db: database.db, signals, brain: flaky, clock: systemClock, log,
      deliver: async (ids) => void delivered.push(...ids), wakeAgain: async () => undefined,
    };

    await expect(runTick(deps, ws, 'schedule')).rejects.toThrow('model unavailable');
    expect(await count(`select count(*) as n from incidents`)).toBe(0);
    expect(await count(`select count(*) as n from decisions`)).toBe(0);
    expect(await count(`select count(*) as n from outbox`)).toBe(0);
    expect(await count(`select count(*) as n from events where tick_id is null`)).toBe(1);
    expect((await signals.counters(ws)).failed).toBe(1);

    // Still dirty: the next beat retries from the same events.
    expect(await runTick(deps, ws, 'schedule')).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    expect(await count(`select count(*) as n from incidents`)).toBe(1);
    expect(await count(`select count(*) as n from outbox`)).toBe(2);
    // The card goes to delivery at once; its thread summary follows when the card is out.
    expect(delivered).toHaveLength(1);
    expect(await runTick(deps, ws, 'schedule')).toEqual({ kind: 'quiet' });
  });

  it("ignores Tacit's own and other bots' messages: nothing stored, the workspace stays clean", async () => {
    const heartbeat = new Heartbeat({ connection: redis, prefix, signals, log, runTick: async () => ({ kind: 'quiet' }) });
    const deps = {
      db: database.db, signal: heartbeat, log, sources: new SourceCache(database.db, createSecretBox(undefined)),
      writer: new EventWriter(database.db), converse: async () => undefined,
    };
    const before = await count(`select count(*) as n from events`);
    for (const [id, name] of [['tacit', 'tacit'], ['B0DEPLOYBOT', 'deploy-bot']] as const) {
      await ingestChatMessage(deps, {
        workspaceId: ws, channelId: 'playground:f', messageId: `m-${id}`, threadId: null, author: { id, name, isBot: true },
        text: '@tacit status please', mentionsTacit: true, raw: {},
      });
    }
    expect(await count(`select count(*) as n from events`)).toBe(before);
    expect(await runTick({ db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log, deliver: async () => undefined, wakeAgain: async () => undefined }, ws, 'schedule')).toEqual({ kind: 'quiet' });
    await heartbeat.close();
  });
});
