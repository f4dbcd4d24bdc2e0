// Edits and deletions Tacit could not store when they came (the database was away). The gateway
// never sends an event twice, and a backfill reads only messages after a channel's cursor, so the
// edit of an older message, or its deletion, would be lost for good: what was taken back would stay
// stored. Instead each waits in a Redis hash (the latest change per message; a restart or another
// process picks it up) and is applied again with a capped backoff until the store takes it.
import type { Redis } from 'ioredis';
import type { MessageChange } from '../port.js';
import type { Logger } from '../../log.js';
import { recoveryDelayMs, refusedAsData } from './backfill.js';

export interface PendingChangesOptions {
  redis: Redis;
  /** The hash: field `<channel>/<message>`, value the change as JSON. */
  key: string;
  log: Logger;
  apply(change: MessageChange): Promise<void>;
  /** First retry delay, doubled up to `maxMs` (defaults 2 s, 60 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /** At most this many changes wait; beyond it the newest are dropped, and said so (default 10,000). */
  max?: number;
}

/** Removes a field only while it still holds what was applied: a newer change for that message stays. */
const DELETE_IF_SAME = "if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('hdel', KEYS[1], ARGV[1]) end return 0";

function fieldOf(change: MessageChange): string {
  return change.kind === 'edited' ? `${change.message.channelId}/${change.message.messageId}` : `${change.channelId}/${change.messageId}`;
}

export class PendingChanges {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** Something may wait (here or from another process): live changes then drop older waiting ones. */
  private mayWait = true;
  private draining: Promise<void> = Promise.resolve();

  constructor(private readonly opts: PendingChangesOptions) {}

  /** Applies a live change; when the store fails, it waits and is retried. Never throws. */
  async take(change: MessageChange): Promise<void> {
    try {
      await this.opts.apply(change);
    } catch (err) {
      const refused = refusedAsData(err);
      if (refused) return void this.opts.log.error({ err, reason: refused }, 'discord message change refused by the database; skipped');
      return this.hold(change, err);
    }
    // An older change of this message still waiting must not be applied after this one.
    if (this.mayWait) {
      await this.opts.redis.hdel(this.opts.key, fieldOf(change)).catch((err: unknown) => this.opts.log.warn({ err }, 'could not drop an older waiting discord message change'));
    }
  }

  /** Applies what earlier processes (or this one, before a restart) left waiting. */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
  }

  private async hold(change: MessageChange, cause: unknown): Promise<void> {
    const { redis, key, log } = this.opts;
    try {
      const waiting = await redis.hlen(key);
      if (waiting >= (this.opts.max ?? 10_000)) {
        log.error({ err: cause, waiting }, 'discord message change lost: too many are already waiting for the database');
        return;
      }
      await redis.hset(key, fieldOf(change), JSON.stringify(change));
      this.mayWait = true;
      log.warn({ err: cause, kind: change.kind }, 'discord message change not stored; it is applied once the database is back');
      this.schedule();
    } catch (err) {
      log.error({ err, cause }, 'discord message change lost: neither the database nor Redis took it');
    }
  }

  private schedule(delayMs?: number): void {
    if (this.timer || this.stopped) return;
    const delay = delayMs ?? recoveryDelayMs(this.failures, this.opts.retry);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draining = this.drain();
    }, delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    const { redis, key, log } = this.opts;
    let left: number;
    try {
      const waiting = await redis.hgetall(key);
      for (const [field, value] of Object.entries(waiting)) {
        if (this.stopped) return;
        let change: MessageChange;
        try {
          change = JSON.parse(value) as MessageChange;
        } catch {
          await redis.hdel(key, field);
          continue;
        }
        try {
          await this.opts.apply(change);
        } catch (err) {
          if (!refusedAsData(err)) throw err;
          log.error({ err }, 'discord message change refused by the database; skipped');
        }
        await redis.eval(DELETE_IF_SAME, 1, key, field, value);
      }
      left = await redis.hlen(key);
    } catch (err) {
      log.warn({ err }, 'waiting discord message changes not applied yet; retrying');
      left = 1;
    }
    if (left === 0) {
      this.failures = 0;
      this.mayWait = false;
      return;
    }
    this.failures++;
    this.schedule();
  }
}
