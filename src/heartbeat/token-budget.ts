// The daily token budget per workspace, counted in Redis (shared by every process), per UTC day. A
// model call reserves its largest possible cost before it is made and settles to its real cost after:
// the check and the hold are one Lua script, so concurrent workers can never spend past the limit.
import type { Redis } from 'ioredis';
import type { TokenBudget, TokenReservation } from '../brain/port.js';

// KEYS[1] the day's counter; ARGV: limit, tokens, ttl (s). Holds the tokens only when they fit.
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[2]) > tonumber(ARGV[1]) then return -1 end
local now = redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return now
`;

// KEYS[1] the day's counter; ARGV: the change (used - reserved), ttl (s). Never below zero.
const SETTLE = `
local now = redis.call('INCRBY', KEYS[1], ARGV[1])
if now < 0 then redis.call('SET', KEYS[1], 0) now = 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return now
`;

const KEEP_S = 2 * 86_400;

interface BudgetCommands {
  tacitTokenReserve(key: string, limit: string, tokens: string, ttl: string): Promise<number>;
  tacitTokenSettle(key: string, delta: string, ttl: string): Promise<number>;
}

export class RedisTokenBudget implements TokenBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly dailyLimit: number,
  ) {
    redis.defineCommand('tacitTokenReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('tacitTokenSettle', { numberOfKeys: 1, lua: SETTLE });
  }

  private key(workspaceId: string, day: string): string {
    return `${this.prefix}:tokens:${workspaceId}:${day}`;
  }

  private get commands(): BudgetCommands {
    return this.redis as unknown as BudgetCommands;
  }

  async remaining(workspaceId: string, now: Date): Promise<number> {
    return this.dailyLimit - Number((await this.redis.get(this.key(workspaceId, dayOf(now)))) ?? 0);
  }

  async reserve(workspaceId: string, tokens: number, now: Date): Promise<TokenReservation | null> {
    const day = dayOf(now);
    const held = Math.max(0, Math.ceil(tokens));
    const result = await this.commands.tacitTokenReserve(this.key(workspaceId, day), String(this.dailyLimit), String(held), String(KEEP_S));
    return Number(result) < 0 ? null : { workspaceId, day, tokens: held };
  }

  async settle(reservation: TokenReservation, usedTokens: number): Promise<void> {
    const delta = Math.ceil(usedTokens) - reservation.tokens;
    if (delta === 0) return;
    await this.commands.tacitTokenSettle(this.key(reservation.workspaceId, reservation.day), String(delta), String(KEEP_S));
  }
}

const dayOf = (now: Date): string => now.toISOString().slice(0, 10);
