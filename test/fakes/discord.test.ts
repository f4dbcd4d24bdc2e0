// The fake Discord speaks what the real discord.js client expects: it logs in through the gateway
// handshake, sees guilds and messages, resumes a dropped connection with the missed events
// replayed, refuses identifies over the bot's max_concurrency, and the REST side keeps Discord's nonce,
// limit and rate-limit behaviour.
import { Client, Events, GatewayIntentBits, RateLimitError, Routes, type Message } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEFAULT_GUILD, startFakeDiscord, type FakeDiscord } from './discord.js';
import { waitFor } from '../support/wait.js';

const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';

describe('fake Discord, through the real discord.js client', () => {
  let discord: FakeDiscord;
  let client: Client;
  const seen: Message[] = [];

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 500 });
    client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
      rest: { api: discord.apiUrl, retries: 0, rejectOnRateLimit: (d) => d.route.startsWith('/channels') },
    });
    client.on(Events.MessageCreate, (m) => void seen.push(m));
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(discord.token);
    await ready;
  });
  afterAll(async () => {
    await client?.destroy();
    await discord?.close();
  });

  it('completes the handshake: ready with the bot user, the guild and its channels cached', async () => {
    expect(client.user?.id).toBe(discord.botUser.id);
    expect(client.application?.id).toBe(discord.applicationId);
    expect(client.guilds.cache.get(DEFAULT_GUILD.id)?.channels.cache.has(CHANNEL)).toBe(true);
    expect(discord.lastIdentify?.intents).toBe((1 << 0) | (1 << 9) | (1 << 15));
    await waitFor(() => discord.stats.heartbeats > 0, { what: 'a heartbeat' });
  });

  it('delivers a person’s message and returns one message for a repeated nonce', async () => {
    const said = discord.say(CHANNEL, ALICE, 'hello there');
    await waitFor(() => seen.find((m) => m.id === said.id), { what: 'the message event' });
    const channel = await client.channels.fetch(CHANNEL);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const first = await channel.send({ content: 'once', nonce: 'n-1', enforceNonce: true });
    const again = await channel.send({ content: 'once', nonce: 'n-1', enforceNonce: true });
    expect(again.id).toBe(first.id);
    expect(discord.history(CHANNEL).filter((m) => m.content === 'once')).toHaveLength(1);
    await expect(channel.send({ content: 'x'.repeat(2001) })).rejects.toThrow(/2000 or fewer/);
  });

  it('refuses what Discord refuses of Components V2: content or embeds with the flag, over 40 components or 4,000 characters, a section without accessory', async () => {
    const rest = client.rest;
    const route = Routes.channelMessages(CHANNEL);
    const text = (content: string) => ({ type: 10, content });
    const v2 = (components: unknown[], extra: Record<string, unknown> = {}) => rest.post(route, { body: { flags: 1 << 15, components, ...extra } });
    const ok = (await v2([{ type: 17, accent_color: 0xd83c3e, components: [text('### card'), { type: 14, divider: true, spacing: 1 }, { type: 1, components: [{ type: 2, style: 1, label: 'Go', custom_id: 'a:1' }] }] }])) as { id: string };
    await expect(v2([text('x')], { content: 'legacy' })).rejects.toMatchObject({ code: 50035, message: expect.stringContaining('content') });
    await expect(v2([text('x')], { embeds: [{ title: 'e' }] })).rejects.toMatchObject({ code: 50035 });
    await expect(v2(Array.from({ length: 41 }, (_, i) => text(`t${i}`)))).rejects.toMatchObject({ code: 50035, message: expect.stringContaining('40 or fewer') });
    await expect(v2([text('x'.repeat(2000)), text('y'.repeat(2001))])).rejects.toMatchObject({ code: 50035, message: expect.stringContaining('4000') });
    await expect(v2([{ type: 9, components: [text('no button')] }])).rejects.toMatchObject({ code: 50035 });
    // V2 components without the flag are refused too; the flag stays on edits, which take no content.
    await expect(rest.post(route, { body: { components: [{ type: 17, components: [text('x')] }] } })).rejects.toMatchObject({ code: 50035 });
    await expect(rest.patch(Routes.channelMessage(CHANNEL, ok.id), { body: { content: 'now legacy' } })).rejects.toMatchObject({ code: 50035 });
    await rest.patch(Routes.channelMessage(CHANNEL, ok.id), { body: { components: [{ type: 17, components: [text('edited')] }] } });
    expect(discord.history(CHANNEL).find((m) => m.id === ok.id)?.flags).toBe(1 << 15);
  });

  it('serves guild members strictly: an unknown one is 10007 Unknown Member', async () => {
    await expect(client.rest.get(Routes.guildMember(DEFAULT_GUILD.id, '900000000000009999'))).rejects.toMatchObject({ code: 10007 });
    expect(await client.rest.get(Routes.guildMember(DEFAULT_GUILD.id, ALICE))).toMatchObject({ user: { id: ALICE }, nick: null });
  });

  it('answers 429 with retry_after, which discord.js reports as a rate limit', async () => {
    discord.rateLimit('POST /channels', { times: 1, retryAfterSeconds: 2 });
    const channel = await client.channels.fetch(CHANNEL);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const err = await channel.send('limited').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfter).toBeGreaterThanOrEqual(2000);
  });

  it('resumes after the socket drops, replaying what was dispatched meanwhile', async () => {
    const identifies = discord.stats.identifies;
    discord.dropConnection(4000);
    const missed = discord.say(CHANNEL, ALICE, 'while you were away');
    await waitFor(() => seen.find((m) => m.id === missed.id), { what: 'the replayed message', timeoutMs: 15_000 });
    expect(discord.stats.resumes).toBe(1);
    expect(discord.stats.identifies).toBe(identifies);
  });

  it('takes a modal only as the first answer to a click within 3 s, within Discord\'s limits, and lets the member submit it', async () => {
    const card = discord.say(CHANNEL, ALICE, 'a message to click on');
    const callback = (i: { id: string; token: string }, body: unknown) => client.rest.post(Routes.interactionCallback(i.id, i.token), { body, auth: false });
    const modal = (title: string) => ({ type: 9, data: { custom_id: 'form:1', title, components: [{ type: 18, label: 'Why?', component: { type: 4, custom_id: 'reason', style: 2 } }] } });
    const tooLong = discord.click(CHANNEL, card.id, 'x:1', ALICE);
    await expect(callback(tooLong, modal('t'.repeat(46)))).rejects.toMatchObject({ code: 50035 });
    const click = discord.click(CHANNEL, card.id, 'x:1', ALICE);
    await callback(click, modal('Deny it'));
    const submitted = discord.submitModal(CHANNEL, card.id, 'form:1', ALICE, { reason: 'because' });
    // A modal cannot answer a modal's submission.
    await expect(callback(submitted, modal('again'))).rejects.toMatchObject({ code: 50035 });
    expect(() => discord.submitModal(CHANNEL, card.id, 'never-shown', ALICE, {})).toThrow(/no modal/);
    const late = discord.click(CHANNEL, card.id, 'x:1', ALICE);
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await expect(callback(late, { type: 6 })).rejects.toMatchObject({ code: 10062 });
  });

  it('forces a fresh identify with INVALID_SESSION', async () => {
    const identifies = discord.stats.identifies;
    discord.invalidateSession();
    discord.dropConnection('abrupt');
    await waitFor(() => discord.stats.identifies === identifies + 1 && discord.connected(), { what: 're-identify', timeoutMs: 20_000 });
  });
});

