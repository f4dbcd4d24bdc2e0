// What a server sees of Tacit's start-up and reach on Discord: `/tacit` registered once (with
// `contexts`, not the deprecated `dm_permission`) and not again on a restart that changed nothing;
// channels known from GUILD_CREATE, so a source can be bound to one before anyone speaks there; and
// questions asked in a DM answered in that DM.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GUILD, snowflake, startFakeDiscord, visibleText, type FakeDiscord } from '../../fakes/discord.js';
import { dropPrefix, testPrefix } from '../../support/redis.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const CHANNEL_OPTION = 7;
const STRING_OPTION = 3;
const BOB = DEFAULT_GUILD.members[1]?.id ?? '';

describe('Tacit joining and restarting on Discord', () => {
  let discord: FakeDiscord;
  let tacit: TestTacit | undefined;
  const prefix = testPrefix();
  const start = () =>
    startTestTacit({
      env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_REDIS_PREFIX: prefix },
    });
  const commandReads = () => discord.requests.filter((r) => r.method === 'GET' && /^\/applications\/\d+\/commands$/.test(r.route)).length;

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await dropPrefix(prefix);
    await discord?.close();
  });

  it('registers /tacit once, for guilds, and not again on a restart that changed nothing', async () => {
    tacit = await start();
    expect(discord.registrations).toHaveLength(1);
    const [registered] = discord.registrations[0] as Record<string, unknown>[];
    expect(registered).toMatchObject({ name: 'tacit', contexts: [0], integration_types: [0], default_member_permissions: null });
    expect(registered).not.toHaveProperty('dm_permission');

    await tacit.cleanup();
    tacit = await start();
    // It looked (one GET per start) and found what it registered last time.
    expect(commandReads()).toBe(2);
    expect(discord.registrations).toHaveLength(1);

    // Someone changed the command elsewhere (its version moved): the next start puts it right.
    await tacit.cleanup();
    (discord.commands[0] as { version: string }).version = snowflake();
    tacit = await start();
    expect(discord.registrations).toHaveLength(2);
  });

  it('knows the channels of a guild it joins at once: a source can be bound to one nobody has spoken in', async () => {
    const running = tacit;
    if (!running) throw new Error('Tacit is not running');
    const owner = snowflake();
    const [alerts, general] = [snowflake(), snowflake()];
    const guild = { id: snowflake(), name: 'sre', channels: [{ id: general, name: 'general' }, { id: alerts, name: 'alerts' }], members: [{ id: owner, name: 'carol' }] };
    discord.addGuild(guild);
    const db = new pg.Client({ connectionString: running.testDatabase.url });
    await db.connect();
    try {
      const known = await waitFor(async () => {
        const { rows } = await db.query('select id, name from channels where workspace_id = $1 order by name', [`discord:${guild.id}`]);
        return rows.length === 2 ? rows : undefined;
      }, { what: 'the guild channels recorded' });
      expect(known).toEqual([
        { id: `discord:${guild.id}/${alerts}`, name: 'alerts' },
        { id: `discord:${guild.id}/${general}`, name: 'general' },
      ]);
      const run = discord.command(general, owner, 'connect', [{ name: 'kind', type: STRING_OPTION, value: 'grafana' }, { name: 'channel', type: CHANNEL_OPTION, value: alerts }]);
      const answer = await waitFor(() => discord.originals.find((o) => o.token === run.token), { what: 'the answer to /tacit connect' });
      expect(String(answer.body.content)).toContain('Connected a grafana source');
      const { rows } = await db.query('select channel_id from sources where workspace_id = $1', [`discord:${guild.id}`]);
      expect(rows).toEqual([{ channel_id: `discord:${guild.id}/${alerts}` }]);
      expect(discord.history(alerts)).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('answers a question asked in a DM in that DM, as it would a mention', async () => {
    const dm = discord.openDm(BOB);
    const asked = discord.say(dm, BOB, 'anything open right now?');
    const reply = await waitFor(() => discord.posts.find((p) => p.message.channel_id === dm), { what: 'the answer in the DM' });
    expect(visibleText(reply.body)).toMatch(/open incident|All quiet|quiet/i);
    expect(reply.body.message_reference).toMatchObject({ message_id: asked.id });
    expect(reply.body.allowed_mentions).toMatchObject({ parse: [] });
    expect(discord.threads.some((t) => t.id === asked.id)).toBe(false);
    expect(discord.requests.filter((r) => r.status === 404 && r.route.includes(asked.id))).toEqual([]);
  });
});
