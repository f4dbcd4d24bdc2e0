// Discord sharding across Tacit processes: two Tacits on one database and Redis, each connecting one
// of two shards of the local Discord, see only the guilds of their shard; a mention in every guild is
// answered once and an alert of every guild's workspace makes one card; `/tacit` is registered by the
// process with shard 0 only, and a restarted process reads back only its own guilds' history. A shard
// Discord refuses (4010, 4011) stops start-up with what to change.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../src/chat/discord/adapter.js';
import { ChatRejectedError } from '../../../src/chat/errors.js';
import type { InboundHandlers } from '../../../src/chat/port.js';
import { createLogger } from '../../../src/log.js';
import { shardOfGuild } from '../../fakes/discord-shards.js';
import { snowflake, startFakeDiscord, visibleText, type FakeDiscord, type FakeGuild, type Post } from '../../fakes/discord.js';
import { redisUrl } from '../../support/env.js';
import { fixture, postAlert } from '../../support/playground.js';
import { dropPrefix, testPrefix } from '../../support/redis.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const STRING = 3;
const HEARTBEAT_MS = 500;

/** Guilds whose ids fall on shard 0 and shard 1 of 2, alternately (Discord's `(id >> 22) % 2`). */
function guildsOnTwoShards(count: number): FakeGuild[] {
  const ms = BigInt(snowflake()) >> 22n;
  return Array.from({ length: count }, (_, i) => {
    const id = ((ms - BigInt(1_000 + i)) << 22n).toString();
    return { id, name: `team-${i}`, channels: [{ id: snowflake(), name: 'incidents' }], members: [{ id: snowflake(), name: `owner-${i}` }] };
  });
}
const channelOf = (g: FakeGuild) => g.channels[0]?.id ?? '';
const ownerOf = (g: FakeGuild) => g.members[0]?.id ?? '';
const settle = () => new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));

