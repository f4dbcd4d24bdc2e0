// Periodic upkeep that must run once per interval across all Tacit processes, whatever restarts:
// BullMQ job schedulers, not timers (restored from code by heartbeat/restore.ts when Redis loses them).
// Today: recovering GitHub deliveries Tacit missed, approvals, the retention purge.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';

export interface MaintenanceTask {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
  /** Also run once at start-up and after a restore (default), e.g. to recover what was missed while down. */
  runAtStart?: boolean;
}

const QUEUE = 'maintenance';

export class Maintenance {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  private workerConnection(): Redis {
    this.own = dedicatedConnection(this.opts.connection);
    return this.own.connection;
  }

  constructor(
    private readonly opts: { connection: Redis; prefix: string; log: Logger; tasks: MaintenanceTask[] },
  ) {
    this.queue = new Queue(QUEUE, { connection: opts.connection, prefix: opts.prefix });
    // Without a listener BullMQ prints each connection error raw to stderr; the connection owner logs them already.
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'maintenance queue: redis error'));
  }

  /**
   * Creates (or re-creates, after Redis lost them) every task's scheduler; `runNow` also runs each
   * task once now (recovering what was missed while down). Returns how many were scheduled.
   */
  async schedule(runNow: boolean): Promise<number> {
    await Promise.all(this.opts.tasks.map(async (task) => {
      await this.queue.upsertJobScheduler(`maintenance.${task.name}`, { every: task.everyMs }, {
        name: task.name,
        opts: { removeOnComplete: true, removeOnFail: { count: 50 } },
      });
      if (!runNow || task.runAtStart === false) return;
      await this.queue.add(task.name, {}, { jobId: `startup.${task.name}.${Math.floor(Date.now() / task.everyMs)}`, removeOnComplete: true, removeOnFail: true });
    }));
    return this.opts.tasks.length;
  }

  /** Starts the worker; the schedules come from `schedule` (called by the restore at start-up). */
  start(): void {
    this.worker = new Worker(
      QUEUE,
      async (job) => {
        const task = this.opts.tasks.find((t) => t.name === job.name);
        if (!task) return undefined;
        return task.run();
      },
      { connection: this.workerConnection(), prefix: this.opts.prefix, concurrency: 1 },
    );
    this.worker.on('failed', (job, err) => this.opts.log.warn({ task: job?.name, err: err.message }, 'maintenance task failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'maintenance worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }
}
