// A whole Tacit on Discord, through the real discord.js client and a local Discord: the guild becomes a
// workspace and `/tacit` is registered; a mention is answered in a thread started from it; an alert
// becomes a card with its summary in the card's thread, acknowledged by a click and edited on resolve;
// a summary over 2,000 characters arrives whole; a dropped gateway resumes (or re-identifies and
// backfills) without posting anything twice.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatRateLimitedError } from '../../../src/chat/errors.js';
import { buttonsOf, DEFAULT_GUILD, startFakeDiscord, visibleText, type FakeDiscord, type Post } from '../../fakes/discord.js';
import { fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const GUILD = DEFAULT_GUILD.id;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';
const BOB = DEFAULT_GUILD.members[1]?.id ?? '';
const WORKSPACE = `discord:${GUILD}`;

describe('Tacit on Discord, through discord.js and a local Discord', () => {
  let discord: FakeDiscord;
  let tacit: TestTacit;
  let pool: pg.Pool;
  const repliesTo = (messageId: string): Post[] => discord.posts.filter((p) => p.message.channel_id === messageId);

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
    tacit = await startTestTacit({
      env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off' },
    });
    pool = new pg.Pool({ connectionString: tacit.testDatabase.url });
  });
  afterAll(async () => {
    await pool?.end();
    await tacit?.cleanup();
    await discord?.close();
  });

  it('makes the guild a workspace and registers /tacit with every subcommand of the design', async () => {
    const { rows } = await pool.query(`select platform, name from workspaces where id = $1`, [WORKSPACE]);
    expect(rows[0]).toEqual({ platform: 'discord', name: DEFAULT_GUILD.name });
    const command = (discord.commands as { name: string; options: { name: string }[] }[]).find((c) => c.name === 'tacit');
    expect(command?.options.map((o) => o.name)).toEqual(expect.arrayContaining(['status', 'pause', 'resume', 'connect', 'quiet-hours', 'budget', 'memory', 'forget', 'digest']));
    expect(discord.lastIdentify?.intents).toBe((1 << 0) | (1 << 9) | (1 << 12) | (1 << 15));
  });

  it('answers a mention in a thread started from it, pinging nobody', async () => {
    const said = discord.say(CHANNEL, ALICE, `<@${discord.botUser.id}> status?`);
    const reply = await waitFor(() => repliesTo(said.id)[0], { what: 'a reply in the thread' });
    expect(discord.threads.find((t) => t.id === said.id)?.parent_id).toBe(CHANNEL);
    expect(reply.message.content).toMatch(/open incident|All quiet/);
    expect(reply.body.allowed_mentions).toEqual({ parse: [], users: [] });
    expect(reply.body.enforce_nonce).toBe(true);
    expect(String(reply.body.nonce)).toMatch(/^[0-9a-f]{24}$/);
    expect(repliesTo(said.id)).toHaveLength(1);
  });

  it('connects Alertmanager with /tacit, posts a card with the summary in its thread, takes a click, and edits the card on resolve', async () => {
    discord.command(CHANNEL, ALICE, 'connect', [{ name: 'kind', type: 3, value: 'alertmanager' }]);
    const answer = await waitFor(() => discord.originals.find((o) => String(o.body.content).includes('Connected a alertmanager')), { what: 'the private answer' });
    const deferred = discord.callbacks.find((c) => c.type === 5);
    expect(deferred?.data?.flags).toBe(64);
    const text = String(answer.body.content);
    const url = /URL: (\S+)/.exec(text)?.[1] ?? '';
    const token = /Token: (\S+)/.exec(text)?.[1] ?? '';
    const source = url.split('/').pop() ?? '';
    expect((await postAlert(tacit.url, source, token, fixture('alertmanager/firing.json'))).status).toBe(200);

    const card = await waitFor(() => discord.posts.find((p) => p.message.channel_id === CHANNEL && visibleText(p.body).includes('Firing')), { what: 'the card' });
    // Components V2: one container in the severity's colour, Acknowledge beside the headline, no content.
    expect(card.body.flags).toBe(1 << 15);
    expect(card.body.content).toBeUndefined();
    expect(card.body.components).toEqual([expect.objectContaining({ type: 17, accent_color: expect.any(Number) })]);
    expect(buttonsOf(card.body)).toContainEqual(expect.objectContaining({ custom_id: expect.stringMatching(/^incident\.acknowledge:/), label: 'Acknowledge' }));
    await waitFor(() => repliesTo(card.message.id).find((p) => visibleText(p.message).includes('is firing')), { what: 'the summary in the thread' });
    expect(discord.threads.find((t) => t.id === card.message.id)).toBeDefined();

    // Anyone's click is acknowledged at once (deferred) and answered privately.
    const click = discord.click(CHANNEL, card.message.id, buttonsOf(card.body).find((b) => b.label === 'Acknowledge')?.custom_id ?? '', BOB);
    const ack = await waitFor(() => discord.callbacks.find((c) => c.interactionId === click.id), { what: 'the deferred click' });
    expect(ack.type).toBe(6);
    const privately = await waitFor(() => discord.followups.find((f) => f.token === click.token), { what: 'the private answer to the click' });
    expect(privately.ephemeral).toBe(true);
    expect(String(privately.body.content)).toMatch(/acknowledged/i);
    const acknowledged = await waitFor(() => discord.edits.find((e) => e.messageId === card.message.id && visibleText(e.body).includes('Acknowledged')), { what: 'the card acknowledged' });
    // Edited in place with the same shape: the V2 flag, no content.
    expect(acknowledged.body.flags).toBe(1 << 15);
    expect(acknowledged.body.content).toBeUndefined();

    await postAlert(tacit.url, source, token, fixture('alertmanager/resolved.json'));
    await waitFor(() => discord.edits.find((e) => e.messageId === card.message.id && visibleText(e.body).includes('Resolved')), { what: 'the card edited' });
    expect(discord.posts.filter((p) => p.message.channel_id === CHANNEL && visibleText(p.body).includes('Firing'))).toHaveLength(1);
    expect(discord.history(CHANNEL).find((m) => m.id === card.message.id)?.flags).toBe(1 << 15);
  });

  it('delivers a message longer than 2,000 characters whole, as content plus an attached file', async () => {
    const long = Array.from({ length: 120 }, (_, i) => `line ${i}: ${'detail '.repeat(5)}`).join('\n');
    expect(long.length).toBeGreaterThan(4000);
    await pool.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
       values ('out_discord_long', $1, 'test:discord-long', 'post', $2, '{"type":"channel"}', $3, 'notice', true)`,
      [WORKSPACE, `${WORKSPACE}/${CHANNEL}`, { text: long, blocks: [{ kind: 'section', text: long }] }],
    );
    await tacit.delivery.enqueue(['out_discord_long']);
    const post = await waitFor(() => discord.posts.find((p) => p.message.content.startsWith('line 0:')), { what: 'the long post' });
    expect(post.message.content.length).toBeLessThanOrEqual(2000);
    expect(post.files.map((f) => f.filename)).toEqual(['message.txt']);
    expect(post.files[0]?.content).toBe(long);
  });

  it('finds an earlier post after a crash between Discord accepting it and the outbox recording it', async () => {
    await pool.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
       values ('out_discord_crash', $1, 'test:discord-crash', 'post', $2, '{"type":"channel"}', $3, 'notice', true)`,
      [WORKSPACE, `${WORKSPACE}/${CHANNEL}`, { text: 'a note that must appear once' }],
    );
    discord.crashAfterAccept('POST /channels');
    await expect(tacit.delivery.deliver('out_discord_crash')).rejects.toThrow(/Discord unreachable/);
    // Within minutes the repeat create carries the same nonce (enforce_nonce): Discord answers with the
    // message it already has, which the outbox records.
    await tacit.delivery.deliver('out_discord_crash');
    const notes = discord.history(CHANNEL).filter((m) => m.content.includes('a note that must appear once'));
    expect(notes).toHaveLength(1);
    const { rows } = await pool.query(`select status, sent_message from outbox where id = 'out_discord_crash'`);
    expect(rows[0]).toMatchObject({ status: 'sent', sent_message: { messageId: notes[0]?.id } });

    // A 429 hands the wait to the outbox, which posts once after it.
    await pool.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
       values ('out_discord_429', $1, 'test:discord-429', 'post', $2, '{"type":"channel"}', $3, 'notice', true)`,
      [WORKSPACE, `${WORKSPACE}/${CHANNEL}`, { text: 'after the rate limit' }],
    );
    discord.rateLimit('POST /channels', { times: 1, retryAfterSeconds: 1 });
    await expect(tacit.delivery.deliver('out_discord_429')).rejects.toThrow(ChatRateLimitedError);
    await pool.query(`update outbox set attempts = 0 where id = 'out_discord_429'`);
    await tacit.delivery.enqueue(['out_discord_429']);
    await waitFor(async () => (await pool.query(`select status from outbox where id = 'out_discord_429'`)).rows[0]?.status === 'sent', { what: 'the rate-limited post', timeoutMs: 15_000 });
    expect(discord.history(CHANNEL).filter((m) => m.content.includes('after the rate limit'))).toHaveLength(1);
  });

  it('resumes a dropped gateway, answers what was said meanwhile once, and backfills after a forced re-identify', async () => {
    const before = discord.stats.identifies;
    discord.dropConnection(4000);
    const meanwhile = discord.say(CHANNEL, ALICE, `<@${discord.botUser.id}> anything new?`);
    await waitFor(() => repliesTo(meanwhile.id)[0], { what: 'the reply to the replayed mention', timeoutMs: 20_000 });
    expect(discord.stats.resumes).toBeGreaterThanOrEqual(1);
    expect(discord.stats.identifies).toBe(before);

    // A session Discord will not resume: events sent to it are gone, and the backfill finds them.
    discord.invalidateSession();
    discord.dropConnection('abrupt');
    const lost = discord.say(CHANNEL, BOB, `<@${discord.botUser.id}> are you there?`);
    await waitFor(() => repliesTo(lost.id)[0], { what: 'the reply to the backfilled mention', timeoutMs: 25_000 });
    expect(discord.stats.identifies).toBe(before + 1);

    // Nothing was answered twice, however the events arrived.
    const mentions = discord.history(CHANNEL).filter((m) => m.author.id !== discord.botUser.id && m.content.includes(`<@${discord.botUser.id}>`));
    for (const m of mentions) expect(repliesTo(m.id)).toHaveLength(1);
    const { rows } = await pool.query(`select count(*)::int as n from events where workspace_id = $1 and dedupe_key = $2`, [WORKSPACE, `chat:${WORKSPACE}/${CHANNEL}:${lost.id}`]);
    expect(rows[0]?.n).toBe(1);
  });
});
