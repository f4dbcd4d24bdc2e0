// The fake Discord speaks what the real discord.js client expects: it logs in through the gateway
// handshake, sees guilds and messages, resumes a dropped connection with the missed events
// replayed, and the REST side keeps Discord's nonce, limit and rate-limit behaviour.
import { Client, Events, GatewayIntentBits, RateLimitError, type Message } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('forces a fresh identify with INVALID_SESSION', async () => {
    const identifies = discord.stats.identifies;
    discord.invalidateSession();
    discord.dropConnection('abrupt');
    await waitFor(() => discord.stats.identifies === identifies + 1 && discord.connected(), { what: 're-identify', timeoutMs: 20_000 });
  });
});
