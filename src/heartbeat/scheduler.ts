// The heartbeat on BullMQ: each workspace's beat, wake jobs for urgent news, and the worker that runs
// ticks. Beats come one of two ways (`mode`), both with the phase spread so ticks do not bunch up:
// - `sweep` (the default): a sweep every `sweepEveryMs` ticks each partition's due clean workspaces in
//   one script call (beats.ts) and queues a tick job only for the dirty or due ones;
// - `schedulers`: one BullMQ job scheduler per workspace (`heartbeat.<id>`), whose every job is a tick.
// `npm run bench -- heartbeat` measures both side by side; the sweep won at every size (README).
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';
import type { WorkspaceSignal } from '../sources/intake.js';
import { BEAT_PARTITIONS, beatPartition, beatPhase } from './beats.js';
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
  mode?: HeartbeatMode;
  /** How often the sweep looks for due beats (it adds up to this much lateness). */
  sweepEveryMs?: number;
  /** The sweep's quiet ticks, for /metrics (they never reach runTick). */
  onQuietTicks?(latenessMs: readonly number[], seconds: number): void;
  /** The tick clock (due times, the timeline's minute); beats themselves run on wall time, as BullMQ's do. */
  now?(): Date;
}

export type HeartbeatMode = 'sweep' | 'schedulers';

/** Beats one sweep takes from a partition per call; more waiting are taken by the next call at once. */
const SWEEP_BATCH = 2_000;
/**
 * A partition whose next beat is not due yet is skipped, but looked at again after this long anyway:
 * another process may have planned a workspace there with an earlier first beat.
 */
const SWEEP_RECHECK_MS = 1_000;

interface TickJob {
  workspaceId: string;
  /** Absent on a beat's jobs: every workspace has one, and Redis keeps it twice (memory per workspace counts). */
  trigger?: TickTrigger;
  /** A sweep's tick job: the beat it stands for (a scheduler's job has it in its id instead). */
  slot?: number;
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
  readonly mode: HeartbeatMode;
  private worker: Worker<TickJob, TickOutcome> | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;
  private sweeping: { stop(): Promise<void> } | undefined;
  /** Per partition, when the sweep last saw its next beat due (0: look at once) and when it last looked. */
  private readonly nextBeatAt = new Array<number>(BEAT_PARTITIONS).fill(0);
  private readonly sweptAt = new Array<number>(BEAT_PARTITIONS).fill(0);
  /** Per partition, how many plans this process made (a sweep in flight can miss the latest). */
  private readonly plans = new Array<number>(BEAT_PARTITIONS).fill(0);

  private workerConnection(): Redis {
    this.own = dedicatedConnection(this.opts.connection);
    return this.own.connection;
  }

