// The Discord adapter on its own, through real discord.js and the local Discord, with handlers that
// record what reaches the core: what it takes in (mentions, threads, bots skipped, clicks with roles,
// commands, guilds joined and left) and what it sends (pings only for `notify`, links without previews,
// files, threads, DMs, edits in place, rate limits handed to the outbox).
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../src/chat/discord/adapter.js';
import { ChatRateLimitedError, ChatRejectedError } from '../../../src/chat/errors.js';
import type { InboundCommand, InboundHandlers, InboundInteraction, InboundMessage, MessageChange } from '../../../src/chat/port.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_GUILD, snowflake, startFakeDiscord, type FakeDiscord } from '../../fakes/discord.js';
import { redisUrl } from '../../support/env.js';
import { dropPrefix, testPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';

const GUILD = DEFAULT_GUILD.id;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const ALICE = DEFAULT_GUILD.members[0]?.id ?? '';
const BOB = DEFAULT_GUILD.members[1]?.id ?? '';
const OTHER_BOT = DEFAULT_GUILD.members[2]?.id ?? '';
const ONCALL = DEFAULT_GUILD.roles?.[0]?.id ?? '';
const WS = `discord:${GUILD}`;
const CH = `${WS}/${CHANNEL}`;

describe('Discord adapter, through discord.js and a local Discord', () => {
  let discord: FakeDiscord;
  let adapter: DiscordAdapter;
  let redis: Redis;
  const prefix = testPrefix();
  const seen = {
    messages: [] as InboundMessage[], interactions: [] as InboundInteraction[], commands: [] as InboundCommand[], added: [] as string[], removed: [] as string[], changes: [] as MessageChange[],
    channels: new Map<string, { id: string; name: string }[]>(),
  };
  let releaseClick: (() => void) | undefined;

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
    redis = new Redis(redisUrl);
    adapter = new DiscordAdapter({ token: discord.token, apiUrl: discord.apiUrl, redis, prefix, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
    const handlers: InboundHandlers = {
      message: async (m) => void seen.messages.push(m),
      messageChanged: async (c) => void seen.changes.push(c),
      interaction: async (i) => {
        seen.interactions.push(i);
        // The click is held until the test has seen Discord's deferral: acknowledging comes first.
        await new Promise<void>((resolve) => (releaseClick = resolve));
        return { privateText: `Only people with the on-call role may do that, <@${i.user.id}>.` };
      },
      command: async (c) => {
        seen.commands.push(c);
        return { privateText: `ran ${c.text}` };
      },
      workspaceAdded: async (w) => {
        seen.added.push(w.workspaceId);
        seen.channels.set(w.workspaceId, w.channels ?? []);
      },
      workspaceRemoved: async (id) => void seen.removed.push(id),
    };
    await adapter.start(handlers);
  });
  afterAll(async () => {
    await adapter?.stop();
    await dropPrefix(prefix);
    redis?.disconnect();
    await discord?.close();
  });

  it('takes people’s messages and mentions, in channels and threads, and skips its own and other bots’', async () => {
    expect(seen.added).toEqual([WS]);
    const mention = discord.say(CHANNEL, ALICE, `<@${discord.botUser.id}>   what broke?`);
    discord.say(CHANNEL, OTHER_BOT, 'beep');
    const plain = discord.say(CHANNEL, BOB, 'lunch?');
    await waitFor(() => seen.messages.find((m) => m.messageId === plain.id), { what: 'the plain message' });
    const got = seen.messages.find((m) => m.messageId === mention.id);
    expect(got).toMatchObject({ workspaceId: WS, channelId: CH, threadId: null, mentionsTacit: true, text: 'what broke?', author: { id: ALICE, name: 'alice', isBot: false } });
    expect(seen.messages.find((m) => m.author.id === OTHER_BOT)).toBeUndefined();

    // Tacit's reply starts a thread from the mention; a person's answer there belongs to the channel.
    const ref = await adapter.post({ channelId: CH, threadId: mention.id, message: { text: 'Looking.' }, idempotencyKey: 'test:thread-reply' });
    expect(ref.channelId).toBe(`${WS}/${mention.id}`);
    // Started before the post (no 404 first), named after the person's words without the mention.
    expect(discord.threads.find((t) => t.id === mention.id)?.name).toBe('what broke?');
    expect(discord.requests.filter((r) => r.route === `/channels/${mention.id}/messages` && r.status === 404)).toEqual([]);
    const inThread = discord.say(mention.id, ALICE, 'thanks');
    const threaded = await waitFor(() => seen.messages.find((m) => m.messageId === inThread.id), { what: 'the thread message' });
    expect(threaded).toMatchObject({ channelId: CH, threadId: mention.id, mentionsTacit: false });
    expect(seen.messages.filter((m) => m.author.id === discord.botUser.id)).toEqual([]);
  });

  it('passes people’s edits and deletions on, so the stored copy follows', async () => {
    const said = discord.say(CHANNEL, BOB, 'the db is fine');
    await waitFor(() => seen.messages.find((m) => m.messageId === said.id), { what: 'the message' });
    discord.editByUser(CHANNEL, said.id, 'the db is NOT fine');
    const edited = await waitFor(() => seen.changes.find((c) => c.kind === 'edited' && c.message.messageId === said.id), { what: 'the edit' });
    expect(edited).toMatchObject({ kind: 'edited', message: { channelId: CH, text: 'the db is NOT fine' } });
    discord.deleteByUser(CHANNEL, said.id);
    const deleted = await waitFor(() => seen.changes.find((c) => c.kind === 'deleted' && c.messageId === said.id), { what: 'the deletion' });
    expect(deleted).toEqual({ kind: 'deleted', workspaceId: WS, channelId: CH, messageId: said.id });
  });

  it('defers a click before working on it, passes the clicker’s roles, and answers privately', async () => {
    const card = await adapter.post({
      channelId: CH, idempotencyKey: 'test:card',
      message: { text: 'Approve?', blocks: [{ kind: 'section', text: 'Restart the API?' }, { kind: 'actions', buttons: [{ actionId: 'approval.approve', value: 'apr_123', label: 'Approve', style: 'primary' }] }] },
    });
    const click = discord.click(CHANNEL, card.messageId, 'approval.approve:apr_123', ALICE);
    const got = await waitFor(() => seen.interactions.find((i) => i.value === 'apr_123'), { what: 'the click' });
    expect(got).toMatchObject({ workspaceId: WS, channelId: CH, messageId: card.messageId, actionId: 'approval.approve', user: { id: ALICE, roles: [ONCALL] } });
    // The handler is still working, and Discord has its deferral well within its 3 s (the core had a
    // moment first to answer with a form, which only a first answer can open).
    const deferral = await waitFor(() => discord.callbacks.find((c) => c.interactionId === click.id), { what: 'the deferral' });
    expect(deferral.type).toBe(6);
    expect(seen.interactions.filter((i) => i.value === 'apr_123')).toHaveLength(1);
    releaseClick?.();
    const answer = await waitFor(() => discord.followups.find((f) => f.token === click.token), { what: 'the private answer' });
    expect(answer.ephemeral).toBe(true);
    expect(String(answer.body.content)).not.toContain(`<@${ALICE}>`);
    expect(answer.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('turns /tacit subcommands and options into the command text, answered ephemerally', async () => {
    const run = discord.command(CHANNEL, BOB, 'connect', [
      { name: 'kind', type: 3, value: 'grafana' },
      { name: 'channel', type: 7, value: CHANNEL },
      { name: 'secret', type: 3, value: 's3cret' },
    ]);
    const original = await waitFor(() => discord.originals.find((o) => o.token === run.token), { what: 'the answer' });
    // What came back is escaped prose: the channel mention cannot link or ping.
    expect(String(original.body.content).replace(/\u2060/g, '')).toBe(`ran connect grafana <#${CHANNEL}> secret=s3cret`);
    expect(discord.callbacks.find((c) => c.interactionId === run.id)).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(seen.commands.at(-1)).toMatchObject({ workspaceId: WS, channelId: CH, user: { id: BOB, roles: [] } });
  });

  it('pings only the notify person, suppresses link previews and attaches files', async () => {
    await adapter.post({
      channelId: CH, idempotencyKey: 'test:notify',
      message: { text: 'x', blocks: [{ kind: 'section', text: `@everyone <@${BOB}> see https://grafana.example/d/1` }], notify: ALICE, file: { filename: 'report.txt', content: 'the report' } },
    });
    const post = discord.posts.at(-1);
    expect(post?.body.allowed_mentions).toEqual({ parse: [], users: [ALICE] });
    expect(post?.message.content.startsWith(`<@${ALICE}> `)).toBe(true);
    expect(post?.message.content).not.toContain(`<@${BOB}>`);
    expect(post?.message.content).not.toMatch(/@everyone/);
    expect(post?.message.flags).toBe(4);
    expect(post?.files.map((f) => [f.filename, f.content])).toEqual([['report.txt', 'the report']]);
  });

  it("attaches files even when Slack's Socket Mode installed its own undici as the process-wide dispatcher", async () => {
    // Both adapters run in one process: Socket Mode's undici 7 sets the global dispatcher if it loads
    // first, and that Agent refuses discord.js's multipart body. Discord's REST must not depend on it.
    const slackUndici = createRequire(createRequire(import.meta.url).resolve('@slack/socket-mode'))('undici') as {
      Agent: new () => object; setGlobalDispatcher(agent: object): void;
    };
    const key = Symbol.for('undici.globalDispatcher.1');
    const before = (globalThis as Record<symbol, unknown>)[key];
    const installed = new slackUndici.Agent();
    slackUndici.setGlobalDispatcher(installed);
    try {
      expect((globalThis as Record<symbol, unknown>)[key]).toBe(installed);
      await adapter.post({ channelId: CH, idempotencyKey: 'test:file-other-dispatcher', message: { text: 'timeline', file: { filename: 'timeline.md', content: '# 03:12 paged' } } });
      expect(discord.posts.at(-1)?.files.map((f) => [f.filename, f.content])).toEqual([['timeline.md', '# 03:12 paged']]);
    } finally {
      if (before) slackUndici.setGlobalDispatcher(before);
    }
  });

  it('edits in place, finds an earlier post by its key, and reports a refused or rate-limited send for the outbox', async () => {
    const ref = await adapter.post({ channelId: CH, idempotencyKey: 'test:edit', message: { text: 'Firing: disk full' } });
    await adapter.update(ref, { text: 'Resolved: disk full' });
    expect(discord.history(CHANNEL).find((m) => m.id === ref.messageId)?.content).toBe('Resolved: disk full');
    // Past the nonce window the messages since the first attempt are searched; within it, the repeat
    // create itself returns the earlier message (enforce_nonce), so there is nothing to look for.
    const since = new Date(Date.now() - 3 * 60_000);
    expect(await adapter.findPosted({ channelId: CH, idempotencyKey: 'test:notify', since })).toMatchObject({ channelId: CH });
    expect(await adapter.findPosted({ channelId: CH, idempotencyKey: 'test:notify', since: new Date() })).toBeNull();
    expect(await adapter.findPosted({ channelId: CH, idempotencyKey: 'test:never-posted', since })).toBeNull();
    expect(await adapter.findPosted({ channelId: CH, idempotencyKey: 'test:never-posted', threadId: snowflake(), since })).toBeNull();

    discord.rateLimit('POST /channels', { times: 1, retryAfterSeconds: 2 });
    const limited = await adapter.post({ channelId: CH, idempotencyKey: 'test:limited', message: { text: 'later' } }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ChatRateLimitedError);
    expect((limited as ChatRateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(2_000);
    await expect(adapter.post({ channelId: `${WS}/${snowflake()}`, idempotencyKey: 'test:nowhere', message: { text: 'x' } })).rejects.toThrow(ChatRejectedError);
  });

  it('opens DMs, sends private notes there, and checks roles', async () => {
    const dm = await adapter.openDirect(WS, BOB);
    await adapter.post({ channelId: dm, idempotencyKey: 'test:dm', message: { text: 'You are on call.', notify: BOB } });
    await adapter.postPrivate(CH, ALICE, 'only for you');
    const dmId = dm.split('/').pop() ?? '';
    expect(discord.history(dmId)[0]?.content).toMatch(/^You are on call\./); // no mention needed in a DM
    const aliceDm = discord.dms.find((d) => d.recipient === ALICE)?.id ?? '';
    expect(discord.history(aliceDm)[0]?.content).toBe('only for you');
    expect(await adapter.inGroup(WS, ALICE, ONCALL)).toBe(true);
    expect(await adapter.inGroup(WS, BOB, ONCALL)).toBe(false);
    expect(await adapter.inGroup(WS, snowflake(), ONCALL)).toBe(false);
  });

  it('names people as the guild shows them: nickname, else display name, else username; unknown is null', async () => {
    const [carol, dave] = [snowflake(), snowflake()];
    discord.addGuild({ id: snowflake(), name: 'names', channels: [{ id: snowflake(), name: 'x' }], members: [{ id: carol, name: 'carol', nick: 'Carol (SRE)' }, { id: dave, name: 'dave' }] });
    const guild = discord.guilds.at(-1)?.id ?? '';
    await waitFor(() => seen.added.includes(`discord:${guild}`), { what: 'the guild' });
    expect(await adapter.personName(`discord:${guild}`, carol)).toBe('Carol (SRE)');
    expect(await adapter.personName(`discord:${guild}`, dave)).toBe('dave');
    expect(await adapter.personName(WS, carol)).toBeNull(); // not a member there: 10007 Unknown Member
    expect(await adapter.personName('slack:T1', carol)).toBeNull();
  });

  it('adds a joined guild as a workspace with its text channels, and removes a left one', async () => {
    const guild = { id: snowflake(), name: 'second', channels: [{ id: snowflake(), name: 'ops' }], members: [{ id: snowflake(), name: 'carol' }] };
    discord.addGuild(guild);
    await waitFor(() => seen.added.includes(`discord:${guild.id}`), { what: 'the new workspace' });
    expect(seen.channels.get(`discord:${guild.id}`)).toEqual([{ id: `discord:${guild.id}/${guild.channels[0]?.id}`, name: 'ops' }]);
    discord.removeGuild(guild.id);
    await waitFor(() => seen.removed.includes(`discord:${guild.id}`), { what: 'the removed workspace' });
  });
});
