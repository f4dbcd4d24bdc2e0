// Discord's sharding rules as the local Discord applies them: the guild-to-shard formula, DMs on
// shard 0, and what an IDENTIFY's `shard` may ask for (4010 Invalid shard, 4011 Sharding required).
import { describe, expect, it } from 'vitest';
import { carries, identifyShard, recommendedShards, shardOfGuild } from './discord-shards.js';

describe('Discord gateway sharding rules', () => {
  it('puts a guild on shard (id >> 22) % count, and DMs on shard 0', () => {
    const id = ((123_456_789n << 22n) | 4095n).toString();
    expect(shardOfGuild(id, 2)).toBe(1);
    expect(shardOfGuild(id, 3)).toBe(0);
    expect(carries([1, 2], id)).toBe(true);
    expect(carries([0, 2], id)).toBe(false);
    expect(carries([0, 2], undefined)).toBe(true);
    expect(carries([1, 2], undefined)).toBe(false);
  });

  it('accepts no shard as [0, 1], and refuses an id not below the count or a malformed field with 4010', () => {
    expect(identifyShard(undefined, [])).toEqual({ shard: [0, 1] });
    expect(identifyShard([1, 2], [])).toEqual({ shard: [1, 2] });
    for (const bad of [[2, 2], [-1, 2], [0, 0], [0.5, 2], ['0', '2'], [0], 'x']) expect(identifyShard(bad, [])).toMatchObject({ close: 4010 });
  });

  it('requires sharding (4011) when one shard would carry more guilds than allowed, and recommends one shard per 1,000', () => {
    const guilds = [0n, 1n, 2n].map((t) => (t << 22n).toString());
    expect(identifyShard([0, 1], guilds, 2)).toMatchObject({ close: 4011 });
    expect(identifyShard([0, 2], guilds, 2)).toEqual({ shard: [0, 2] });
    expect(recommendedShards(0)).toBe(1);
    expect(recommendedShards(2_500)).toBe(3);
  });
});
