// Benchmark: the heartbeat at fleet scale, every workspace at a 10 s interval, three ways in one run
// on a Redis of its own (a redis-server this benchmark starts, so its CPU and memory are Tacit's alone):
// - `no-op job`: one BullMQ job scheduler per workspace running an empty job (the baseline);
// - `schedulers`: Tacit's Heartbeat in that mode (TACIT_HEARTBEAT_MODE=schedulers);
// - `sweep`: Tacit's Heartbeat in its default mode, one script call per partition for many workspaces.
// Both Tacit variants are the production composition: the Heartbeat as main.ts builds it (its
// default worker concurrency and sweep period, the metrics it feeds) running the real runTick on
// PostgreSQL, with a trickle of chat messages marking random workspaces dirty. When taskset exists
// this process is held to one core and Redis to the other. Prints CPU, Redis memory, lateness and
// the goals' pass/fail.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RulesBrain } from '../src/brain/rules/rules-brain.js';
import { systemClock } from '../src/core/clock.js';
import type { ChatEvent } from '../src/core/events.js';
import { connectPostgres, type Database } from '../src/db/client.js';
import { channels, events, workspaces } from '../src/db/schema.js';
import { beatPhase } from '../src/heartbeat/beats.js';
import { Heartbeat, type HeartbeatMode } from '../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../src/heartbeat/signals.js';
import { runTick, type TickDeps, type TickOutcome } from '../src/heartbeat/tick.js';
import { createMetrics, timedTick } from '../src/http/metrics.js';
import { createLogger } from '../src/log.js';
import { RedisServer } from './chaos/processes.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const intervalMs = 10_000;
/** BENCH_TRICKLE_MS=0 turns the trickle off, leaving only the quiet path. */
const trickleEveryMs = Number(process.env.BENCH_TRICKLE_MS ?? 100);
const goal = { p99Ms: 250, fleet: 30_000, large: 100_000 };

type Variant = 'no-op job' | HeartbeatMode;
const variants: Variant[] = ['no-op job', 'schedulers', 'sweep'];

/** One side of a run: what it takes to beat `n` workspaces, and its tally of what ran. */
interface Subject {
  schedule(ids: string[]): Promise<void>;
  start(): void;
  stop(): Promise<number>;
}

interface RunResult {
  workspaces: number;
  variant: Variant;
  seconds: number;
  ticks: number;
  postgresTicks: number;
  trickled: number;
  nodeCpuMs: number;
  redisCpuMs: number;
  redisBytesPerWorkspace: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

/** What ran while the window was open. */
class Tally {
  measuring = false;
  ticks = 0;
  postgresTicks = 0;
  failed = 0;
  readonly latenessMs: number[] = [];
  readonly problems: string[] = [];

  /** Jobs a worker started: how late against the beat they stand for. */
  watch(worker: Worker): void {
    worker.on('active', (job: Job<{ slot?: number; trigger?: string }>) => {
      if (this.measuring && job.data.trigger !== 'wake') this.latenessMs.push(Date.now() - (job.data.slot ?? job.timestamp + (job.opts.delay ?? 0)));
    });
    worker.on('completed', (_job, result: TickOutcome | undefined) => this.ran(result?.kind === 'gated' || result?.kind === 'decided'));
    worker.on('failed', (_job, err) => {
      if (this.measuring) this.failed++;
      this.note(`job failed: ${err.message}`);
    });
    worker.on('error', (err) => this.note(`worker error: ${err.message}`));
  }

  /** The sweep's quiet ticks, with how late each beat ran. */
  quiet(latenessMs: readonly number[]): void {
    if (!this.measuring) return;
    this.ticks += latenessMs.length;
    for (const ms of latenessMs) this.latenessMs.push(ms);
  }

  ran(tookPostgres: boolean): void {
    if (!this.measuring) return;
    this.ticks++;
    if (tookPostgres) this.postgresTicks++;
  }

