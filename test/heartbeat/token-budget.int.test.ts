// The daily token budget in Redis: a reservation is refused when it would pass the limit, settles to
// what the call used, and counts per workspace and UTC day.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTokenBudget } from '../../src/heartbeat/token-budget.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';

describe('RedisTokenBudget', () => {
  let redis: Redis;
  const prefix = testPrefix();
  const now = new Date('2026-12-01T23:59:59Z');
  beforeAll(() => {
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('holds a reservation, refuses one that would pass the limit, and settles to the tokens used', async () => {
    const budget = new RedisTokenBudget(redis, prefix, 1_000);
    const held = await budget.reserve('ws_a', 800, now);
    expect(held).toEqual({ workspaceId: 'ws_a', day: '2026-12-01', tokens: 800 });
    expect(await budget.reserve('ws_a', 201, now)).toBeNull();
    expect(await budget.remaining('ws_a', now)).toBe(200);
    if (!held) return;
    await budget.settle(held, 300);
    expect(await budget.remaining('ws_a', now)).toBe(700);
    expect(await budget.reserve('ws_a', 700, now)).not.toBeNull();
    expect(await budget.remaining('ws_b', now)).toBe(1_000);
  });

  it('settles on the day it reserved, even after midnight, and never below zero', async () => {
    const budget = new RedisTokenBudget(redis, prefix, 1_000);
    const held = await budget.reserve('ws_c', 500, now);
    if (!held) throw new Error('expected a reservation');
    await budget.settle(held, 0);
    expect(await budget.remaining('ws_c', now)).toBe(1_000);
    expect(await budget.remaining('ws_c', new Date('2026-12-02T00:00:01Z'))).toBe(1_000);
  });

  it('lets exactly as many of 50 concurrent reservations through as fit', async () => {
    const budget = new RedisTokenBudget(redis, prefix, 1_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => budget.reserve('ws_d', 70, now)));
    expect(results.filter(Boolean)).toHaveLength(14);
    expect(await budget.remaining('ws_d', now)).toBe(20);
  });
});
