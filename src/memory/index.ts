// Memory: layered, written only after verification, re-checked before use, consolidated while idle.
// Entries are staged by the tick, activated when their message is delivered or their action verified,
// checked against live state whenever they are read, and consolidated by the dream worker.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Brain, MemoryView } from '../brain/port.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../db/client.js';
import { dedicatedConnection } from '../db/redis.js';
import type { TickMemory, Tx } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';
import type { LiveIncidents } from './checks.js';
import { defaultDreamOptions, dream, dueWorkspaces, type DreamOptions, type DreamResult } from './dreamer.js';
import { defaultIndexBounds, type IndexBounds } from './render.js';
import { applyFeedback } from './feedback.js';
import { activate, dropStaged, readIndex, recallEntry, reconcileStaged, stageEntries } from './store.js';

export interface MemoryOptions {
  bounds: IndexBounds;
  dream: DreamOptions;
  /** How often the sweep looks for workspaces due a dream. */
  sweepEveryMs: number;
}

export interface MemoryDeps {
  db: Db;
  connection: Redis;
  prefix: string;
  clock: Clock;
  log: Logger;
  brain: Brain;
  options?: Partial<MemoryOptions>;
}

const QUEUE = 'memory';

type MemoryJob = { kind: 'sweep' } | { kind: 'dream'; workspaceId: string };

export class Memory implements TickMemory {
  private readonly options: MemoryOptions;
  private queue: Queue<MemoryJob> | undefined;
  private worker: Worker<MemoryJob> | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  constructor(private readonly deps: MemoryDeps) {
    this.options = {
      bounds: deps.options?.bounds ?? defaultIndexBounds,
      dream: { ...defaultDreamOptions, ...deps.options?.dream },
      sweepEveryMs: deps.options?.sweepEveryMs ?? 15 * 60_000,
    };
  }

  /**
   * The index for a prompt (undefined when there is nothing to show), every entry checked first.
   * `live.incidents`: the tick's own view of incidents, newer than the table while the tick runs.
   */
  async view(workspaceId: string, now: Date, live?: { incidents?: LiveIncidents }): Promise<MemoryView | undefined> {
    const { text, rows } = await readIndex(this.deps.db, workspaceId, now, this.options.bounds, live?.incidents);
    if (rows.length === 0) return undefined;
    return { index: text, recall: (id) => recallEntry(this.deps.db, workspaceId, id, this.deps.clock.now(), live?.incidents) };
  }

  /** The index as `/tacit memory` and tests see it. */
  index(workspaceId: string, now: Date) {
    return readIndex(this.deps.db, workspaceId, now, this.options.bounds);
  }

  async stage(tx: Tx, request: Parameters<TickMemory['stage']>[1]): Promise<{ notes: string[] }> {
    return stageEntries(tx, request);
  }

  /** People gave feedback on a decision's message: what it taught memory may be retired (memory/feedback.ts). */
  async onFeedback(workspaceId: string, decisionId: string): Promise<void> {
    const retired = await applyFeedback(this.deps.db, workspaceId, decisionId, this.deps.clock.now());
    if (retired.length > 0) this.deps.log.info({ workspaceId, decisionId, retired }, 'memory entries retired after not-helpful feedback');
  }

  /** A message was delivered: entries staged on it become active. */
  async onDelivered(outboxId: string): Promise<void> {
    const ids = await activate(this.deps.db, { kind: 'outbox', id: outboxId }, this.deps.clock.now());
    if (ids.length > 0) this.deps.log.info({ outboxId, memories: ids }, 'memory verified by delivery; active');
  }

  /** An approved action finished: verified → its entries become active; failed or refused → they are dropped. */
  async onActionFinished(approvalId: string, verified: boolean): Promise<void> {
    if (verified) {
      const ids = await activate(this.deps.db, { kind: 'approval', id: approvalId }, this.deps.clock.now());
      if (ids.length > 0) this.deps.log.info({ approvalId, memories: ids }, 'memory verified by its action; active');
      return;
    }
    const ids = await dropStaged(this.deps.db, { kind: 'approval', id: approvalId });
    if (ids.length > 0) this.deps.log.info({ approvalId, memories: ids }, 'action not verified; its staged memory dropped');
  }

  /** Runs a consolidation for the workspace now, whatever its activity (for tests and operators). */
  async dreamNow(workspaceId: string): Promise<DreamResult> {
    return dream(this.dreamDeps(), workspaceId, this.deps.clock.now(), this.options.dream.lockMs);
  }

  /** Staged entries whose message was sent or whose approval was refused while activation was missed. */
  async reconcile(workspaceId: string) {
    return reconcileStaged(this.deps.db, workspaceId, this.deps.clock.now());
  }

  start(): void {
    const { connection, prefix, log } = this.deps;
    this.queue = new Queue<MemoryJob>(QUEUE, { connection, prefix });
    this.queue.on('error', (err) => log.debug({ err: err.message }, 'memory queue: redis error'));
    this.own = dedicatedConnection(connection);
    // A dream whose process died is stalled; BullMQ's default fails it after one stall. Dream again.
    this.worker = new Worker<MemoryJob>(QUEUE, (job) => this.run(job.data), { connection: this.own.connection, prefix, concurrency: 1, maxStalledCount: Number.MAX_SAFE_INTEGER });
    this.worker.on('failed', (job, err) => log.warn({ job: job?.name, err: err.message }, 'memory job failed'));
    this.worker.on('error', (err) => log.error({ err }, 'memory worker error'));
    this.schedule().catch((err: unknown) => log.error({ err }, 'could not schedule the memory dream sweep'));
    log.debug('memory started');
  }

  /** The dream sweep's scheduler; created again by heartbeat/restore.ts when Redis lost it. */
  async schedule(): Promise<void> {
    // The first sweep waits one interval: dreaming is for idle times, never a start-up burst.
    await this.queue?.upsertJobScheduler('memory.dream-sweep', { every: this.options.sweepEveryMs, startDate: Date.now() + this.options.sweepEveryMs }, { name: 'sweep', data: { kind: 'sweep' }, opts: { removeOnComplete: true, removeOnFail: { count: 50 } } });
  }

  private async run(job: MemoryJob): Promise<unknown> {
    const now = this.deps.clock.now();
    if (job.kind === 'dream') return dream(this.dreamDeps(), job.workspaceId, now, this.options.dream.lockMs);
    for (const workspaceId of await dueWorkspaces(this.deps.db, now, this.options.dream)) {
      // One job per workspace per day: a second sweep the same day adds nothing.
      const day = now.toISOString().slice(0, 10);
      await this.queue?.add('dream', { kind: 'dream', workspaceId }, { jobId: `dream.${workspaceId.replaceAll(':', '.')}.${day}`, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } });
    }
    return undefined;
  }

  private dreamDeps() {
    const { db, connection, prefix, brain, log } = this.deps;
    return { db, connection, prefix, brain, log, bounds: this.options.bounds };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue?.close();
  }
}