  note(problem: string): void {
    if (this.problems.length < 5) this.problems.push(problem);
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const workspaceId = (i: number) => `bench:${i}`;

async function inChunks<T>(items: T[], size: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < items.length; from += size) await Promise.all(items.slice(from, from + size).map(task));
}

/** Redis CPU (user + sys, ms) and memory in use. */
async function redisStats(redis: Redis): Promise<{ cpuMs: number; usedBytes: number }> {
  const info = await redis.info();
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return { cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000, usedBytes: field('used_memory') };
}

function baseline(redis: Redis, tally: Tally): Subject {
  const prefix = `bench-noop-${randomBytes(4).toString('hex')}`;
  const queue = new Queue('noop', { connection: redis, prefix });
  const worker = new Worker('noop', async () => undefined, { connection: redis.duplicate(), prefix, concurrency: 16, autorun: false });
  worker.on('completed', () => tally.ran(false));
  worker.on('active', (job) => {
    if (tally.measuring) tally.latenessMs.push(Date.now() - job.timestamp - (job.opts.delay ?? 0));
  });
  return {
    schedule: (ids) => inChunks(ids, 500, (id) => queue.upsertJobScheduler(`noop.${id}`, { every: intervalMs, offset: beatPhase(id, intervalMs) }, { name: 'tick', data: {}, opts: { removeOnComplete: true } })),
    start: () => void worker.run(),
    async stop() {
      await worker.close();
      if (worker.opts.connection instanceof Redis) worker.opts.connection.disconnect();
      await queue.close();
      return 0;
    },
  };
}

/** Tacit's Heartbeat as main.ts composes it, on the real tick, with a trickle of news. */
function tacit(mode: HeartbeatMode, redis: Redis, database: Database, n: number, tally: Tally): Subject {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const signals = new HeartbeatSignals(redis, prefix);
  const log = createLogger('silent');
  const metrics = createMetrics({ counters: () => signals.counters(), counts: async () => { throw new Error('not scraped'); }, delivery: async () => null }, log);
  const heartbeat: Heartbeat = new Heartbeat({
    connection: redis, prefix, signals, log, mode,
    runTick: (ws, trigger, slot) => timedTick(metrics, () => runTick(deps, ws, trigger, slot)),
    onQuietTicks: (lateness, seconds) => {
      metrics.quietTicks(lateness, seconds);
      tally.quiet(lateness);
    },
  });
  const deps: TickDeps = {
    db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log,
    deliver: async () => undefined,
    wakeAgain: (ws, generation) => heartbeat.wake(ws, generation),
  };
  let trickle: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<unknown>>();
  let trickled = 0;
  const addEvent = async (seq: number) => {
    const ws = workspaceId(Math.floor(Math.random() * n));
    const payload: ChatEvent = {
      kind: 'chat.message', channelId: `${ws}:general`, messageId: `${prefix}-m${seq}`, threadId: null,
      author: { id: 'u1', name: 'Bench' }, text: 'deploy looks fine from here',
    };
    await database.db.insert(events).values({
      workspaceId: ws, sourceId: null, kind: payload.kind, dedupeKey: `chat:${payload.channelId}:${payload.messageId}`, occurredAt: new Date(), payload,
    });
    await signals.markDirty(ws);
    trickled++;
  };
  return {
    schedule: (ids) => inChunks(ids, 500, (id) => heartbeat.schedule(id, intervalMs)),
    start() {
      heartbeat.start();
      const worker = (heartbeat as unknown as { worker?: Worker }).worker;
      if (!worker) throw new Error('Heartbeat no longer keeps its worker in `worker`; update bench/heartbeat.ts to find it');
      tally.watch(worker);
      if (!(trickleEveryMs > 0)) return;
      let seq = 0;
      trickle = setInterval(() => {
        const p = addEvent(++seq).catch((err: unknown) => tally.note(`trickle insert failed: ${String(err)}`)).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }, trickleEveryMs);
    },
    async stop() {
      clearInterval(trickle);
      await Promise.all(inFlight);
      const worker = (heartbeat as unknown as { worker?: Worker }).worker;
      await heartbeat.close();
      // BullMQ leaves a connection it was handed open; Heartbeat.start() made this one.
      if (worker?.opts.connection instanceof Redis) worker.opts.connection.disconnect();
      await signals.close();
      metrics.stop();
      return trickled;
    },
  };
}

async function measure(n: number, variant: Variant, redis: Redis, database: Database, windowMs: number): Promise<RunResult> {
  await redis.flushall();
  const tally = new Tally();
  const subject = variant === 'no-op job' ? baseline(redis, tally) : tacit(variant, redis, database, n, tally);
  const empty = await redisStats(redis);
  let trickled = 0;
  let before: { at: bigint; cpu: NodeJS.CpuUsage; redis: { cpuMs: number; usedBytes: number } };
  let after: typeof before;
  try {
    await subject.schedule(Array.from({ length: n }, (_, i) => workspaceId(i)));
    subject.start();
    await sleep(intervalMs); // every workspace has beaten once
    before = { at: process.hrtime.bigint(), cpu: process.cpuUsage(), redis: await redisStats(redis) };
    tally.measuring = true;
    await sleep(windowMs);
    tally.measuring = false;
    after = { at: process.hrtime.bigint(), cpu: process.cpuUsage(), redis: await redisStats(redis) };
  } finally {
    trickled = await subject.stop();
  }
  if (tally.problems.length > 0) console.warn(`heartbeat bench (${variant}, ${n} workspaces): ${tally.problems.join('; ')}`);
  const sorted = tally.latenessMs.sort((a, b) => a - b);
  return {
    workspaces: n, variant, trickled,
    seconds: Number(after.at - before.at) / 1e9,
    ticks: tally.ticks,
    postgresTicks: tally.postgresTicks,
    nodeCpuMs: (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000,
    redisCpuMs: after.redis.cpuMs - before.redis.cpuMs,
    redisBytesPerWorkspace: (after.redis.usedBytes - empty.usedBytes) / n,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    failed: tally.failed,
  };
}

async function seeded(admin: pg.Client, n: number): Promise<{ database: Database; drop(): Promise<void> }> {
  const name = `tacit_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = connectPostgres({ url: url.toString() });
  await database.migrate();
  for (let from = 0; from < n; from += 2000) {
    const ids = Array.from({ length: Math.min(2000, n - from) }, (_, j) => workspaceId(from + j));
    await database.db.insert(workspaces).values(ids.map((id) => ({ id, platform: 'playground' as const, name: id })));
    await database.db.insert(channels).values(ids.map((id) => ({ id: `${id}:general`, workspaceId: id, name: 'general' })));
  }
  return {
    database,
    async drop() {
      await database.close();
      await admin.query(`drop database ${name} with (force)`);
    },
  };
}

/** Holds this process to core 0 and Redis to core 1 (all their threads), when the machine has taskset and two cores. */
function pinCores(redisPid: number | undefined): string {
  try {
    execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
    if (redisPid) execFileSync('taskset', ['-a', '-pc', '1', String(redisPid)], { stdio: 'ignore' });
    return 'this process on core 0, Redis on core 1 (taskset)';
  } catch {
    return 'not pinned (no taskset or one core): "one core" is read from the CPU figures';
  }
}

const keepsUp = (r: RunResult) => r.ticks / r.seconds >= 0.97 * (r.workspaces / (intervalMs / 1000));
const perThousand = (ms: number, ticks: number) => (ticks > 0 ? (ms / ticks) * 1000 : Number.NaN);

function report(results: RunResult[], windowMs: number, pinning: string): void {
  console.log(`\nheartbeat: every workspace at ${intervalMs / 1000} s — a no-op BullMQ job scheduler per workspace, Tacit with one per workspace, Tacit's sweep`);
  const trickle = trickleEveryMs > 0 ? `one chat message every ${trickleEveryMs} ms marks a random workspace dirty` : 'no events: quiet path only';
  console.log(`(${trickle}; ${windowMs / 1000} s window after a ${intervalMs / 1000} s warm-up; ${pinning})`);
  console.table(results.map((r) => ({
    workspaces: r.workspaces,
    variant: r.variant,
    'ticks/s': Number((r.ticks / r.seconds).toFixed(0)),
    'expected/s': r.workspaces / (intervalMs / 1000),
    'node CPU %': Number(((r.nodeCpuMs / (r.seconds * 1000)) * 100).toFixed(1)),
    'redis CPU %': Number(((r.redisCpuMs / (r.seconds * 1000)) * 100).toFixed(1)),
    'node ms/1k ticks': Number(perThousand(r.nodeCpuMs, r.ticks).toFixed(1)),
    'redis B/workspace': Math.round(r.redisBytesPerWorkspace),
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    'postgres ticks': r.postgresTicks,
    failed: r.failed,
  })));
  for (const n of [...new Set(results.map((r) => r.workspaces))]) {
    const of = (v: Variant) => results.find((r) => r.workspaces === n && r.variant === v);
    const [base, jobs, sweep] = [of('no-op job'), of('schedulers'), of('sweep')];
    const ratio = (r: RunResult | undefined) => (r && base ? (perThousand(r.nodeCpuMs + r.redisCpuMs, r.ticks) / perThousand(base.nodeCpuMs + base.redisCpuMs, base.ticks)).toFixed(2) : '–');
    console.log(`${n} workspaces: CPU per tick (node + redis) against the no-op job — schedulers ${ratio(jobs)}x, sweep ${ratio(sweep)}x; keeping up: ${[base, jobs, sweep].map((r) => (r ? `${r.variant} ${keepsUp(r) ? 'yes' : 'NO'}` : '')).filter(Boolean).join(', ')}`);
  }
  const passes = (r: RunResult) => keepsUp(r) && r.p99Ms <= goal.p99Ms && r.failed === 0;
  const oneCore = (r: RunResult) => r.nodeCpuMs < r.seconds * 1000;
  const sweeps = results.filter((r) => r.variant === 'sweep');
  const fleet = sweeps.filter((r) => r.workspaces >= goal.fleet);
  const large = sweeps.filter((r) => r.workspaces >= goal.large);
  const verdict = (list: RunResult[], ok: (r: RunResult) => boolean) => (list.length === 0 ? 'NOT RUN (add the count to BENCH_WORKSPACES)' : list.every(ok) ? 'PASS' : 'FAIL');
  console.log(`goal: ≥ ${goal.fleet} workspaces at p99 ≤ ${goal.p99Ms} ms (the default, sweep): ${verdict(fleet, passes)}`);
  console.log(`goal: ${goal.large} workspaces at ${intervalMs / 1000} s on one core, p99 ≤ ${goal.p99Ms} ms (sweep): ${verdict(large, (r) => passes(r) && oneCore(r))}`);
}

export async function benchHeartbeat(
  counts = (process.env.BENCH_WORKSPACES ?? `${goal.fleet},${goal.large}`).split(',').map(Number),
  windowMs = Number(process.env.BENCH_WINDOW_MS ?? 30_000),
  only = (process.env.BENCH_VARIANTS ?? variants.join(',')).split(',').map((v) => v.trim()),
): Promise<void> {
  if (counts.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('BENCH_WORKSPACES must be a comma-separated list of positive integers, e.g. 30000,100000');
  if (!(windowMs > 0)) throw new Error('BENCH_WINDOW_MS must be a positive number of milliseconds');
  const chosen = variants.filter((v) => only.includes(v));
  if (chosen.length === 0) throw new Error(`BENCH_VARIANTS must name some of: ${variants.join(', ')}`);
  const server = await RedisServer.start();
  const pinning = pinCores(server.pid);
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const results: RunResult[] = [];
  try {
    for (const n of counts) {
      const db = await seeded(admin, n);
      try {
        for (const variant of chosen) {
          results.push(await measure(n, variant, redis, db.database, windowMs));
          const last = results.at(-1);
          if (last) console.log(`  ${n} workspaces, ${variant}: ${Math.round(last.ticks / last.seconds)} ticks/s, p99 ${last.p99Ms} ms`);
        }
      } finally {
        await db.drop();
      }
    }
  } finally {
    await admin.end();
    redis.disconnect();
    await server.kill();
  }
  report(results, windowMs, pinning);
}
