// The deployment-wide heartbeat counters (`<prefix>:counters`, read by /metrics), summed in each
// process and added to Redis once a second: a tick's scripts then touch its own workspace's keys only
// (one hash slot on a Redis Cluster), and no single hot key takes an increment per tick at scale.
// A process killed with -9 loses at most the last second of its global counts; each workspace's own
// counters are exact.
import type { Redis } from 'ioredis';

export class GlobalCounters<Name extends string> {
  private pending = new Map<Name, number>();
  /** Being added right now: still counted by `read` until Redis has it. */
  private inflight = new Map<Name, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly flushEveryMs = 1_000,
  ) {}

  add(counts: Partial<Record<Name, number>>): void {
    for (const [name, by] of Object.entries(counts) as [Name, number | undefined][]) {
      if (by) this.pending.set(name, (this.pending.get(name) ?? 0) + by);
    }
    if (!this.timer && this.pending.size > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushEveryMs);
      this.timer.unref();
    }
  }

  /** Adds what this process counted to Redis; kept for the next flush when Redis refuses. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Redis's totals plus what this process has not added yet. */
  async read(): Promise<Partial<Record<Name, number>>> {
    const raw = await this.redis.hgetall(this.key);
    const totals: Partial<Record<Name, number>> = {};
    for (const [name, value] of Object.entries(raw)) totals[name as Name] = Number(value);
    for (const [name, by] of [...this.pending, ...this.inflight]) totals[name] = (totals[name] ?? 0) + by;
    return totals;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.inflight = batch;
    const multi = this.redis.multi();
    for (const [name, by] of batch) multi.hincrby(this.key, name, by);
    try {
      await multi.exec();
    } catch {
      this.add(Object.fromEntries(batch) as Partial<Record<Name, number>>);
    } finally {
      this.inflight = new Map();
    }
  }
}
