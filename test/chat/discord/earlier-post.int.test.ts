// A retry after a crash between Discord accepting a post and the outbox recording it posts nothing
// twice, however busy the channel got: within minutes the repeat create carries the same nonce with
// enforce_nonce and Discord hands back the message it already has; later, the messages since the first
// attempt are searched (after a snowflake of that time, paged), not the last hundred.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatRateLimitedError } from '../../../src/chat/errors.js';
import { DEFAULT_GUILD, startFakeDiscord, type FakeDiscord } from '../../fakes/discord.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const GUILD = DEFAULT_GUILD.id;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const OTHER_CHANNEL = DEFAULT_GUILD.channels[1]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';
const WORKSPACE = `discord:${GUILD}`;

async function startDiscordTacit(discord: FakeDiscord): Promise<{ tacit: TestTacit; pool: pg.Pool }> {
  const tacit = await startTestTacit({
    env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off' },
  });
  const pool = new pg.Pool({ connectionString: tacit.testDatabase.url });
  await waitFor(async () => (await pool.query('select 1 from workspaces where id = $1', [WORKSPACE])).rowCount, { what: 'the guild as a workspace' });
  return { tacit, pool };
}

function insertRow(pool: pg.Pool, id: string, key: string, text: string) {
  return pool.query(
    `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
     values ($1, $2, $3, 'post', $4, '{"type":"channel"}', $5, 'notice', true)`,
    [id, WORKSPACE, key, `${WORKSPACE}/${CHANNEL}`, { text }],
  );
}

const creates = (discord: FakeDiscord, channel = CHANNEL) => discord.requests.filter((r) => r.method === 'POST' && r.route === `/channels/${channel}/messages`).length;
const reads = (discord: FakeDiscord) => discord.requests.filter((r) => r.method === 'GET' && r.route === `/channels/${CHANNEL}/messages`).length;
const chatter = (discord: FakeDiscord, n: number) => {
  for (let i = 0; i < n; i++) discord.say(CHANNEL, ALICE, `chatter ${i}`, { silent: true });
};

describe('the earlier-post lookup on Discord, while Discord remembers the nonce', () => {
  let discord: FakeDiscord;
  let tacit: TestTacit;
  let pool: pg.Pool;

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
    ({ tacit, pool } = await startDiscordTacit(discord));
  });
  afterAll(async () => {
    await pool?.end();
    await tacit?.cleanup();
    await discord?.close();
  });

  it('posts nothing twice after 500 messages: the repeat create with the same nonce returns the earlier message', async () => {
    await insertRow(pool, 'out_nonce', 'test:nonce', 'posted once, whatever happens');
    discord.crashAfterAccept('POST /channels');
    await expect(tacit.delivery.deliver('out_nonce')).rejects.toThrow(/Discord unreachable/);
    chatter(discord, 500);
    const [readsBefore, createsBefore] = [reads(discord), creates(discord)];

    await tacit.delivery.deliver('out_nonce');
    const posted = discord.history(CHANNEL).filter((m) => m.content.includes('posted once, whatever happens'));
    expect(posted).toHaveLength(1);
    const { rows } = await pool.query(`select status, sent_message from outbox where id = 'out_nonce'`);
    expect(rows[0]).toMatchObject({ status: 'sent', sent_message: { messageId: posted[0]?.id } });
    // Exact: one create, answered from the nonce; no scan of the channel.
    expect(creates(discord) - createsBefore).toBe(1);
    expect(reads(discord)).toBe(readsBefore);
  });

  it('keeps equal outbox keys of two channels apart: nonces are per author, and Tacit is one author everywhere', async () => {
    const adapter = tacit.adapters.discord;
    if (!adapter) throw new Error('no Discord adapter');
    const here = await adapter.post({ channelId: `${WORKSPACE}/${CHANNEL}`, idempotencyKey: 'digest:2026-12-01', message: { text: 'digest here' } });
    const there = await adapter.post({ channelId: `${WORKSPACE}/${OTHER_CHANNEL}`, idempotencyKey: 'digest:2026-12-01', message: { text: 'digest there' } });
    expect(there.messageId).not.toBe(here.messageId);
    expect(discord.history(OTHER_CHANNEL).map((m) => m.content)).toEqual([expect.stringContaining('digest there')]);
  });
});

describe('the earlier-post lookup on Discord, after Discord forgot the nonce', () => {
  let discord: FakeDiscord;
  let tacit: TestTacit;
  let pool: pg.Pool;

  beforeAll(async () => {
    // A Discord that forgets nonces at once: only the scan can keep the retry from posting again.
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000, nonceWindowMs: 0 });
    ({ tacit, pool } = await startDiscordTacit(discord));
  });
  afterAll(async () => {
    await pool?.end();
    await tacit?.cleanup();
    await discord?.close();
  });

  it('posts nothing twice when the channel got 500 messages since the first attempt', async () => {
    await insertRow(pool, 'out_scan', 'test:scan', 'found by the scan');
    discord.crashAfterAccept('POST /channels');
    await expect(tacit.delivery.deliver('out_scan')).rejects.toThrow(/Discord unreachable/);
    // The retry comes minutes later (past the nonce window), after 500 other messages.
    await pool.query(`update outbox set first_attempt_at = first_attempt_at - interval '3 minutes' where id = 'out_scan'`);
    chatter(discord, 500);
    const [readsBefore, createsBefore] = [reads(discord), creates(discord)];

    expect(await tacit.delivery.deliver('out_scan')).toBe('already-sent');
    expect(discord.history(CHANNEL).filter((m) => m.content.includes('found by the scan'))).toHaveLength(1);
    expect(creates(discord)).toBe(createsBefore);
    // Oldest first from the first attempt: the post is on the first page of 100.
    expect(reads(discord) - readsBefore).toBeGreaterThanOrEqual(1);
  });

  it('pages through every message since the first attempt before concluding nothing was posted', async () => {
    await insertRow(pool, 'out_never', 'test:never', 'never reached Discord');
    // An earlier attempt began minutes ago and failed before Discord took anything.
    await pool.query(`update outbox set first_attempt_at = now() - interval '3 minutes', attempts = 1 where id = 'out_never'`);
    const readsBefore = reads(discord);
    expect(await tacit.delivery.deliver('out_never')).toBe('sent');
    // 500 chatter messages, the earlier post and the notes above: at least six pages of 100.
    expect(reads(discord) - readsBefore).toBeGreaterThanOrEqual(6);
    expect(discord.history(CHANNEL).filter((m) => m.content.includes('never reached Discord'))).toHaveLength(1);
  });

  it('hands a rate limit met during the lookup back to the outbox as a wait', async () => {
    const adapter = tacit.adapters.discord;
    if (!adapter) throw new Error('no Discord adapter');
    discord.rateLimit(`GET /channels/${CHANNEL}/messages`, { times: 1, retryAfterSeconds: 1 });
    const query = { channelId: `${WORKSPACE}/${CHANNEL}`, idempotencyKey: 'test:limited', since: new Date(Date.now() - 3 * 60_000) };
    await expect(adapter.findPosted(query)).rejects.toThrow(ChatRateLimitedError);
  });
});
