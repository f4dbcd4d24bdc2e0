// Builds the Discord adapter from configuration (DISCORD_TOKEN, DISCORD_APPLICATION_ID, DISCORD_API_URL).
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { ChatAdapter } from '../port.js';

export interface DiscordDeps {
  config: Config;
  db: Db;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export function createDiscord(deps: DiscordDeps): { adapter: ChatAdapter } | undefined {
  if (deps.config.discord.token) deps.log.warn('DISCORD_TOKEN is set, but the Discord adapter is not built yet; using the playground only');
  return undefined;
}
