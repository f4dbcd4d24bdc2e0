// Redis connections. Start-up probes once and fails with one clear line; BullMQ requires
// `maxmemory-policy noeviction` (an evicted job key silently loses work), so anything else is refused.
import { Redis } from 'ioredis';

export class RedisStartupError extends Error {
  override readonly name = 'RedisStartupError';
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'REDIS_URL';
  }
}

/** Connects once without retrying and checks the eviction policy. */
export async function probeRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
  } catch (err) {
    throw new RedisStartupError(
      `cannot reach Redis at ${describe(url)} (${(err as Error).message}). Start one with \`docker compose up -d redis\`, fix REDIS_URL, or unset it to let Tacit run a private redis-server.`,
    );
  }
  try {
    const info = await probe.info('memory');
    const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
    if (policy && policy !== 'noeviction') {
      throw new RedisStartupError(
        `Redis at ${describe(url)} has maxmemory-policy ${policy}; BullMQ needs noeviction (run \`redis-cli config set maxmemory-policy noeviction\` or start redis-server with --maxmemory-policy noeviction).`,
      );
    }
  } finally {
    probe.disconnect();
  }
}

/** The long-lived connection: reconnects forever, as BullMQ expects. */
export function connectRedis(url: string, onError: (err: Error) => void): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000) });
  redis.on('error', onError);
  return redis;
}

export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      redis.ping().then((r) => r === 'PONG'),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection of its own for a BullMQ Worker. BullMQ never closes a connection it was handed, so
 * the owner closes this one after the worker.
 */
export function dedicatedConnection(base: Redis): { connection: Redis; close(): Promise<void> } {
  const connection = base.duplicate({ maxRetriesPerRequest: null });
  return {
    connection,
    close: () => connection.quit().then(() => undefined, () => connection.disconnect()),
  };
}
