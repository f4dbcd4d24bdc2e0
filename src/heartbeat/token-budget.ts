// The daily token budget per workspace, counted in Redis (shared by every process), per UTC day.
import type { Redis } from 'ioredis';
import type { TokenBudget } from '../brain/port.js';

export class RedisTokenBudget implements TokenBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly dailyLimit: number,
  ) {}

  private key(workspaceId: string, now: Date): string {
    return `${this.prefix}:tokens:${workspaceId}:${now.toISOString().slice(0, 10)}`;
  }

  async remaining(workspaceId: string, now: Date): Promise<number> {
    return this.dailyLimit - Number((await this.redis.get(this.key(workspaceId, now))) ?? 0);
  }

  async spend(workspaceId: string, tokens: number, now: Date): Promise<void> {
    const key = this.key(workspaceId, now);
    await this.redis.multi().incrby(key, tokens).expire(key, 2 * 86_400).exec();
  }
}
