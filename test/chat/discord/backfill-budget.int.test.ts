// The Discord backfill is budgeted and best effort: after downtime it reads from the channel's cursor
// in Postgres at most its pages per channel, moves the cursor over what it stored, and the next
// backfill (here after a forced re-identify) carries on from there.
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../src/chat/discord/adapter.js';
import type { InboundHandlers, InboundMessage } from '../../../src/chat/port.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { channels, workspaces } from '../../../src/db/schema.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_GUILD, startFakeDiscord, type FakeDiscord } from '../../fakes/discord.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { redisUrl } from '../../support/env.js';
import { dropPrefix, testPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';

const GUILD = DEFAULT_GUILD.id;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';
const WS = `discord:${GUILD}`;
const CH = `${WS}/${CHANNEL}`;

describe('the Discord backfill within its budget', () => {
  let discord: FakeDiscord;
  let testDb: TestDatabase;
  let database: Database;
  let redis: Redis;
  let adapter: DiscordAdapter;
  const prefix = testPrefix();
  const fed: InboundMessage[] = [];
  const cursor = async () => (await database.db.select({ c: channels.historyCursor }).from(channels).where(eq(channels.id, CH)))[0]?.c;

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl);
    const last = discord.say(CHANNEL, ALICE, 'the last message stored before the downtime', { silent: true });
    await database.db.insert(workspaces).values({ id: WS, platform: 'discord', name: DEFAULT_GUILD.name });
    await database.db.insert(channels).values({ id: CH, workspaceId: WS, name: 'general', historyCursor: last.id });
  });
  afterAll(async () => {
    await adapter?.stop();
    await dropPrefix(prefix);
    redis?.disconnect();
    await database?.close();
    await testDb?.drop();
    await discord?.close();
  });

  it('reads at most its pages per channel after downtime, then carries on from the cursor at the next backfill', async () => {
    const missed = Array.from({ length: 150 }, (_, i) => discord.say(CHANNEL, ALICE, `missed ${i}`, { silent: true }));
    adapter = new DiscordAdapter({
      token: discord.token, apiUrl: discord.apiUrl, redis, prefix, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), db: database.db,
      backfillBudget: { pagesPerChannel: 1 },
    });
    const handlers: InboundHandlers = {
      message: async (m) => void fed.push(m),
      messageChanged: async () => undefined,
      interaction: async () => ({}),
      command: async () => ({}),
      workspaceAdded: async () => undefined,
      workspaceRemoved: async () => undefined,
    };
    await adapter.start(handlers);

    // One page of 100, oldest first, and the cursor over exactly those.
    expect(fed.map((m) => m.text)).toEqual(missed.slice(0, 100).map((m) => m.content));
    await waitFor(async () => (await cursor()) === missed[99]?.id, { what: 'the cursor over the first page' });
    expect(discord.requests.filter((r) => r.method === 'GET' && r.route === `/channels/${CHANNEL}/messages`)).toHaveLength(1);

    discord.invalidateSession();
    discord.dropConnection('abrupt');
    await waitFor(async () => (await cursor()) === missed[149]?.id, { what: 'the rest backfilled after the re-identify', timeoutMs: 20_000 });
    expect(fed.map((m) => m.text)).toEqual(missed.map((m) => m.content));
  });
});
