// The heartbeat's sweep (TACIT_HEARTBEAT_MODE=sweep, the default): each workspace still beats on its
// own interval and phase, a clean workspace's beat is ticked inside the sweep's script (no job, no
// Postgres), a dirty or due one becomes one tick job through the real runTick, and two processes
// sweeping the same Redis take each beat once.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { beatsKey, beatPartition, workspaceKey } from '../../src/heartbeat/beats.js';
import { Heartbeat } from '../../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps, type TickOutcome, type TickTrigger } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ran {
  workspaceId: string;
  trigger: TickTrigger;
  slot?: number;
  outcome: TickOutcome['kind'];
}

describe('the heartbeat sweep', () => {
  let testDb: TestDatabase;
  let database: Database;
  let redis: Redis;
  const prefix = testPrefix();
  let signals: HeartbeatSignals;
  const ran: Ran[] = [];
  const lateness: number[] = [];
  const heartbeats: Heartbeat[] = [];

  const start = (sweepEveryMs = 50) => {
    const deps: TickDeps = {
      db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log,
      deliver: async () => undefined,
      wakeAgain: (ws, generation) => heartbeat.wake(ws, generation),
    };
    const heartbeat: Heartbeat = new Heartbeat({
      connection: redis, prefix, signals, log, sweepEveryMs,
      runTick: async (workspaceId, trigger, slot) => {
        const outcome = await runTick(deps, workspaceId, trigger, slot);
        ran.push({ workspaceId, trigger, ...(slot === undefined ? {} : { slot }), outcome: outcome.kind });
        return outcome;
      },
      onQuietTicks: (ms) => lateness.push(...ms),
    });
    heartbeats.push(heartbeat);
    return heartbeat;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const setup = new pg.Client({ connectionString: testDb.url });
    await setup.connect();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
      await setup.query(`insert into workspaces (id, platform, name) values ($1, 'playground', $1)`, [`playground:${id}`]);
      await setup.query(`insert into channels (id, workspace_id, name) values ($1, $2, 'general')`, [`playground:${id}/general`, `playground:${id}`]);
    }
    await setup.end();
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl);
    signals = new HeartbeatSignals(redis, prefix);
  });

  afterAll(async () => {
    for (const h of heartbeats) await h.close();
    await signals.close();
    await dropPrefix(prefix);
    redis.disconnect();
    await database.close();
    await testDb.drop();
  });

  it('beats every workspace on its own interval, ticking clean ones in the script: no job, no tick run', async () => {
    const heartbeat = start();
    await heartbeat.schedule('playground:a', 250);
    await heartbeat.schedule('playground:b', 1_000);
    // Repeating a plan (every new channel does) keeps the beat where it is.
    const next = await signals.nextBeat('playground:a');
    await heartbeat.schedule('playground:a', 250);
    expect(await signals.nextBeat('playground:a')).toBe(next);
    heartbeat.start();
    await sleep(2_600);
    const a = (await signals.counters('playground:a')).ticks;
    const b = (await signals.counters('playground:b')).ticks;
    // 2.6 s at 250 ms is 10 or 11 beats; at 1 s, 2 or 3 (a beat is never run twice, never bunched).
    expect(a).toBeGreaterThanOrEqual(9);
    expect(a).toBeLessThanOrEqual(11);
    expect(b).toBeGreaterThanOrEqual(2);
    expect(b).toBeLessThanOrEqual(3);
    expect((await signals.counters('playground:a')).quiet).toBe(a);
    expect(ran).toEqual([]);
    expect(await heartbeat.queue.getJobCounts('wait', 'active', 'completed', 'delayed')).toEqual({ wait: 0, active: 0, completed: 0, delayed: 0 });
    // The sweep runs every 50 ms: no beat waits much longer than that.
    expect(Math.max(...lateness)).toBeLessThan(250);
    // On the workspace's phase: beats 250 ms apart, at the same offset in each interval.
    const beat = (await signals.nextBeat('playground:a')) ?? 0;
    expect(beat % 250).toBe((next ?? 0) % 250);
    // The beats live with the workspace's keys, in its partition's sorted set.
    expect(await redis.zscore(beatsKey(prefix, beatPartition('playground:a')), 'playground:a')).toBe(String(beat));
  });

  it('turns a dirty workspace\'s next beat into one tick job at that beat, through the real tick', async () => {
    const [heartbeat] = heartbeats;
    if (!heartbeat) throw new Error('the first test starts the heartbeat');
    await heartbeat.schedule('playground:c', 500);
    await sleep(700);
    const before = ran.length;
    const due = (await signals.nextBeat('playground:c')) ?? 0;
    await signals.markDirty('playground:c'); // news with no wake job: only the beat picks it up
    await waitFor(() => ran.length > before, { what: 'the tick job of the dirty beat', timeoutMs: 3_000 });
    await sleep(1_200);
    const mine = ran.slice(before).filter((r) => r.workspaceId === 'playground:c');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ trigger: 'schedule', slot: due });
    expect(['gated', 'decided']).toContain(mine[0]?.outcome);
    // The tick consumed the news: the beats after it are quiet again, in the script.
    expect(ran.slice(before).filter((r) => r.workspaceId !== 'playground:c')).toEqual([]);
  });

  it('ticks a workspace whose asked-for time has come, at its first beat after it', async () => {
    const [heartbeat] = heartbeats;
    if (!heartbeat) throw new Error('the first test starts the heartbeat');
    await heartbeat.schedule('playground:d', 300);
    const before = ran.length;
    await signals.setDue('playground:d', new Date(Date.now() + 400));
    await sleep(350);
    expect(ran.length).toBe(before);
    await waitFor(() => ran.slice(before).some((r) => r.workspaceId === 'playground:d'), { what: 'the due tick', timeoutMs: 2_000 });
    expect(ran.slice(before).filter((r) => r.workspaceId === 'playground:d')).toHaveLength(1);
  });

  it('moves a workspace to its new interval, and stops beating one that is unscheduled', async () => {
    const [heartbeat] = heartbeats;
    if (!heartbeat) throw new Error('the first test starts the heartbeat');
    await heartbeat.schedule('playground:b', 200);
    const t0 = (await signals.counters('playground:b')).ticks;
    await sleep(1_000);
    expect((await signals.counters('playground:b')).ticks - t0).toBeGreaterThanOrEqual(4);
    await heartbeat.unschedule('playground:b');
    expect(await heartbeat.isScheduled('playground:b')).toBe(false);
    const t1 = (await signals.counters('playground:b')).ticks;
    await sleep(600);
    expect((await signals.counters('playground:b')).ticks).toBe(t1);
  });

  it('keeps sweeping a partition in which one workspace\'s state is damaged', async () => {
    const [heartbeat] = heartbeats;
    if (!heartbeat) throw new Error('the first test starts the heartbeat');
    // A workspace in playground:a's partition, with fields that are not numbers.
    let damaged = 'playground:damaged-0';
    for (let i = 1; beatPartition(damaged) !== beatPartition('playground:a'); i++) damaged = `playground:damaged-${i}`;
    await heartbeat.schedule(damaged, 250);
    await redis.hset(workspaceKey(prefix, damaged), 'every', 'x', 'slot', 'x', 'dirty', 'y', 'due', 'z');
    const before = (await signals.counters('playground:a')).ticks;
    await sleep(800);
    expect((await signals.counters('playground:a')).ticks).toBeGreaterThanOrEqual(before + 2);
    // The damaged one leaves the plan; the minutely check plans it again from Postgres.
    expect(await heartbeat.isScheduled(damaged)).toBe(false);
  });

  it('takes each beat once when two processes sweep the same Redis', async () => {
    const second = start(30);
    second.start();
    await heartbeats[0]?.schedule('playground:e', 200);
    await sleep(300);
    const t0 = (await signals.counters('playground:e')).ticks;
    await sleep(2_000);
    const beats = (await signals.counters('playground:e')).ticks - t0;
    // 2 s at 200 ms: 10 beats (one either side for timing); twice as many if both took them.
    expect(beats).toBeGreaterThanOrEqual(9);
    expect(beats).toBeLessThanOrEqual(11);
  });

  it('removes the other mode\'s beats when a deployment switches mode', async () => {
    const schedulers = new Heartbeat({ connection: redis, prefix, signals, log, mode: 'schedulers', runTick: async () => ({ kind: 'quiet' }) });
    heartbeats.push(schedulers);
    await schedulers.schedule('playground:f', 10_000);
    expect(await schedulers.schedulerCount()).toBe(1);
    const sweep = heartbeats[0];
    if (!sweep) throw new Error('the first test starts the heartbeat');
    expect(await sweep.retireOtherMode()).toBe(1);
    expect(await schedulers.schedulerCount()).toBe(0);
    const planned = await sweep.schedulerCount();
    expect(planned).toBeGreaterThan(0);
    // And back: the schedulers' side drops the whole plan.
    expect(await schedulers.retireOtherMode()).toBe(planned);
    expect(await sweep.schedulerCount()).toBe(0);
  });
});