describe('fake Discord, the identify rate limit', () => {
  /** Connects to the gateway and sends IDENTIFY for `shard` after HELLO; resolves with the first answer's op (0 READY, 9 Invalid Session). */
  async function identify(discord: FakeDiscord, shard: [number, number]): Promise<{ op: number; socket: WebSocket }> {
    const info = (await (await fetch(`${discord.apiUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${discord.token}` } })).json()) as { url: string };
    const socket = new WebSocket(`${info.url}/?v=10&encoding=json`);
    return new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('message', (raw) => {
        const p = JSON.parse(String(raw)) as { op: number };
        if (p.op === 10) socket.send(JSON.stringify({ op: 2, d: { token: discord.token, intents: 1, properties: {}, shard } }));
        else if (p.op === 0 || p.op === 9) resolve({ op: p.op, socket });
      });
    });
  }

  it('answers a second IDENTIFY in the same max_concurrency bucket within 5 s with Invalid Session, and one in another bucket with READY', async () => {
    const single = await startFakeDiscord({ maxConcurrency: 1 });
    const double = await startFakeDiscord({ maxConcurrency: 2 });
    try {
      const a = await identify(single, [0, 2]);
      const b = await identify(single, [1, 2]); // 1 % 1 = bucket 0, like shard 0
      expect([a.op, b.op]).toEqual([0, 9]);
      expect(single.stats).toMatchObject({ identifies: 1, identifiesRefused: 1 });
      const c = await identify(double, [0, 2]);
      const d = await identify(double, [1, 2]); // bucket 1
      expect([c.op, d.op]).toEqual([0, 0]);
      for (const s of [a, b, c, d]) s.socket.close();
    } finally {
      await single.close();
      await double.close();
    }
  });
});
