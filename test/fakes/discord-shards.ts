// Gateway sharding as Discord does it, for the local Discord: IDENTIFY's `shard: [id, count]` is
// checked (4010 Invalid shard, 4011 Sharding required), and each guild's events go to the shard
// `(guild_id >> 22) % count`, DMs to shard 0
// (https://discord.com/developers/docs/events/gateway#sharding).

/** Discord refuses a session with more guilds than this on one shard (4011). */
export const MAX_GUILDS_PER_SHARD = 2_500;
/** Discord recommends (GET /gateway/bot `shards`) one shard per this many guilds. */
export const GUILDS_PER_RECOMMENDED_SHARD = 1_000;

export type Shard = readonly [id: number, count: number];

export function shardOfGuild(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/** Whether a session on `shard` receives an event of `guildId` (undefined or empty: a DM, shard 0). */
export function carries(shard: Shard, guildId: string | undefined): boolean {
  return guildId ? shardOfGuild(guildId, shard[1]) === shard[0] : shard[0] === 0;
}

/** The `shards` GET /gateway/bot answers. */
export function recommendedShards(guildCount: number): number {
  return Math.max(1, Math.ceil(guildCount / GUILDS_PER_RECOMMENDED_SHARD));
}

/**
 * The shard an IDENTIFY asks for, or the close Discord answers it with. No `shard` field is shard
 * [0, 1]; a malformed one, or an id not below the count, is 4010; too many guilds on it is 4011.
 */
export function identifyShard(
  field: unknown, guildIds: readonly string[], maxGuildsPerShard = MAX_GUILDS_PER_SHARD,
): { shard: Shard } | { close: 4010 | 4011; reason: string } {
  const shard: unknown[] = field === undefined || field === null ? [0, 1] : Array.isArray(field) ? field : [];
  const [id, count] = shard;
  if (shard.length !== 2 || !Number.isInteger(id) || !Number.isInteger(count) || Number(count) < 1 || Number(id) < 0 || Number(id) >= Number(count)) {
    return { close: 4010, reason: 'Invalid shard.' };
  }
  const valid: Shard = [Number(id), Number(count)];
  if (guildIds.filter((g) => carries(valid, g)).length > maxGuildsPerShard) return { close: 4011, reason: 'Sharding required.' };
  return { shard: valid };
}
