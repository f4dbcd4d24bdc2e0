// Benchmark: the heartbeat at fleet scale. N workspaces, each with its own BullMQ job scheduler firing
// every 10 s, against N no-op job schedulers on the same Redis, one after the other in the same run.
// The Tacit side is the real Heartbeat running the real runTick: the claim script on Redis for clean
// workspaces, Postgres for the few that a trickle of chat messages marks dirty. Reports throughput,
// CPU per tick in Node and in Redis (which runs the claim script), Redis commands per tick and how
// late ticks start.
import { createHash, randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RulesBrain } from '../src/brain/rules/rules-brain.js';
import { systemClock } from '../src/core/clock.js';
import type { ChatEvent } from '../src/core/events.js';
import { connectPostgres } from '../src/db/client.js';
import { connectRedis } from '../src/db/redis.js';
import { channels, events, workspaces } from '../src/db/schema.js';
import { Heartbeat } from '../src/heartbeat/scheduler.js';
import { HeartbeatSignals } from '../src/heartbeat/signals.js';
import { runTick, type TickDeps, type TickOutcome } from '../src/heartbeat/tick.js';
import { createLogger } from '../src/log.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const intervalMs = 10_000;
const concurrency = 50;
/** BENCH_TRICKLE_MS=0 turns the trickle off, leaving only the quiet path. */
const trickleEveryMs = Number(process.env.BENCH_TRICKLE_MS ?? 100);
const aimRatio = 1.5;
const aimWorkspaces = 10_000;

type Path = 'no-op job' | 'Tacit tick';

/** One side of a run: its worker (watched, never replaced) and how to drive and dismantle it. */
interface Subject {
  worker: Worker;
  schedule(index: number): Promise<void>;
  tookPostgres(result: unknown): boolean;
  /** Starts background load (the event trickle); it stops in `stop`. */
  startLoad(): void;
  /** Removes the schedulers and every key, connection and database the subject made. */
  stop(): Promise<Stopped>;
}

interface Stopped {
  trickled: number;
  problems: string[];
}

interface RunResult {
  workspaces: number;
  path: Path;
  seconds: number;
  ticks: number;
  postgresTicks: number;
  trickled: number;
  nodeCpuMs: number;
  redisCpuMs: number;
  redisCalls: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

/**
 * When the job was due. A scheduler iteration stores `timestamp` (when the iteration was created)
 * and `opts.delay` (its slot minus that timestamp), so the sum is the slot also named in its id
 * (`repeat:<scheduler>:<slot>`). `job.delay` is no use: BullMQ resets it to 0 when it promotes the
 * job from delayed. A wake job has no delay and is due when it was added.
 */
function scheduledAt(job: Job): number {
  return job.timestamp + (job.opts.delay ?? 0);
}

/** What a worker did while the window was open. */
class Tally {
  measuring = false;
  ticks = 0;
  postgresTicks = 0;
  failed = 0;
  readonly latenessMs: number[] = [];
  readonly problems: string[] = [];

  watch(worker: Worker, tookPostgres: (result: unknown) => boolean): void {
    worker.on('active', (job) => {
      if (this.measuring) this.latenessMs.push(Date.now() - scheduledAt(job));
    });
    worker.on('completed', (_job, result) => {
      if (!this.measuring) return;
      this.ticks++;
      if (tookPostgres(result)) this.postgresTicks++;
    });
    worker.on('failed', (_job, err) => {
      if (this.measuring) this.failed++;
      this.note(`job failed: ${err.message}`);
    });
    worker.on('error', (err) => this.note(`worker error: ${err.message}`));
  }

