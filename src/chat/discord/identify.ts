// Discord lets a bot send `max_concurrency` IDENTIFYs per 5 s per bucket (`shard_id % max_concurrency`),
// counted over all of the bot's connections, and answers one too many with Invalid Session
// (https://discord.com/developers/docs/events/gateway#rate-limiting). discord.js spaces the shards of
// one process only; processes running other shards of the same bot take the bucket's Redis lock first.
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';

/** Discord's identify window, and the margin a lock adds for clocks and the network. */
export const IDENTIFY_WINDOW_MS = 5_000;
const MARGIN_MS = 250;

/** What discord.js's WebSocketManager asks before each IDENTIFY (its IIdentifyThrottler). */
export interface IdentifyThrottle {
  waitForIdentify(shardId: number, signal: AbortSignal): Promise<void>;
}

/**
 * Resolves once this process may identify shard `shardId`: it holds its bucket's lock for the window.
 * With Redis unreachable it waits out one window and goes on (at worst Discord refuses one identify,
 * and discord.js identifies again).
 */
export function redisIdentifyThrottle(opts: { redis: Redis; key: (bucket: number) => string; maxConcurrency: number; log: Logger; windowMs?: number }): IdentifyThrottle {
  const windowMs = opts.windowMs ?? IDENTIFY_WINDOW_MS;
  const buckets = Math.max(1, opts.maxConcurrency);
  return {
    async waitForIdentify(shardId, signal) {
      const key = opts.key(shardId % buckets);
      for (;;) {
        signal.throwIfAborted();
        let waitMs: number;
        try {
          if ((await opts.redis.set(key, `${process.pid}:${shardId}`, 'PX', windowMs + MARGIN_MS, 'NX')) === 'OK') return;
          waitMs = Math.max(50, await opts.redis.pttl(key));
        } catch (err) {
          opts.log.warn({ err, shardId }, 'identify lock unreachable in Redis; waiting one identify window and identifying anyway');
          await sleep(windowMs, signal);
          return;
        }
        await sleep(waitMs, signal);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}