  constructor(private readonly opts: HeartbeatOptions) {
    this.mode = opts.mode ?? 'sweep';
    // Nobody listens to this queue's event stream, and every tick writes to it: keep it short (BullMQ's default is 10,000).
    this.queue = new Queue<TickJob>(QUEUE, { connection: opts.connection, prefix: opts.prefix, streams: { events: { maxLen: 1_000 } } });
    // Without a listener BullMQ prints each connection error raw to stderr; the connection owner logs them already.
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'heartbeat queue: redis error'));
  }

  /** Creates or updates the workspace's beat; its phase is derived from the id. */
  async schedule(workspaceId: string, intervalMs: number): Promise<void> {
    if (this.mode === 'sweep') {
      await this.opts.signals.plan(workspaceId, intervalMs);
      const partition = beatPartition(workspaceId);
      this.plans[partition] = (this.plans[partition] ?? 0) + 1;
      this.nextBeatAt[partition] = 0;
      return;
    }
    await this.queue.upsertJobScheduler(
      `heartbeat.${jobKey(workspaceId)}`,
      { every: intervalMs, offset: beatPhase(workspaceId, intervalMs) },
      {
        name: 'tick',
        data: { workspaceId },
        opts: { removeOnComplete: true, removeOnFail: 100 },
      },
    );
  }

  /** Many beats at once (a restore): sent together, so they pipeline on the one connection. */
  async scheduleMany(list: { workspaceId: string; intervalMs: number }[]): Promise<void> {
    await Promise.all(list.map((w) => this.schedule(w.workspaceId, w.intervalMs)));
  }

  /** How many workspace beats Redis holds (fewer than workspaces in Postgres: some were lost). */
  schedulerCount(): Promise<number> {
    return this.mode === 'sweep' ? this.opts.signals.planned() : this.queue.getJobSchedulersCount();
  }

  async isScheduled(workspaceId: string): Promise<boolean> {
    if (this.mode === 'sweep') return (await this.opts.signals.nextBeat(workspaceId)) !== null;
    return (await this.queue.getJobScheduler(`heartbeat.${jobKey(workspaceId)}`)) !== undefined;
  }

  async unschedule(workspaceId: string): Promise<void> {
    if (this.mode === 'sweep') return this.opts.signals.unplan(workspaceId);
    await this.queue.removeJobScheduler(`heartbeat.${jobKey(workspaceId)}`);
  }

  /**
   * Removes the other mode's beats (a deployment that switched modes, or older processes still
   * running during a rolling upgrade), so no workspace beats twice; the caller then plans every
   * workspace the new way. Returns how many went.
   */
  async retireOtherMode(): Promise<number> {
    if (this.mode === 'schedulers') {
      const planned = await this.opts.signals.planned();
      if (planned > 0) await this.opts.signals.dropPlan();
      return planned;
    }
    let removed = 0;
    for (;;) {
      // The queue holds the heartbeat's schedulers only (maintenance and memory have queues of their own).
      const page = (await this.queue.getJobSchedulers(0, 999)).filter((s) => s.key.startsWith('heartbeat.'));
      if (page.length === 0) return removed;
      await Promise.all(page.map((s) => this.queue.removeJobScheduler(s.key)));
      removed += page.length;
    }
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
      return this.opts.runTick(job.data.workspaceId, trigger, trigger === 'schedule' ? job.data.slot ?? scheduledSlot(job.id) : undefined);
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
    if (this.mode === 'sweep') this.sweeping = this.startSweep();
  }

  /**
   * Sweeps every partition each `sweepEveryMs` (all heartbeat processes do: each script is atomic, so
   * a beat is taken once). A partition with more due than one call takes is swept again at once.
   */
  private startSweep(): { stop(): Promise<void> } {
    const everyMs = this.opts.sweepEveryMs ?? 100;
    const now = this.opts.now ?? (() => new Date());
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const sweepPartition = async (partition: number) => {
      const at = Date.now();
      if (at < (this.nextBeatAt[partition] ?? 0) && at - (this.sweptAt[partition] ?? 0) < SWEEP_RECHECK_MS) return;
      this.sweptAt[partition] = at;
      for (;;) {
        const started = performance.now();
        const plans = this.plans[partition];
        const swept = await this.opts.signals.sweep(partition, Date.now(), now(), SWEEP_BATCH);
        // A plan made here while the script ran may be due before what it saw: look again next time.
        this.nextBeatAt[partition] = this.plans[partition] !== plans ? 0 : swept.nextBeatAt ?? Number.POSITIVE_INFINITY;
        if (swept.quiet > 0) this.opts.onQuietTicks?.(swept.latenessMs, (performance.now() - started) / 1000);
        if (swept.due.length > 0) await this.queueBeats(swept.due);
        if (stopped || swept.taken < SWEEP_BATCH) return;
      }
    };
    const loop = () => {
      if (stopped) return;
      const started = Date.now();
      running = Promise.all(Array.from({ length: BEAT_PARTITIONS }, (_, p) => sweepPartition(p)))
        .then(() => undefined, (err: unknown) => this.opts.log.warn({ err }, 'heartbeat sweep failed; the next sweep retries (missed beats are taken late, not lost)'))
        .finally(() => {
          if (!stopped) timer = setTimeout(loop, Math.max(0, everyMs - (Date.now() - started)));
        });
    };
    loop();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    };
  }

  /** One tick job per dirty beat: its id names the beat, so a beat is never queued twice. */
  private async queueBeats(due: { workspaceId: string; slot: number }[]): Promise<void> {
    await this.queue.addBulk(due.map(({ workspaceId, slot }) => ({
      name: 'tick',
      data: { workspaceId, slot },
      opts: { jobId: `beat.${jobKey(workspaceId)}.${slot}`, removeOnComplete: true, removeOnFail: 100 },
    })));
  }

  async close(): Promise<void> {
    await this.sweeping?.stop();
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }
}
