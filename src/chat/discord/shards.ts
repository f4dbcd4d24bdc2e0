// Which guilds this process's gateway connections carry. Discord sends each guild's events to one
// shard only, `(guild_id >> 22) % shard_count`, and DMs to shard 0
// (https://discord.com/developers/docs/events/gateway#sharding): so what a process does per guild
// (backfill) is done for its own guilds only, and what is done once per bot (registering `/tacit`)
// by the process that runs shard 0.

/** The shards one process connects, out of `count` over every process. Unset: one process, one shard. */
export interface ShardSet {
  ids: readonly number[];
  count: number;
}

/** Discord's formula: the shard a guild's events arrive on. */
export function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/** Whether this process's connections carry the guild (always, unsharded). */
export function ownsGuild(shards: ShardSet | undefined, guildId: string): boolean {
  return !shards || shards.ids.includes(shardOf(guildId, shards.count));
}

/** Whether this process runs shard `id` (unsharded, it runs shard 0 of 1). */
export function runsShard(shards: ShardSet | undefined, id: number): boolean {
  return shards ? shards.ids.includes(id) : id === 0;
}

/** Gateway close codes that no reconnect can fix, as a sentence saying what to change; null for the others. */
export function shardingRefusal(code: number, shards: ShardSet | undefined): string | null {
  const configured = shards ? `DISCORD_SHARD_IDS=${shards.ids.join(',')} DISCORD_SHARD_COUNT=${shards.count}` : 'no sharding';
  // 4010 Invalid shard, 4011 Sharding required (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-close-event-codes).
  if (code === 4010) return `Discord refused the shard (${configured}): every id must be below DISCORD_SHARD_COUNT`;
  if (code === 4011) return `Discord requires sharding for this many guilds (${configured}): raise DISCORD_SHARD_COUNT and split DISCORD_SHARD_IDS over processes`;
  return null;
}
