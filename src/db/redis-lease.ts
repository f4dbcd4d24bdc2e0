// A lease: one holder at a time, across processes (an approval's execution, a card being posted or
// edited). A Redis key with a random token and an expiry, renewed while the work runs; only its holder
// renews or releases it, so a holder that died (or stalled past the expiry) cannot release someone
// else's lease, and a dead holder's lease frees within one expiry.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

export interface Lease {
  release(): Promise<void>;
}

/** Takes the lease on `key` for `ttlMs` (renewed every third of it), or null when someone holds it. */
export async function takeLease(redis: Redis, key: string, ttlMs: number, log: Logger): Promise<Lease | null> {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
  const renew = setInterval(() => {
    redis.eval(RENEW, 1, key, token, ttlMs).catch((err: unknown) => log.warn({ err, key }, 'could not renew a lease'));
  }, ttlMs / 3);
  return {
    async release() {
      clearInterval(renew);
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
