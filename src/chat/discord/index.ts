// Builds the Discord adapter from configuration (DISCORD_TOKEN, DISCORD_APPLICATION_ID, DISCORD_API_URL,
// DISCORD_SHARD_IDS / DISCORD_SHARD_COUNT). One bot serves every guild it is in; each guild is a workspace.
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { ChatAdapter } from '../port.js';
import { DiscordAdapter } from './adapter.js';

export interface DiscordDeps {
  config: Config;
  db: Db;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export function createDiscord(deps: DiscordDeps): { adapter: ChatAdapter } | undefined {
  const { discord } = deps.config;
  if (!discord.token) return undefined;
  const adapter = new DiscordAdapter({
    token: discord.token, applicationId: discord.applicationId, apiUrl: discord.apiUrl, redis: deps.redis, prefix: deps.prefix, log: deps.log, db: deps.db,
    shards: discord.shards,
  });
  return { adapter };
}
