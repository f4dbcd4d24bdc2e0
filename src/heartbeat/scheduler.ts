// Per-workspace heartbeat schedulers on BullMQ: one job scheduler per workspace (`heartbeat.<id>`),
// wake jobs for urgent news, and the worker that runs ticks. Phases are spread with `offset` so
// ticks do not bunch up after a restart.
import { createHash } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';
import type { WorkspaceSignal } from '../sources/intake.js';
import type { HeartbeatSignals } from './signals.js';
import type { TickOutcome, TickTrigger } from './tick.js';

export interface HeartbeatOptions {
  connection: Redis;
  prefix: string;
  signals: HeartbeatSignals;
  log: Logger;
  /** `slot`: for a scheduler's job, the time its beat was due (see scheduledSlot). */
  runTick(workspaceId: string, trigger: TickTrigger, slot?: number): Promise<TickOutcome>;
  concurrency?: number;
  /**
   * How long a tick job's BullMQ lock lasts without renewal, and how often workers look for stalled
   * jobs (a killed process's ticks): BullMQ's 30 s each by default; tests shorten them.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

interface TickJob {
  workspaceId: string;
  /** Absent on a scheduler's jobs: every workspace has one, and Redis keeps it twice (memory per workspace counts). */
  trigger?: TickTrigger;
}

const QUEUE = 'heartbeat';

/**
 * The slot a scheduler's job stands for: the time its beat was due, which BullMQ keeps in the job id
 * (`repeat:<scheduler>:<ms>`, aligned to the interval and offset). A retried job keeps its slot.
 */
export function scheduledSlot(jobId: string | undefined): number | undefined {
  const ms = /^repeat:.+:(\d+)$/.exec(jobId ?? '')?.[1];
  return ms === undefined ? undefined : Number(ms);
}

/** BullMQ job ids may not contain ':'; workspace ids do (`slack:T123`). */
export function jobKey(workspaceId: string): string {
  return workspaceId.replaceAll(':', '.');
}

export class Heartbeat implements WorkspaceSignal {
  readonly queue: Queue<TickJob>;
  private worker: Worker<TickJob, TickOutcome> | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  private workerConnection(): Redis {
    this.own = dedicatedConnection(this.opts.connection);
    return this.own.connection;
  }

  constructor(private readonly opts: HeartbeatOptions) {
    // Nobody listens to this queue's event stream, and every tick writes to it: keep it short (BullMQ's default is 10,000).
    this.queue = new Queue<TickJob>(QUEUE, { connection: opts.connection, prefix: opts.prefix, streams: { events: { maxLen: 1_000 } } });
    // Without a listener BullMQ prints each connection error raw to stderr; the connection owner logs them already.
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'heartbeat queue: redis error'));
  }

  /** Creates or updates the workspace's scheduler; its phase is derived from the id. */
  async schedule(workspaceId: string, intervalMs: number): Promise<void> {
    const offset = phase(workspaceId, intervalMs);
    await this.queue.upsertJobScheduler(
      `heartbeat.${jobKey(workspaceId)}`,
      { every: intervalMs, offset },
      {
        name: 'tick',
        data: { workspaceId },
        opts: { removeOnComplete: true, removeOnFail: 100 },
      },
    );
  }

  /** Many schedulers at once (a restore): sent together, so they pipeline on the one connection. */
  async scheduleMany(list: { workspaceId: string; intervalMs: number }[]): Promise<void> {
    await Promise.all(list.map((w) => this.schedule(w.workspaceId, w.intervalMs)));
  }

  /** How many workspace schedulers Redis holds (fewer than workspaces in Postgres: some were lost). */
  schedulerCount(): Promise<number> {
    return this.queue.getJobSchedulersCount();
  }

  async unschedule(workspaceId: string): Promise<void> {
    await this.queue.removeJobScheduler(`heartbeat.${jobKey(workspaceId)}`);
  }

  markDirty(workspaceId: string): Promise<number> {
    return this.opts.signals.markDirty(workspaceId);
  }

  /** One wake job per dirty generation: repeats of the same wake collapse, a later one never does. */
  async wake(workspaceId: string, generation: number, delayMs = 0): Promise<void> {
    await this.queue.add(
      'tick',
      { workspaceId, trigger: 'wake' },
      // Generations only grow, so this id is never reused; finished wake jobs are not kept.
      { jobId: `wake.${jobKey(workspaceId)}.${generation}`, removeOnComplete: true, removeOnFail: true, ...(delayMs > 0 ? { delay: delayMs } : {}) },
    );
  }

  /** A tick shortly after one failed on what it read; keyed by the failed tick, so it is asked for once. */
  async retrySoon(workspaceId: string, failedTickId: string, delayMs = 500): Promise<void> {
    await this.queue.add(
      'tick',
      { workspaceId, trigger: 'wake' },
      { jobId: `retry.${jobKey(workspaceId)}.${failedTickId}`, delay: delayMs, removeOnComplete: true, removeOnFail: true },
    );
  }

  start(): void {
    const run = (job: Job<TickJob>) => {
      const trigger = job.data.trigger ?? 'schedule';
      return this.opts.runTick(job.data.workspaceId, trigger, trigger === 'schedule' ? scheduledSlot(job.id) : undefined);
    };
    this.worker = new Worker<TickJob, TickOutcome>(QUEUE, run, {
      connection: this.workerConnection(),
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency ?? 16,
      ...(this.opts.lockDurationMs ? { lockDuration: this.opts.lockDurationMs } : {}),
      ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
      // A tick whose process died is stalled; BullMQ's default fails it after one stall. Run it again.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    this.worker.on('failed', (job, err) => {
      // A failed tick leaves its workspace dirty; the next beat retries it.
      this.opts.log.error({ workspaceId: job?.data.workspaceId, err }, 'tick failed; it will be retried on the next beat');
    });
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'heartbeat worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }
}

function phase(workspaceId: string, intervalMs: number): number {
  return createHash('sha1').update(workspaceId).digest().readUInt32BE(0) % intervalMs;
}
