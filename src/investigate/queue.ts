// The investigations queue: one BullMQ job per incident version that qualifies, so a slow source
// never holds a tick or its lock. Job ids come from the incident and its version (it runs once); the
// database claim in investigate.ts makes one occurrence one investigation, whatever the retries.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';
import { investigate, type InvestigateDeps, type InvestigationJob, type InvestigationResult } from './investigate.js';

const QUEUE = 'investigate';

export interface InvestigationQueueOptions {
  connection: Redis;
  prefix: string;
  log: Logger;
  deps: InvestigateDeps;
  concurrency?: number;
}

/** BullMQ job ids may not contain ':'. */
export function investigationJobId(job: Pick<InvestigationJob, 'incidentId' | 'version'>): string {
  return `investigate.${job.incidentId.replaceAll(':', '.')}.v${job.version}`;
}

export class InvestigationQueue {
  private readonly queue: Queue<InvestigationJob>;
  private worker: Worker<InvestigationJob, InvestigationResult> | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  constructor(private readonly opts: InvestigationQueueOptions) {
    this.queue = new Queue<InvestigationJob>(QUEUE, { connection: opts.connection, prefix: opts.prefix });
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'investigation queue: redis error'));
  }

  /** Asks for investigations; a job already asked for (same incident version) is not added again. */
  async request(jobs: InvestigationJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((data) => ({
      name: 'investigate',
      data,
      // Kept a day after it ran, so the same id cannot be added (and run) again meanwhile.
      opts: { jobId: investigationJobId(data), removeOnComplete: { age: 86_400 }, removeOnFail: { age: 86_400 }, attempts: 2, backoff: { type: 'fixed', delay: 1_000 } },
    })));
  }

  start(): void {
    this.own = dedicatedConnection(this.opts.connection);
    this.worker = new Worker<InvestigationJob, InvestigationResult>(QUEUE, (job) => investigate(this.opts.deps, job.data), {
      connection: this.own.connection,
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency ?? 8,
      // An investigation whose process died is stalled: run it again (its claim lets the same id take over).
      maxStalledCount: 3,
    });
    this.worker.on('failed', (job, err) => this.opts.log.warn({ workspaceId: job?.data.workspaceId, incidentId: job?.data.incidentId, err: err.message }, 'investigation failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'investigation worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }
}
