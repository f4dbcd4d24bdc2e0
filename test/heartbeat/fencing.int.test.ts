// Fenced ticks and poison isolation: two ticks of one workspace can never both commit, even when the
// first one's lock expires while its brain thinks; one event that breaks every tick is set aside and
// the rest of the workspace goes on.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Brain } from '../../src/brain/port.js';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { HeartbeatSignals, workspaceKey } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps, type TickOutcome } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** A rules brain that waits for the test's word before answering: a slow model call. */
function heldBrain(): Brain & { entered: number; release(): void } {
  const rules = new RulesBrain();
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const brain = {
    name: 'held',
    entered: 0,
    release: () => open(),
    decide: async (c: Parameters<Brain['decide']>[0]) => {
      brain.entered++;
      await gate;
      return rules.decide(c);
    },
    reply: (c: Parameters<Brain['reply']>[0]) => rules.reply(c),
  };
  return brain;
}

function alertPayload(n: number, title: string, status: 'firing' | 'resolved' = 'firing', channelId = 'playground:fence') {
  return {
    kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: `fp-${n}`, groupKey: `g-${n}`, status, severity: 'critical',
    title, labels: { alertname: title }, annotations: {}, startsAt: '2026-12-01T07:00:00.000Z', endsAt: null, links: [], actor: null,
    channelId,
  };
}

/** One database and Redis prefix for the whole file; each test works in its own workspace. */
let testDb: TestDatabase;
let database: Database;
let direct: pg.Client;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  direct = new pg.Client({ connectionString: testDb.url });
  await direct.connect();
  database = connectPostgres({ url: testDb.url });
  redis = new Redis(redisUrl);
  prefix = testPrefix();
});
afterAll(async () => {
  await direct?.end();
  await database?.close();
  redis?.disconnect();
  await dropPrefix(prefix);
  await testDb?.drop();
});

describe('fenced ticks', () => {
  const log = createLogger('silent');
  let n = 0;

  async function workspace(): Promise<string> {
    const ws = `playground:fence-${++n}`;
    await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', 'fence')`, [ws]);
    await direct.query(`insert into channels (id, workspace_id, name) values ($2, $1, 'fence')`, [ws, `${ws}:c`]);
    return ws;
  }

  async function addAlert(ws: string, i: number, title: string, status: 'firing' | 'resolved' = 'firing'): Promise<void> {
    await direct.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', $2, now(), $3)`, [
      ws, `a-${i}-${status}`, alertPayload(i, title, status, `${ws}:c`),
    ]);
  }

  const count = async (q: string, ws: string) => Number((await direct.query(q, [ws])).rows[0].n);
  const deps = (signals: HeartbeatSignals, brain: Brain): TickDeps => ({
    db: database.db, signals, brain, clock: systemClock, log, deliver: async () => undefined, wakeAgain: async () => undefined,
  });

  it('refuses the commit of a tick whose lock expired mid-tick, even when it never noticed, and keeps the newer tick', async () => {
    const ws = await workspace();
    // A long lock TTL: this tick's renewal timer stays asleep, like a process paused by a stop-the-world pause.
    const slowSignals = new HeartbeatSignals(redis, prefix, 60_000);
    await addAlert(ws, 1, 'Checkout latency high');
    await slowSignals.markDirty(ws);

    const first = heldBrain();
    const firstTick = runTick(deps(slowSignals, first), ws, 'schedule');
    await waitFor(() => first.entered === 1, { what: 'the first tick to reach its brain' });

    // Its lock expires (removed here, as the TTL would), news arrives, and a second tick claims the workspace.
    await redis.del(workspaceKey(prefix, ws, 'lock'));
    await addAlert(ws, 1, 'Checkout latency high', 'resolved');
    await slowSignals.markDirty(ws);
    const second = heldBrain();
    const secondTick = runTick(deps(new HeartbeatSignals(redis, prefix, 60_000), second), ws, 'wake');
    await waitFor(() => second.entered === 1, { what: 'the second tick to reach its brain' });

    // The first tick finishes thinking first and tries to commit what it saw (the alert firing): refused.
    first.release();
    const firstOutcome: TickOutcome = await firstTick;
    expect(firstOutcome.kind).toBe('fenced');
    second.release();
    expect(await secondTick).toMatchObject({ kind: 'decided' });

    expect(await count(`select count(*)::int as n from decisions where workspace_id = $1`, ws)).toBe(1);
    const incident = (await direct.query(`select status, version from incidents where workspace_id = $1`, [ws])).rows;
    expect(incident).toHaveLength(1);
    expect(incident[0].status).toBe('resolved');
    expect(await count(`select count(*)::int as n from events where workspace_id = $1 and tick_id is null`, ws)).toBe(0);
    expect((await slowSignals.counters(ws)).fenced).toBe(1);
  });

  it('stops a tick whose lock was taken over while its brain thought, before the commit', async () => {
    const ws = await workspace();
    const signals = new HeartbeatSignals(redis, prefix, 300);
    await addAlert(ws, 2, 'Queue depth growing');
    await signals.markDirty(ws);
    const brain = heldBrain();
    const tick = runTick(deps(signals, brain), ws, 'schedule');
    await waitFor(() => brain.entered === 1, { what: 'the tick to reach its brain' });
    // Someone else holds the lock now: the lease notices at its next renewal and the tick stops.
    await redis.set(workspaceKey(prefix, ws, 'lock'), 'another-process', 'PX', 5_000);
    expect((await tick).kind).toBe('fenced');
    expect(await count(`select count(*)::int as n from decisions where workspace_id = $1`, ws)).toBe(0);
    expect(await count(`select count(*)::int as n from events where workspace_id = $1 and tick_id is null`, ws)).toBe(1);
    brain.release();
  });

  it('renews the lock while a slow brain thinks, so no second tick can claim the workspace meanwhile', async () => {
    const ws = await workspace();
    const signals = new HeartbeatSignals(redis, prefix, 300);
    await addAlert(ws, 3, 'Disk filling up');
    await signals.markDirty(ws);
    const brain = heldBrain();
    const tick = runTick(deps(signals, brain), ws, 'schedule');
    await waitFor(() => brain.entered === 1, { what: 'the tick to reach its brain' });
    // Three lock lifetimes later the lock is still held: a second claim is told the workspace is busy.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await signals.claim(ws, new Date())).toEqual({ kind: 'busy' });
    brain.release();
    expect(await tick).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    expect(await count(`select count(*)::int as n from decisions where workspace_id = $1`, ws)).toBe(1);
  });

  it('bounds a brain that never answers, and leaves the events for the next tick', async () => {
    const ws = await workspace();
    const signals = new HeartbeatSignals(redis, prefix);
    await addAlert(ws, 4, 'Certificate expiring');
    await signals.markDirty(ws);
    const stuck = heldBrain();
    await expect(runTick({ ...deps(signals, stuck), brainTimeoutMs: 200 }, ws, 'schedule')).rejects.toThrow(/did not decide within 200 ms/);
    expect(await count(`select count(*)::int as n from events where workspace_id = $1 and tick_id is null and failures = 0`, ws)).toBe(1);
    expect(await runTick(deps(signals, new RulesBrain()), ws, 'schedule')).toMatchObject({ kind: 'decided', outcome: 'spoke' });
    stuck.release();
  });
});

