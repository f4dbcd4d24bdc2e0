// Benchmark: the quiet path of the heartbeat against a no-op BullMQ job, in the same run.
// Both process the same number of jobs through a real BullMQ worker on the local Redis; the tick
// jobs run the real `runTick` on clean workspaces (one Redis round trip, never Postgres: the
// database handed in throws if touched). Reports jobs/s, CPU per 1,000 jobs and the ratio.
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RulesBrain } from '../src/brain/rules/rules-brain.js';
import { systemClock } from '../src/core/clock.js';
import type { Db } from '../src/db/client.js';
import { HeartbeatSignals } from '../src/heartbeat/signals.js';
import { runTick, type TickDeps } from '../src/heartbeat/tick.js';
import { createLogger } from '../src/log.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Result {
  name: string;
  jobs: number;
  seconds: number;
  cpuMsPer1000: number;
}

async function measure(name: string, jobs: number, workspaces: number, processor: (workspaceId: string) => Promise<unknown>): Promise<Result> {
  const prefix = `tacit-bench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench', { connection, prefix });
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({
        name: 'tick',
        data: { workspaceId: `bench:${(i + j) % workspaces}` },
        opts: { removeOnComplete: true },
      })),
    );
  }
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('bench', async (job) => processor(job.data.workspaceId as string), {
      connection: connection.duplicate(), prefix, concurrency: 50,
    });
    worker.on('completed', () => {
      if (++done === jobs) void worker.close().then(() => resolve());
    });
  });
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await queue.obliterate({ force: true });
  await queue.close();
  const keys = await connection.keys(`${prefix}:*`);
  if (keys.length) await connection.del(...keys);
  connection.disconnect();
  return { name, jobs, seconds, cpuMsPer1000: ((cpu.user + cpu.system) / 1000 / jobs) * 1000 };
}

export async function benchQuietTick(jobs = Number(process.env.BENCH_JOBS ?? 20_000)): Promise<void> {
  const redis = new Redis(redisUrl);
  const prefix = `tacit-bench-${randomBytes(4).toString('hex')}`;
  const untouchable = new Proxy({}, { get: () => { throw new Error('a quiet tick touched Postgres'); } }) as Db;
  const deps: TickDeps = {
    db: untouchable,
    signals: new HeartbeatSignals(redis, prefix),
    brain: new RulesBrain(),
    clock: systemClock,
    log: createLogger('silent'),
    deliver: async () => undefined,
    wakeAgain: async () => undefined,
  };
  const baseline = await measure('no-op BullMQ job', jobs, 1000, async () => undefined);
  const quiet = await measure('quiet tick (runTick)', jobs, 1000, (ws) => runTick(deps, ws, 'schedule'));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();

  console.log(`\nheartbeat: quiet tick vs no-op job (${jobs} jobs over 1000 workspaces, concurrency 50)`);
  console.table(
    [baseline, quiet].map((r) => ({
      path: r.name,
      'jobs/s': Math.round(r.jobs / r.seconds),
      'CPU ms / 1000 jobs': r.cpuMsPer1000.toFixed(1),
    })),
  );
  console.log(`ratio (quiet tick / no-op), CPU per job: ${(quiet.cpuMsPer1000 / baseline.cpuMsPer1000).toFixed(2)}x; throughput: ${(baseline.seconds / quiet.seconds).toFixed(2)}x of baseline`);
}
