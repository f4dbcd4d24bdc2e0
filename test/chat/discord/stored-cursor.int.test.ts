// Discord's gateway never redelivers, so the per-channel cursor in Postgres (channels.history_cursor)
// moves only over stored messages: a mention sent while Postgres is down is picked up by the
// recovery backfill once it is back and answered once, and the cursor never passes it before it is
// stored, even though a later message was stored first. An edit or a deletion made while Postgres is
// down (which no backfill can read back) waits in Redis and is applied once it is back.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GUILD, startFakeDiscord, type FakeDiscord } from '../../fakes/discord.js';
import { startPgProxy, type PgProxy } from '../../support/pg-proxy.js';
import { redisUrl } from '../../support/env.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const GUILD = DEFAULT_GUILD.id;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';
const TACIT_CHANNEL = `discord:${GUILD}/${CHANNEL}`;

describe('Discord messages stored behind a gap-aware cursor', () => {
  let discord: FakeDiscord;
  let tacit: TestTacit;
  let proxy: PgProxy;
  let direct: pg.Client;
  const key = (id: string) => `chat:${TACIT_CHANNEL}:${id}`;
  const copies = async (id: string) => Number((await direct.query(`select count(*)::int as n from events where dedupe_key = $1`, [key(id)])).rows[0].n);
  const cursor = async () => (await direct.query(`select history_cursor from channels where id = $1`, [TACIT_CHANNEL])).rows[0]?.history_cursor as string | null | undefined;

  beforeAll(async () => {
    proxy = await startPgProxy();
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
    tacit = await startTestTacit({
      databaseUrl: (url) => proxy.url(url),
      env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off' },
    });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await proxy?.start().catch(() => undefined);
    await tacit?.cleanup();
    await discord?.close();
    await proxy?.close();
  });

  it('moves the channel cursor in Postgres over stored messages', async () => {
    const said = discord.say(CHANNEL, ALICE, 'morning, all');
    await waitFor(async () => (await cursor()) === said.id, { what: 'the cursor at the stored message' });
    expect(await copies(said.id)).toBe(1);
  });

  it('answers a mention sent while Postgres was down once it is back, and never moves the cursor past it unstored', async () => {
    const before = await cursor();
    await proxy.stop();
    const lost = discord.say(CHANNEL, ALICE, `<@${discord.botUser.id}> is the database back?`);
    // The database is gone for Tacit too (readiness fails) before it comes back.
    await waitFor(async () => (await fetch(`${tacit.url}/readyz`)).status === 503, { what: 'Tacit to see the database down' });
    await proxy.start();
    const later = discord.say(CHANNEL, ALICE, 'a message after the outage');

    // Until the mention is stored, the cursor stays before it, however many later messages were stored.
    let sawLaterFirst = false;
    const violations: string[] = [];
    await waitFor(async () => {
      const [current, lostCopies, laterCopies] = [await cursor(), await copies(lost.id), await copies(later.id)];
      if (current && BigInt(current) >= BigInt(lost.id) && lostCopies === 0) violations.push(`cursor ${current} passed the unstored mention ${lost.id}`);
      if (laterCopies === 1 && lostCopies === 0) {
        sawLaterFirst = true;
        if (current !== before) violations.push(`cursor ${current} moved while the mention was missing`);
      }
      return (lostCopies === 1 && current === later.id) || violations.length > 0;
    }, { what: 'the backfill to store the mention and the cursor to reach the newest message', timeoutMs: 20_000, intervalMs: 20 });
    expect(violations).toEqual([]);
    expect(sawLaterFirst).toBe(true);

    const reply = await waitFor(() => discord.posts.find((p) => p.message.channel_id === lost.id), { what: 'the reply in the mention’s thread', timeoutMs: 20_000 });
    expect(reply.message.content).toMatch(/open incident|All quiet/);
    expect(discord.posts.filter((p) => p.message.channel_id === lost.id)).toHaveLength(1);
    expect(await copies(lost.id)).toBe(1);
    expect(await copies(later.id)).toBe(1);
  });

  it('applies an edit and a deletion made while Postgres was down once it is back', async () => {
    const text = async (id: string) => (await direct.query(`select payload->>'text' as text from events where dedupe_key = $1`, [key(id)])).rows[0]?.text as string | undefined;
    const kept = discord.say(CHANNEL, ALICE, 'the deploy is fine');
    const regretted = discord.say(CHANNEL, ALICE, 'the admin password is hunter2');
    await waitFor(async () => (await copies(kept.id)) === 1 && (await copies(regretted.id)) === 1, { what: 'both messages stored' });
    const redis = new Redis(redisUrl);
    try {
      await proxy.stop();
      discord.editByUser(CHANNEL, kept.id, 'the deploy is NOT fine');
      discord.deleteByUser(CHANNEL, regretted.id);
      // Neither can be stored now; both wait, in Redis (a restart would find them too).
      await waitFor(async () => (await redis.hlen(`${tacit.prefix}:discord:pending-changes`)) === 2, { what: 'the edit and the deletion waiting' });
      await proxy.start();
      // A deletion keeps the event (what it led to stays explained) but not what was said.
      await waitFor(async () => (await text(kept.id)) === 'the deploy is NOT fine' && (await text(regretted.id)) === '', { what: 'the edit and the deletion applied', timeoutMs: 20_000 });
      expect(await redis.hlen(`${tacit.prefix}:discord:pending-changes`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
