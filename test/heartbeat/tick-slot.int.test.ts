// Tick-level idempotency: a scheduled slot whose tick committed is not ticked again when its job is
// retried (a crash after the commit, before BullMQ heard the job finished), on PostgreSQL and PGlite.
// Wakes carry no slot and always run. (The kill -9 itself: tick-crash.int.test.ts.)
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPglite, connectPostgres, type Database } from '../../src/db/client.js';
import { channels, decisions, events, outbox, workspaces } from '../../src/db/schema.js';
import { HeartbeatSignals, workspaceKey } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { fixture } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';

const databases: [string, () => Promise<{ database: Database; drop(): Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const test = await createTestDatabase();
    const database = connectPostgres({ url: test.url });
    return { database, drop: async () => { await database.close(); await test.drop(); } };
  }],
  ['PGlite', async () => {
    const database = await connectPglite('memory://');
    await database.migrate();
    return { database, drop: () => database.close() };
  }],
];

/** A firing critical alert for `channelId`, as intake stores it; `n` minutes apart, so not one storm. */
function alertPayload(channelId: string, fingerprint: string, n: number): Record<string, unknown> {
  const alert = JSON.parse(fixture('alertmanager/firing.json').toString()).alerts[0];
  return {
    kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint, groupKey: `g-${fingerprint}`, status: 'firing',
    severity: 'critical', title: 'Pod is crash looping.', labels: { ...alert.labels, alertname: `Crash-${fingerprint}` }, annotations: alert.annotations,
    startsAt: new Date(Date.parse(alert.startsAt) + n * 60_000).toISOString(), endsAt: null, links: [], channelId,
  };
}

describe.each(databases)('a retried scheduled tick on %s', (_name, open) => {
  let database: Database;
  let drop: () => Promise<void>;
  let redis: Redis;
  let prefix: string;
  let signals: HeartbeatSignals;
  let deps: TickDeps;
  const ws = 'playground:slot-test';
  const SLOT = Date.parse('2026-12-01T10:00:00Z');

  beforeAll(async () => {
    ({ database, drop } = await open());
    redis = new Redis(redisUrl);
    prefix = testPrefix();
    signals = new HeartbeatSignals(redis, prefix);
    deps = {
      db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log: createLogger('silent'),
      deliver: async () => undefined, wakeAgain: async () => undefined,
    };
    await database.db.insert(workspaces).values({ id: ws, platform: 'playground', name: 'slots' });
    await database.db.insert(channels).values({ id: 'playground:slot-ops', workspaceId: ws, name: 'ops' });
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await dropPrefix(prefix);
    await drop?.();
  });

  const count = async (table: typeof decisions | typeof outbox) =>
    (await database.db.select({ n: sql<number>`count(*)::int` }).from(table))[0]?.n;

  it('records the slot with the commit, and does nothing when the same slot comes again', async () => {
    await database.db.insert(events).values({ workspaceId: ws, kind: 'alert', dedupeKey: 'a1', occurredAt: new Date(), payload: alertPayload('playground:slot-ops', 'fp-1', 0) });
    await signals.markDirty(ws);
    expect(await runTick(deps, ws, 'schedule', SLOT)).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    const [row] = await database.db.select({ slot: workspaces.lastTickSlot }).from(workspaces);
    expect(row?.slot).toBe(SLOT);
    const before = { decisions: await count(decisions), outbox: await count(outbox) };

    // The crash lost the release: Redis still says dirty and knows nothing of the slot, so the retried
    // job claims the workspace; the slot the commit recorded in Postgres stops it.
    await redis.hdel(workspaceKey(prefix, ws), 'slot');
    await signals.markDirty(ws);
    expect(await runTick(deps, ws, 'schedule', SLOT)).toEqual({ kind: 'skipped', reason: `slot ${SLOT} already ticked` });
    expect({ decisions: await count(decisions), outbox: await count(outbox) }).toEqual(before);
    // Skipping consumed nothing: the workspace is still dirty, for the next beat.
    expect(await runTick(deps, ws, 'schedule', SLOT - 10_000)).toMatchObject({ kind: 'skipped' });
    expect(await runTick(deps, ws, 'schedule', SLOT + 10_000)).toMatchObject({ kind: 'gated', events: 0 });
    expect((await database.db.select({ slot: workspaces.lastTickSlot }).from(workspaces))[0]?.slot).toBe(SLOT + 10_000);
  });

  it('skips a retried quiet slot in Redis alone, without counting it as a tick', async () => {
    const quietSlot = SLOT + 20_000;
    expect(await runTick(deps, ws, 'schedule', quietSlot)).toEqual({ kind: 'quiet' });
    const ticks = (await signals.counters(ws)).ticks;
    expect(await runTick(deps, ws, 'schedule', quietSlot)).toMatchObject({ kind: 'skipped' });
    expect((await signals.counters(ws)).ticks).toBe(ticks);
    // Quiet ticks never reach Postgres: the committed slot there is still the last tick that did work.
    expect((await database.db.select({ slot: workspaces.lastTickSlot }).from(workspaces))[0]?.slot).toBe(SLOT + 10_000);
  });

  it('always runs a wake, which has no slot, and leaves the recorded slot as it was', async () => {
    await database.db.insert(events).values({ workspaceId: ws, kind: 'alert', dedupeKey: 'a2', occurredAt: new Date(), payload: alertPayload('playground:slot-ops', 'fp-2', 30) });
    await signals.markDirty(ws);
    expect(await runTick(deps, ws, 'wake')).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    expect((await database.db.select({ slot: workspaces.lastTickSlot }).from(workspaces))[0]?.slot).toBe(SLOT + 10_000);
  });
});
