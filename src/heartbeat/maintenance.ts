// Periodic upkeep that must run once per interval across all Tacit processes, whatever restarts:
// BullMQ job schedulers, not timers. Today: recovering GitHub deliveries Tacit missed.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';

export interface MaintenanceTask {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
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
  }

  /** Schedules every task, and runs each once now (e.g. to recover what was missed while down). */
  async start(): Promise<void> {
    for (const task of this.opts.tasks) {
      await this.queue.upsertJobScheduler(`maintenance.${task.name}`, { every: task.everyMs }, {
        name: task.name,
        opts: { removeOnComplete: true, removeOnFail: { count: 50 } },
      });
      await this.queue.add(task.name, {}, { jobId: `startup.${task.name}.${Math.floor(Date.now() / task.everyMs)}`, removeOnComplete: true, removeOnFail: true });
    }
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
