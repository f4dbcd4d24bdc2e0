// kill -9 between a tick's commit and its job's completion: a worker process commits a scheduled
// tick (an alert becomes its card), dies before BullMQ hears the job finished, and another worker
// picks the stalled job up. The retried job finds its slot already ticked and does nothing again.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { Heartbeat } from '../../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { runTick, type TickOutcome } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { fixture } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACE = 'playground:crash-test';
const INTERVAL_MS = 1_000;

describe('a tick killed after its commit', () => {
  let testDb: TestDatabase;
  let direct: pg.Client;
  let database: Database;
  let redis: Redis;
  let heartbeat: Heartbeat | undefined;
  const prefix = testPrefix();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    direct = new pg.Client({ connectionString: testDb.url });
    await direct.connect();
    await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', 'crash')`, [WORKSPACE]);
    await direct.query(`insert into channels (id, workspace_id, name) values ('playground:crash-ops', $1, 'ops')`, [WORKSPACE]);
    const alert = JSON.parse(fixture('alertmanager/firing.json').toString()).alerts[0];
    await direct.query(`insert into events (workspace_id, kind, dedupe_key, occurred_at, payload) values ($1, 'alert', 'crash-1', now(), $2)`, [WORKSPACE, {
      kind: 'alert', source: 'alertmanager', sourceId: 's', fingerprint: 'fp-crash', groupKey: 'g-crash', status: 'firing',
      severity: 'critical', title: 'Pod is crash looping.', labels: alert.labels, annotations: alert.annotations,
      startsAt: alert.startsAt, endsAt: null, links: [], channelId: 'playground:crash-ops',
    }]);
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  }, 60_000);
  afterAll(async () => {
    await heartbeat?.close();
    redis?.disconnect();
    await database?.close();
    await direct?.end();
    await dropPrefix(prefix);
    await testDb?.drop();
  });

  const count = async (q: string) => Number((await direct.query(q, [WORKSPACE])).rows[0].n);

  it('does not run the slot again when the stalled job is retried', { timeout: 60_000 }, async () => {
    const signals = new HeartbeatSignals(redis, prefix);
    await signals.markDirty(WORKSPACE);

    // The first worker ticks the workspace's first scheduled slot and is killed right after the commit.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/tick-then-die.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: testDb.url, REDIS_URL: redisUrl,
        TACIT_REDIS_PREFIX: prefix, WORKSPACE_ID: WORKSPACE, INTERVAL_MS: String(INTERVAL_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const died = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    expect(died, output).toBe('SIGKILL');
    const slot = Number(/committed slot (\d+)/.exec(output)?.[1]);
    expect(slot).toBeGreaterThan(0);
    const decisionsBefore = await count(`select count(*)::int as n from decisions where workspace_id = $1`);
    const outboxBefore = await count(`select count(*)::int as n from outbox where workspace_id = $1`);
    expect(decisionsBefore).toBe(1);
    expect(outboxBefore).toBeGreaterThan(0);

    // Another worker notices the stalled job (its lock lapsed with the process) and runs it again.
    const outcomes = new Map<number, TickOutcome>();
    const deps = {
      db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log: createLogger('silent'),
      deliver: async () => undefined, wakeAgain: async () => undefined,
    };
    heartbeat = new Heartbeat({
      connection: redis, prefix, signals, log: createLogger('silent'), lockDurationMs: 1_000, stalledIntervalMs: 200,
      runTick: async (ws, trigger, s) => {
        const outcome = await runTick(deps, ws, trigger, s);
        if (s !== undefined) outcomes.set(s, outcome);
        return outcome;
      },
    });
    heartbeat.start();
    const retried = await waitFor(() => outcomes.get(slot), { what: `the retried job of slot ${slot}`, timeoutMs: 20_000 });
    console.info(`tick crash: slot ${slot} retried → ${retried.kind}; later slots: ${[...outcomes].filter(([s]) => s > slot).map(([, o]) => o.kind).join(', ') || 'none yet'}`);
    // Skipped (its slot is recorded as finished) or, while the dead worker's tick lock has not yet
    // lapsed, busy: either way the slot does not run again, as the counts below show.
    expect(['skipped', 'busy']).toContain(retried.kind);
    expect(await count(`select count(*)::int as n from decisions where workspace_id = $1`)).toBe(decisionsBefore);
    expect(await count(`select count(*)::int as n from outbox where workspace_id = $1`)).toBe(outboxBefore);

    // Later slots still tick, and the first one of them redoes what the crash lost after the commit.
    await waitFor(() => [...outcomes].some(([s, o]) => s > slot && o.kind === 'gated'), { what: 'a later slot to tick', timeoutMs: 10_000 });
    expect(await count(`select count(*)::int as n from decisions where workspace_id = $1`)).toBe(decisionsBefore);
    expect(Number((await direct.query(`select last_tick_slot as s from workspaces where id = $1`, [WORKSPACE])).rows[0].s)).toBeGreaterThan(slot);
  });
});
