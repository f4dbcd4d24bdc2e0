// Which guilds a process's shards carry, and what a refused shard tells the operator to change.
import { describe, expect, it } from 'vitest';
import { ownsGuild, runsShard, shardingRefusal, shardOf } from '../../../src/chat/discord/shards.js';

const onShard = (t: bigint) => ((t << 22n) | 17n).toString();

describe('Discord shards of a process', () => {
  it('owns a guild whose (id >> 22) % count is one of its shards, and every guild unsharded', () => {
    expect(shardOf(onShard(7n), 4)).toBe(3);
    expect(ownsGuild({ ids: [1, 3], count: 4 }, onShard(7n))).toBe(true);
    expect(ownsGuild({ ids: [0, 2], count: 4 }, onShard(7n))).toBe(false);
    expect(ownsGuild(undefined, onShard(7n))).toBe(true);
  });

  it('runs shard 0 unsharded, and only when listed otherwise', () => {
    expect(runsShard(undefined, 0)).toBe(true);
    expect(runsShard({ ids: [1], count: 2 }, 0)).toBe(false);
    expect(runsShard({ ids: [0, 1], count: 2 }, 0)).toBe(true);
  });

  it('explains 4010 and 4011 with the configuration to change, and nothing for other close codes', () => {
    expect(shardingRefusal(4010, { ids: [2], count: 2 })).toMatch(/DISCORD_SHARD_IDS=2 DISCORD_SHARD_COUNT=2.*below DISCORD_SHARD_COUNT/);
    expect(shardingRefusal(4011, undefined)).toMatch(/no sharding.*raise DISCORD_SHARD_COUNT/);
    expect(shardingRefusal(4000, undefined)).toBeNull();
  });
});