describe('poison events', () => {
  const ws = 'playground:poison';

  beforeAll(async () => {
    // Thirty alerts at once would be one storm; here each must stay its own incident, read and judged.
    await direct.query(`insert into workspaces (id, platform, name, settings) values ($1, 'playground', 'poison', '{"storm":null}')`, [ws]);
    await direct.query(`insert into channels (id, workspace_id, name) values ('playground:fence', $1, 'p')`, [ws]);
  });

  it('quarantines the one event that breaks every tick, with its reason, and consumes all the others', async () => {
    for (let i = 0; i < 30; i++) {
      const title = i === 17 ? 'POISON' : `Service ${i} down`;
      await direct.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', $2, now(), $3)`, [
        ws, `p-${i}`, alertPayload(i, title),
      ]);
    }
    // A brain with a bug that one alert's data triggers (a TypeError, as a real bug would throw).
    const rules = new RulesBrain();
    const buggy: Brain = {
      name: 'buggy',
      decide: (c) => {
        if (c.events.some((e) => e.payload.kind === 'alert' && e.payload.title === 'POISON')) throw new TypeError("Cannot read properties of undefined (reading 'value')");
        return rules.decide(c);
      },
      reply: (c) => rules.reply(c),
    };
    const signals = new HeartbeatSignals(redis, prefix);
    const retries: string[] = [];
    const deps: TickDeps = {
      db: database.db, signals, brain: buggy, clock: systemClock, log: createLogger('silent'),
      deliver: async () => undefined, wakeAgain: async () => undefined, retrySoon: async (_ws, tickId) => void retries.push(tickId),
    };
    await signals.markDirty(ws);
    let ticks = 0;
    for (; ticks < 40; ticks++) {
      const outcome = await runTick(deps, ws, 'wake').catch((err: Error) => ({ kind: 'failed', message: err.message }));
      if (outcome.kind === 'quiet') break;
    }
    // Reads narrow 2,000 → 250 → 31 → 3 → 1 around the failure: five failed ticks, a few small ones, never a wedge.
    expect(ticks).toBeLessThanOrEqual(20);
    expect(retries.length).toBeGreaterThanOrEqual(5);
    const q = (await direct.query(`select kind, event_id, reason, convert_from(body, 'utf8')::jsonb as body from quarantine where workspace_id = $1`, [ws])).rows;
    expect(q).toHaveLength(1);
    expect(q[0].kind).toBe('event');
    expect(q[0].reason).toMatch(/no tick could consume this event \(5 failures\): Cannot read properties/);
    expect(q[0].body.title).toBe('POISON');
    const left = await direct.query(`select count(*)::int as n from events where workspace_id = $1 and tick_id is null`, [ws]);
    expect(left.rows[0].n).toBe(0);
    const opened = await direct.query(`select count(*)::int as n from incidents where workspace_id = $1`, [ws]);
    expect(opened.rows[0].n).toBe(29);
    expect((await signals.counters(ws)).quarantined).toBe(1);
  });

  it('never counts an outage against the events it could not consume', async () => {
    const ws2 = 'playground:poison-outage';
    await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', 'outage')`, [ws2]);
    await direct.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', 'o-1', now(), $2)`, [ws2, alertPayload(99, 'Outage')]);
    const signals = new HeartbeatSignals(redis, prefix);
    const down: Brain = {
      name: 'down',
      decide: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      reply: async () => {
        throw new Error('unused');
      },
    };
    for (let i = 0; i < 6; i++) {
      await signals.markDirty(ws2);
      await expect(runTick({ db: database.db, signals, brain: down, clock: systemClock, log: createLogger('silent'), deliver: async () => undefined, wakeAgain: async () => undefined }, ws2, 'wake')).rejects.toThrow(/ECONNREFUSED/);
    }
    const row = (await direct.query(`select failures, tick_id from events where workspace_id = $1`, [ws2])).rows[0];
    expect(row).toEqual({ failures: 0, tick_id: null });
    expect((await direct.query(`select count(*)::int as n from quarantine where workspace_id = $1`, [ws2])).rows[0].n).toBe(0);
  });
});
