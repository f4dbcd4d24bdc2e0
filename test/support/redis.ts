// A Redis key prefix per test, and cleanup of everything under it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './env.js';

export function testPrefix(): string {
  return `tacit-test-${randomBytes(5).toString('hex')}`;
}

export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
