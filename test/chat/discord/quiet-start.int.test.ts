// Start-up reads only what a gap needs: Discord's GUILD_CREATE names each channel's newest message, so
// a restart with 20 known channels whose cursors are already there makes no history call at all, and
// a channel with something new since its cursor is the only one read.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../src/chat/discord/adapter.js';
import type { InboundHandlers, InboundMessage } from '../../../src/chat/port.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { channels, workspaces } from '../../../src/db/schema.js';
import { createLogger } from '../../../src/log.js';
import { snowflake, startFakeDiscord, type FakeDiscord, type FakeGuild } from '../../fakes/discord.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { redisUrl } from '../../support/env.js';
import { dropPrefix, testPrefix } from '../../support/redis.js';

const PERSON = snowflake();
const GUILD: FakeGuild = {
  id: snowflake(), name: 'twenty',
  channels: Array.from({ length: 20 }, (_, i) => ({ id: snowflake(), name: `c${i}` })),
  members: [{ id: PERSON, name: 'erin' }],
};
const WS = `discord:${GUILD.id}`;

describe('a Discord restart without a gap', () => {
  let discord: FakeDiscord;
  let testDb: TestDatabase;
  let database: Database;
  let redis: Redis;
  let adapter: DiscordAdapter | undefined;
  const prefix = testPrefix();
  const fed: InboundMessage[] = [];
  const handlers: InboundHandlers = {
    message: async (m) => void fed.push(m),
    messageChanged: async () => undefined,
    interaction: async () => ({}),
    command: async () => ({}),
    workspaceAdded: async () => undefined,
    workspaceRemoved: async () => undefined,
  };
  const historyReads = () => discord.requests.filter((r) => r.method === 'GET' && /^\/channels\/\d+\/messages$/.test(r.route));
  const start = async () => {
    adapter = new DiscordAdapter({ token: discord.token, apiUrl: discord.apiUrl, redis, prefix, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), db: database.db });
    await adapter.start(handlers);
  };

  beforeAll(async () => {
    discord = await startFakeDiscord({ guilds: [GUILD], heartbeatIntervalMs: 1_000 });
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl);
    await database.db.insert(workspaces).values({ id: WS, platform: 'discord', name: GUILD.name });
    // Every channel stored up to its newest message before the restart.
    for (const c of GUILD.channels) {
      const last = discord.say(c.id, PERSON, `last words in ${c.name}`, { silent: true });
      await database.db.insert(channels).values({ id: `${WS}/${c.id}`, workspaceId: WS, name: c.name, historyCursor: last.id });
    }
  });
  afterAll(async () => {
    await adapter?.stop();
    await dropPrefix(prefix);
    redis?.disconnect();
    await database?.close();
    await testDb?.drop();
    await discord?.close();
  });

  it('makes no history call for 20 channels already read, and reads only the one with something new', async () => {
    await start();
    expect(historyReads()).toEqual([]);
    expect(fed).toEqual([]);
    await adapter?.stop();

    const busy = GUILD.channels[7]?.id ?? '';
    const missed = discord.say(busy, PERSON, 'said while Tacit was down', { silent: true });
    await start();
    expect(historyReads().map((r) => r.route)).toEqual([`/channels/${busy}/messages`]);
    expect(fed.map((m) => m.messageId)).toEqual([missed.id]);
  });
});