  note(problem: string): void {
    if (this.problems.length < 5) this.problems.push(problem);
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

interface Snapshot {
  at: bigint;
  cpu: NodeJS.CpuUsage;
  redisCpuMs: number;
  redisCalls: number;
}

/** Redis CPU (user + sys) and the sum of per-command calls, which counts commands run inside scripts too. */
async function snapshot(stats: Redis): Promise<Snapshot> {
  const [cpuInfo, commandInfo] = [await stats.info('cpu'), await stats.info('commandstats')];
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpuInfo)?.[1] ?? Number.NaN);
  let redisCalls = 0;
  for (const m of commandInfo.matchAll(/calls=(\d+)/g)) redisCalls += Number(m[1]);
  return {
    at: process.hrtime.bigint(),
    cpu: process.cpuUsage(),
    redisCpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000,
    redisCalls,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inChunks(n: number, size: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < n; from += size) {
    await Promise.all(Array.from({ length: Math.min(size, n - from) }, (_, j) => task(from + j)));
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const workspaceId = (i: number) => `bench:${i}`;

/** The same phase spread Heartbeat.schedule uses, so both sides fire on the same timetable. */
function phase(id: string): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) % intervalMs;
}

function baselineSubject(): Subject {
  const prefix = `tacit-bench-${randomBytes(4).toString('hex')}`;
  const connection = connectRedis(redisUrl, () => undefined);
  const workerConnection = connection.duplicate();
  const queue = new Queue('noop', { connection, prefix });
  const worker = new Worker('noop', async () => undefined, { connection: workerConnection, prefix, concurrency });
  let scheduled = 0;
  return {
    worker,
    async schedule(i) {
      const id = workspaceId(i);
      await queue.upsertJobScheduler(
        `noop.${i}`,
        { every: intervalMs, offset: phase(id) },
        { name: 'tick', data: { workspaceId: id }, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
      );
      scheduled = Math.max(scheduled, i + 1);
    },
    tookPostgres: () => false,
    startLoad: () => undefined,
    async stop() {
      await inChunks(scheduled, 500, (i) => queue.removeJobScheduler(`noop.${i}`));
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await deleteKeys(connection, prefix);
      workerConnection.disconnect();
      await connection.quit();
      return { trickled: 0, problems: [] };
    },
  };
}

async function seed(db: TickDeps['db'], n: number): Promise<void> {
  for (let from = 0; from < n; from += 2000) {
    const ids = Array.from({ length: Math.min(2000, n - from) }, (_, j) => from + j);
    await db.insert(workspaces).values(ids.map((i) => ({ id: workspaceId(i), platform: 'playground' as const, name: `Bench workspace ${i}` })));
    await db.insert(channels).values(ids.map((i) => ({ id: `${workspaceId(i)}:general`, workspaceId: workspaceId(i), name: 'general' })));
  }
}

async function tacitSubject(n: number, admin: pg.Client): Promise<Subject> {
  const name = `tacit_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = connectPostgres({ url: url.toString() });
  await database.migrate();
  await seed(database.db, n);

  const prefix = `tacit-bench-${randomBytes(4).toString('hex')}`;
  const redis = connectRedis(redisUrl, () => undefined);
  const signals = new HeartbeatSignals(redis, prefix);
  const log = createLogger('silent');
  const heartbeat: Heartbeat = new Heartbeat({
    connection: redis, prefix, signals, log, concurrency, runTick: (ws, trigger) => runTick(deps, ws, trigger),
  });
  const deps: TickDeps = {
    db: database.db, signals, brain: new RulesBrain(), clock: systemClock, log,
    deliver: async () => undefined,
    wakeAgain: (ws, generation) => heartbeat.wake(ws, generation),
  };
  heartbeat.start();
  // The worker is Heartbeat's own; the bench only listens to it.
  const worker = (heartbeat as unknown as { worker?: Worker }).worker;
  if (!worker) throw new Error('Heartbeat no longer keeps its worker in `worker`; update bench/heartbeat.ts to find it');

  let trickle: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<unknown>>();
  let trickled = 0;
  const problems: string[] = [];
  const addEvent = async (seq: number) => {
    const ws = workspaceId(Math.floor(Math.random() * n));
    const payload: ChatEvent = {
      kind: 'chat.message', channelId: `${ws}:general`, messageId: `m${seq}`, threadId: null,
      author: { id: 'u1', name: 'Bench' }, text: 'deploy looks fine from here',
    };
    await database.db.insert(events).values({
      workspaceId: ws, sourceId: null, kind: payload.kind, dedupeKey: `chat:${payload.channelId}:${payload.messageId}`, occurredAt: new Date(), payload,
    });
    await signals.markDirty(ws);
    trickled++;
  };
  return {
    worker,
    schedule: (i) => heartbeat.schedule(workspaceId(i), intervalMs),
    tookPostgres: (result) => {
      const kind = (result as TickOutcome | undefined)?.kind;
      return kind === 'gated' || kind === 'decided';
    },
    startLoad() {
      if (!(trickleEveryMs > 0)) return;
      let seq = 0;
      trickle = setInterval(() => {
        const p = addEvent(++seq)
          .catch((err: unknown) => {
            if (problems.length < 5) problems.push(`trickle insert failed: ${String(err)}`);
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }, trickleEveryMs);
    },
    async stop() {
      clearInterval(trickle);
      await Promise.all(inFlight);
      await inChunks(n, 500, (i) => heartbeat.unschedule(workspaceId(i)));
      const queueName = heartbeat.queue.name;
      await heartbeat.close();
      // BullMQ leaves a connection it was handed open, so the duplicate Heartbeat.start() made would
      // outlive the run; close it here.
      if (worker.opts.connection instanceof Redis) worker.opts.connection.disconnect();
      const queue = new Queue(queueName, { connection: redis, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
      await database.close();
      await admin.query(`drop database ${name} with (force)`);
      return { trickled, problems };
    },
  };
}

async function measure(n: number, path: Path, subject: Subject, stats: Redis, windowMs: number): Promise<RunResult> {
  const tally = new Tally();
  tally.watch(subject.worker, (r) => subject.tookPostgres(r));
  let before: Snapshot;
  let after: Snapshot;
  let stopped: Stopped;
  try {
    await inChunks(n, 500, (i) => subject.schedule(i));
    // The trickle starts with the warm-up, so the window sees dirty workspaces at a steady rate.
    subject.startLoad();
    await sleep(intervalMs); // every scheduler has fired once
    before = await snapshot(stats);
    tally.measuring = true;
    await sleep(windowMs);
    tally.measuring = false;
    after = await snapshot(stats);
  } finally {
    stopped = await subject.stop();
  }
  const problems = [...tally.problems, ...stopped.problems];
  if (problems.length > 0) console.warn(`heartbeat bench (${path}, ${n} workspaces): ${problems.join('; ')}`);
  const sorted = [...tally.latenessMs].sort((a, b) => a - b);
  return {
    workspaces: n,
    path,
    seconds: Number(after.at - before.at) / 1e9,
    ticks: tally.ticks,
    postgresTicks: tally.postgresTicks,
    trickled: stopped.trickled,
    nodeCpuMs: (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000,
    redisCpuMs: after.redisCpuMs - before.redisCpuMs,
    redisCalls: after.redisCalls - before.redisCalls,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    failed: tally.failed,
  };
}

const perThousand = (ms: number, ticks: number) => (ticks > 0 ? (ms / ticks) * 1000 : Number.NaN);

function report(results: RunResult[], windowMs: number): void {
  console.log(`\nheartbeat: one BullMQ job scheduler per workspace, every ${intervalMs / 1000} s — Tacit's Heartbeat + runTick vs a no-op job`);
  const trickle = trickleEveryMs > 0 ? `one chat message every ${trickleEveryMs} ms marks a random workspace dirty` : 'no events: quiet path only';
  console.log(`(worker concurrency ${concurrency}; ${trickle}; ${windowMs / 1000} s window after a ${intervalMs / 1000} s warm-up)`);
  console.table(
    results.map((r) => ({
      workspaces: r.workspaces,
      path: r.path,
      'ticks/s': Number((r.ticks / r.seconds).toFixed(1)),
      'expected ticks/s': r.workspaces / (intervalMs / 1000),
      'node CPU ms/1k': Number(perThousand(r.nodeCpuMs, r.ticks).toFixed(1)),
      'redis CPU ms/1k': Number(perThousand(r.redisCpuMs, r.ticks).toFixed(1)),
      'redis cmds/tick': Number((r.redisCalls / r.ticks).toFixed(1)),
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      failed: r.failed,
    })),
  );
  for (const n of [...new Set(results.map((r) => r.workspaces))]) {
    const base = results.find((r) => r.workspaces === n && r.path === 'no-op job');
    const tacit = results.find((r) => r.workspaces === n && r.path === 'Tacit tick');
    if (!base || !tacit) continue;
    const node = perThousand(tacit.nodeCpuMs, tacit.ticks) / perThousand(base.nodeCpuMs, base.ticks);
    const both = perThousand(tacit.nodeCpuMs + tacit.redisCpuMs, tacit.ticks) / perThousand(base.nodeCpuMs + base.redisCpuMs, base.ticks);
    const keepsUp = (r: RunResult) => r.ticks / r.seconds >= 0.97 * (r.workspaces / (intervalMs / 1000)) && r.p99Ms < intervalMs;
    const verdict = (ratio: number) => (ratio <= aimRatio ? 'holds' : 'misses');
    const aim = n === aimWorkspaces ? `aim (quiet path within ${aimRatio}x at ${aimWorkspaces} workspaces): node ${verdict(node)}, node+redis ${verdict(both)}` : `(the ${aimRatio}x aim is stated for ${aimWorkspaces} workspaces)`;
    console.log(
      `${n} workspaces: Tacit/baseline CPU per tick — node ${node.toFixed(2)}x, node+redis ${both.toFixed(2)}x; ${aim}. ` +
        `Keeping up: baseline ${keepsUp(base) ? 'yes' : 'NO'}, Tacit ${keepsUp(tacit) ? 'yes' : 'NO'}. ` +
        `Tacit ticks that read Postgres: ${tacit.postgresTicks} of ${tacit.ticks} (${tacit.trickled} events trickled in over warm-up + window).`,
    );
  }
}

export async function benchHeartbeat(
  counts = (process.env.BENCH_WORKSPACES ?? '1000,10000').split(',').map(Number),
  windowMs = Number(process.env.BENCH_WINDOW_MS ?? 30_000),
): Promise<void> {
  if (counts.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('BENCH_WORKSPACES must be a comma-separated list of positive integers, e.g. 1000,10000');
  if (!(windowMs > 0)) throw new Error('BENCH_WINDOW_MS must be a positive number of milliseconds');
  const stats = connectRedis(redisUrl, () => undefined);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const results: RunResult[] = [];
  try {
    for (const n of counts) {
      results.push(await measure(n, 'no-op job', baselineSubject(), stats, windowMs));
      results.push(await measure(n, 'Tacit tick', await tacitSubject(n, admin), stats, windowMs));
    }
  } finally {
    await admin.end();
    stats.disconnect();
  }
  report(results, windowMs);
}