describe('Discord sharded over two Tacit processes', () => {
  const guilds = guildsOnTwoShards(4);
  let discord: FakeDiscord;
  let first: TestTacit;
  let second: TestTacit | undefined;
  let pool: pg.Pool;
  const env = (shard: number, shared?: TestTacit): Record<string, string> => ({
    DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off',
    DISCORD_SHARD_IDS: String(shard), DISCORD_SHARD_COUNT: '2',
    ...(shared ? { DATABASE_URL: shared.testDatabase.url, TACIT_REDIS_PREFIX: shared.prefix } : {}),
  });
  const guildsSeenBy = (t: TestTacit | undefined) => {
    const adapter = t?.adapters.discord;
    return adapter instanceof DiscordAdapter ? [...adapter.client.guilds.cache.keys()].sort() : [];
  };
  const onShard = (shard: number) => guilds.filter((g) => shardOfGuild(g.id, 2) === shard);

  beforeAll(async () => {
    discord = await startFakeDiscord({ guilds, heartbeatIntervalMs: 1_000 });
    first = await startTestTacit({ env: env(0) });
    second = await startTestTacit({ env: env(1, first) });
    pool = new pg.Pool({ connectionString: first.testDatabase.url });
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await second?.cleanup();
    await first?.cleanup();
    await discord?.close();
  });

  it('connects each process to its shard only, and each sees only the guilds of that shard', async () => {
    expect(onShard(0)).toHaveLength(2);
    expect(onShard(1)).toHaveLength(2);
    expect(discord.shards().map((s) => s.shard).sort()).toEqual([[0, 2], [1, 2]]);
    // One max_concurrency bucket for both (max_concurrency 1): the second process waited for the first's
    // window through Redis instead of being refused by Discord.
    expect(discord.stats.identifiesRefused).toBe(0);
    expect(guildsSeenBy(first)).toEqual(onShard(0).map((g) => g.id).sort());
    expect(guildsSeenBy(second)).toEqual(onShard(1).map((g) => g.id).sort());
    // Every guild is a workspace, each added by the process that carries it.
    const { rows } = await pool.query<{ id: string }>(`select id from workspaces where platform = 'discord' order by id`);
    expect(rows.map((r) => r.id)).toEqual(guilds.map((g) => `discord:${g.id}`).sort());
    // `/tacit` is global: looked up and registered once, by the process with shard 0.
    expect(discord.registrations).toHaveLength(1);
    expect(discord.requests.filter((r) => r.method === 'GET' && /^\/applications\/\d+\/commands$/.test(r.route))).toHaveLength(1);
  });

  it('answers a mention in every guild exactly once', async () => {
    const said = guilds.map((g) => discord.say(channelOf(g), ownerOf(g), `<@${discord.botUser.id}> status?`));
    const repliesTo = (id: string): Post[] => discord.posts.filter((p) => p.message.channel_id === id);
    await waitFor(() => said.every((m) => repliesTo(m.id).length > 0), { what: 'a reply to every mention', timeoutMs: 20_000 });
    await settle();
    expect(said.map((m) => repliesTo(m.id).length)).toEqual([1, 1, 1, 1]);
  });

  it('answers once a DM, which Discord sends to shard 0 only, from someone who shares only a guild of shard 1', async () => {
    const [guild] = onShard(1);
    if (!guild) throw new Error('no guild on shard 1');
    const dm = discord.openDm(ownerOf(guild));
    const asked = discord.say(dm, ownerOf(guild), 'anything open right now?');
    await waitFor(() => discord.posts.find((p) => p.message.channel_id === dm), { what: 'the answer in the DM', timeoutMs: 20_000 });
    await settle();
    expect(discord.posts.filter((p) => p.message.channel_id === dm)).toHaveLength(1);
    // Asked in the workspace of the guild they share, though the process that took it does not carry that guild.
    const { rows } = await pool.query<{ workspace_id: string }>(`select workspace_id from events where payload::text like $1`, [`%${asked.id}%`]);
    expect(rows.map((r) => r.workspace_id)).toEqual([`discord:${guild.id}`]);
  });

  it('posts one card for an alert of every guild’s workspace, whichever process takes the webhook', async () => {
    const tacits = [first, second];
    const cards = await Promise.all(guilds.map(async (g, i) => {
      const run = discord.command(channelOf(g), ownerOf(g), 'connect', [{ name: 'kind', type: STRING, value: 'alertmanager' }]);
      const answer = await waitFor(() => discord.originals.find((o) => o.token === run.token), { what: `the answer to /tacit connect in ${g.name}` });
      const text = String(answer.body.content ?? '');
      const source = /URL: (\S+)/.exec(text)?.[1]?.split('/').pop() ?? '';
      const token = /Token: (\S+)/.exec(text)?.[1] ?? '';
      const via = tacits[i % 2] ?? first;
      expect((await postAlert(via.url, source, token, fixture('alertmanager/firing.json'))).status).toBe(200);
      return waitFor(() => discord.posts.find((p) => p.message.channel_id === channelOf(g) && visibleText(p.body).includes('Firing')), { what: `the card in ${g.name}`, timeoutMs: 25_000 });
    }));
    await Promise.all(cards.map((card) => waitFor(() => discord.posts.find((p) => p.message.channel_id === card.message.id), { what: 'the summary in the card’s thread', timeoutMs: 20_000 })));
    await settle();
    const cardsIn = (g: FakeGuild) => discord.posts.filter((p) => p.message.channel_id === channelOf(g) && visibleText(p.body).includes('Firing'));
    expect(guilds.map((g) => cardsIn(g).length)).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it('after a restart, reads back the history of its own guilds only', async () => {
    const down = second;
    if (!down) throw new Error('the second process is not running');
    await down.cleanup(); // its own (unused) database and prefix; the shared ones stay
    second = undefined;
    // While it is down, someone writes in one of its guilds: no gateway carries it.
    const [missedIn] = onShard(1);
    if (!missedIn) throw new Error('no guild on shard 1');
    const missed = discord.say(channelOf(missedIn), ownerOf(missedIn), 'the deploy is stuck');
    const before = discord.requests.length;
    second = await startTestTacit({ env: env(1, first) });
    await waitFor(async () => {
      const { rows } = await pool.query(`select 1 from events where payload::text like $1`, [`%${missed.id}%`]);
      return rows.length > 0;
    }, { what: 'the missed message read back and stored' });
    // GET /channels/:id and /channels/:id/messages: what a backfill asks of a channel.
    const reads = discord.requests.slice(before).filter((r) => r.method === 'GET' && r.route.startsWith('/channels/'));
    const historyReads = reads.filter((r) => r.route.endsWith('/messages')).map((r) => r.route.split('/')[2]);
    expect(historyReads).toContain(channelOf(missedIn));
    const asked = new Set(reads.map((r) => r.route.split('/')[2]));
    for (const g of onShard(0)) expect(asked.has(channelOf(g))).toBe(false);
    expect(guildsSeenBy(second)).toEqual(onShard(1).map((g) => g.id).sort());
  }, 60_000);
});

describe('Discord sharded within one process, on the embedded database', () => {
  it('connects every shard with DISCORD_SHARD_COUNT alone, and answers in every guild once', async () => {
    const guilds = guildsOnTwoShards(2);
    const discord = await startFakeDiscord({ guilds, heartbeatIntervalMs: 1_000, maxConcurrency: 2 });
    const tacit = await startTestTacit({
      embedded: true,
      env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off', DISCORD_SHARD_COUNT: '2' },
    });
    try {
      expect(discord.shards().map((s) => s.shard).sort()).toEqual([[0, 2], [1, 2]]);
      const adapter = tacit.adapters.discord;
      expect(adapter instanceof DiscordAdapter ? adapter.client.guilds.cache.size : 0).toBe(2);
      const said = guilds.map((g) => discord.say(channelOf(g), ownerOf(g), `<@${discord.botUser.id}> status?`));
      const repliesTo = (id: string) => discord.posts.filter((p) => p.message.channel_id === id);
      await waitFor(() => said.every((m) => repliesTo(m.id).length > 0), { what: 'a reply in both guilds', timeoutMs: 20_000 });
      await settle();
      expect(said.map((m) => repliesTo(m.id).length)).toEqual([1, 1]);
    } finally {
      await tacit.cleanup();
      await discord.close();
    }
  }, 60_000);
});

describe('Discord refusing a shard', () => {
  const prefix = testPrefix();
  let redis: Redis;
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const handlers: InboundHandlers = {
    message: async () => undefined, messageChanged: async () => undefined, interaction: async () => ({}), command: async () => ({}),
    workspaceAdded: async () => undefined, workspaceRemoved: async () => undefined,
  };

  beforeAll(() => {
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    redis?.disconnect();
  });

  it('stops start-up on an invalid shard (4010) and when sharding is required (4011), saying what to change', async () => {
    const discord = await startFakeDiscord({ guilds: guildsOnTwoShards(3), maxGuildsPerShard: 2, maxConcurrency: 2 });
    try {
      const start = (shards?: { ids: number[]; count: number }) => new DiscordAdapter({ token: discord.token, apiUrl: discord.apiUrl, redis, prefix, log, shards, readyTimeoutMs: 10_000 });
      const invalid = start({ ids: [2], count: 2 });
      await expect(invalid.start(handlers)).rejects.toThrow(ChatRejectedError);
      await expect(start({ ids: [2], count: 2 }).start(handlers)).rejects.toThrow(/below DISCORD_SHARD_COUNT/);
      // Three guilds on one shard, two allowed: Discord requires sharding, and GET /gateway/bot recommends it.
      await expect(start().start(handlers)).rejects.toThrow(/requires sharding.*DISCORD_SHARD_COUNT/);
      expect(discord.stats.identifies).toBe(0);
      // Split over two shards, each carries at most two: accepted.
      const sharded = start({ ids: [0, 1], count: 2 });
      await sharded.start(handlers);
      expect([...sharded.client.guilds.cache.keys()]).toHaveLength(3);
      await sharded.stop();
    } finally {
      await discord.close();
    }
  }, 40_000);
});
