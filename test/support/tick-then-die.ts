// A heartbeat worker process that kills itself (SIGKILL, as `kill -9` would) the moment a tick has
// committed and hands its messages to delivery: after the commit, before BullMQ hears the job finished.
// Started by test/heartbeat/tick-crash.int.test.ts; it prints `committed slot <ms>` just before dying.
import { writeSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { connectPostgres } from '../../src/db/client.js';
import { Heartbeat } from '../../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { runTick, type TickDeps } from '../../src/heartbeat/tick.js';
import { createLogger } from '../../src/log.js';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`tick-then-die: set ${name}`);
  return value;
};
const prefix = need('TACIT_REDIS_PREFIX');
const workspaceId = need('WORKSPACE_ID');
const intervalMs = Number(need('INTERVAL_MS'));

const database = connectPostgres({ url: need('DATABASE_URL') });
const redis = new Redis(need('REDIS_URL'), { maxRetriesPerRequest: null });
// Short tick and job locks, so the test's other worker can take over within a second or two.
const signals = new HeartbeatSignals(redis, prefix, 1_000);
const log = createLogger('silent');
let slot: number | undefined;
const deps: TickDeps = {
  db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log,
  deliver: async () => {
    writeSync(1, `committed slot ${slot}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
  wakeAgain: async () => undefined,
};
const heartbeat = new Heartbeat({
  connection: redis, prefix, signals, log, lockDurationMs: 1_000, stalledIntervalMs: 200,
  runTick: (ws, trigger, s) => {
    slot = s;
    return runTick(deps, ws, trigger, s);
  },
});
heartbeat.start();
await heartbeat.schedule(workspaceId, intervalMs);
