// The Discord adapter on discord.js: the gateway brings guilds, messages and interactions in; REST
// sends. The outbox owns retries, so discord.js's own are off and a rate limit on a send is handed
// back as ChatRateLimitedError; every create carries a nonce with enforce_nonce. After a fresh
// identify (a resume was impossible, or Tacit was down) channels are backfilled from the last seen id.
import {
  Client, DiscordAPIError, Events, GatewayIntentBits, HTTPError, MessageFlags, Partials, RateLimitError, Routes,
  type APIGuildMember, type APIMessage, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction, type Message, type PartialMessage,
} from 'discord.js';
import type { Redis } from 'ioredis';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Logger } from '../../log.js';
import { ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';
import type { Actor, ChatAdapter, InboundHandlers, PostRequest } from '../port.js';
import { commandText, parseDiscordMessage, TACIT_COMMAND, type DiscordMessage } from './parse.js';
import { markerFor, renderMessage, renderPrivate, threadName, type RenderedFile, type RenderedMessage } from './render.js';
import { channelId, guildOf, parseChannelId, parseCustomId, workspaceId } from './types.js';

export interface DiscordOptions {
  token: string;
  /** Defaults to the application in the gateway's READY. */
  applicationId?: string;
  apiUrl?: string;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** How long start-up waits for the gateway's READY and guilds. */
  readyTimeoutMs?: number;
}

/** Discord JSON error codes Tacit branches on. */
const UNKNOWN_CHANNEL = 10003;
const UNKNOWN_MEMBER = 10007;
const THREAD_EXISTS = 160004;
/** Sends the outbox drives: a rate limit there goes back to the outbox instead of waiting in-process. */
const OUTBOX_ROUTES = /^\/(channels|users|guilds)\//;
const BACKFILL_PAGE = 100;

export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  readonly client: Client;
  private handlers: InboundHandlers | undefined;
  private readonly dmChannels = new Set<string>();
  private readonly lastSeenKey: string;
  private readies = 0;

  constructor(private readonly opts: DiscordOptions) {
    this.lastSeenKey = `${opts.prefix}:discord:last-seen`;
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
      partials: [Partials.Channel],
      allowedMentions: { parse: [] },
      rest: {
        ...(opts.apiUrl ? { api: opts.apiUrl } : {}),
        retries: 0,
        rejectOnRateLimit: (limit) => OUTBOX_ROUTES.test(limit.route),
      },
    });
  }

  private get botUserId(): string {
    const id = this.client.user?.id;
    if (!id) throw new ChatUnreachableError('not_ready', 'the Discord gateway has not sent READY yet');
    return id;
  }

  async start(handlers: InboundHandlers): Promise<void> {
    this.handlers = handlers;
    const { client, opts } = this;
    const log = opts.log;
    client.on(Events.MessageCreate, (m) => void this.onMessage(m));
    client.on(Events.MessageUpdate, (_old, m) => this.onEdit(m));
    client.on(Events.MessageDelete, (m) => {
      if (!m.guildId) return;
      // A message in a thread is stored under the thread's parent channel.
      const channel = m.channel.isThread() ? (m.channel.parentId ?? m.channelId) : m.channelId;
      handlers
        .messageChanged({ kind: 'deleted', workspaceId: workspaceId(m.guildId), channelId: channelId(m.guildId, channel), messageId: m.id })
        .catch((err: unknown) => log.error({ err, messageId: m.id }, 'discord deletion not applied'));
    });
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    client.on(Events.GuildCreate, (g) => void this.guildAdded(g.id, g.name));
    client.on(Events.GuildDelete, (g) => {
      handlers.workspaceRemoved(workspaceId(g.id)).catch((err: unknown) => log.error({ err, guildId: g.id }, 'workspace removal failed'));
    });
    // A second READY means the session could not be resumed: events may have been missed.
    client.on(Events.ShardReady, () => {
      if (this.readies++ > 0) void this.backfill('re-identified');
    });
    client.on(Events.ShardResume, (_id, replayed) => log.info({ replayed }, 'discord gateway resumed'));
    client.on(Events.ShardDisconnect, (e) => log.warn({ code: e.code }, 'discord gateway closed for good'));
    client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));

    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ChatUnreachableError('ready_timeout', 'the Discord gateway sent no READY; check DISCORD_TOKEN and DISCORD_API_URL')), opts.readyTimeoutMs ?? 30_000);
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await client.login(opts.token);
      await ready;
    } catch (err) {
      await client.destroy().catch(() => undefined);
      throw err;
    }
    const applicationId = opts.applicationId ?? client.application?.id;
    if (!applicationId) throw new ChatRejectedError('no_application', 'set DISCORD_APPLICATION_ID: the gateway named no application');
    await this.call(() => client.rest.put(Routes.applicationCommands(applicationId), { body: [TACIT_COMMAND] }));
    for (const guild of client.guilds.cache.values()) await this.guildAdded(guild.id, guild.name);
    await this.backfill('started');
  }

  async stop(): Promise<void> {
    await this.client.destroy();
  }

  async post(request: PostRequest): Promise<MessageRef> {
    const ref = this.channel(request.channelId);
    const target = request.threadId ?? ref.channelId;
    const rendered = renderMessage(request.message, { idempotencyKey: request.idempotencyKey, mentionNotify: !this.dmChannels.has(target) });
    let message: APIMessage;
    try {
      message = await this.create(target, rendered);
    } catch (err) {
      // A reply to a message whose thread does not exist yet: start it from that message (its id
      // becomes the thread's id), then post there.
      if (!request.threadId || !isApiError(err, UNKNOWN_CHANNEL)) throw this.mapError(err);
      await this.startThread(ref.channelId, request.threadId, threadName(request.message));
      message = await this.call(() => this.create(target, rendered));
    }
    return { channelId: channelId(ref.guildId, target), messageId: message.id };
  }

  async update(target: MessageRef, message: OutgoingMessage): Promise<void> {
    const ref = this.channel(target.channelId);
    const { body, files } = renderMessage(message, { mentionNotify: !this.dmChannels.has(ref.channelId) });
    await this.call(() => this.client.rest.patch(Routes.channelMessage(ref.channelId, target.messageId), { body, files: files.length ? files : undefined }));
  }

  /** Discord forgets nonces after minutes; the invisible marker in the content is found for longer. */
  async findPosted(channel: string, idempotencyKey: string, threadId?: string): Promise<MessageRef | null> {
    const ref = this.channel(channel);
    const target = threadId ?? ref.channelId;
    const marker = markerFor(idempotencyKey);
    let recent: APIMessage[];
    try {
      recent = (await this.client.rest.get(Routes.channelMessages(target), { query: new URLSearchParams({ limit: '100' }) })) as APIMessage[];
    } catch (err) {
      if (threadId && isApiError(err, UNKNOWN_CHANNEL)) return null; // the thread was never started
      throw this.mapError(err);
    }
    const found = recent.find((m) => m.author.id === this.botUserId && m.content.includes(marker));
    return found ? { channelId: channelId(ref.guildId, target), messageId: found.id } : null;
  }

  async openDirect(workspace: string, personId: string): Promise<string> {
    const guild = guildOf(workspace);
    if (!guild) throw new ChatRejectedError('bad_workspace', `${workspace} is not a Discord workspace id`);
    const dm = (await this.call(() => this.client.rest.post(Routes.userChannels(), { body: { recipient_id: personId } }))) as { id: string };
    this.dmChannels.add(dm.id);
    return channelId(guild, dm.id);
  }

  /** Discord has no ephemeral messages outside interactions: a private note is a DM. */
  async postPrivate(channel: string, personId: string, text: string): Promise<void> {
    const ref = this.channel(channel);
    const dm = this.channel(await this.openDirect(workspaceId(ref.guildId), personId));
    const { content, files } = renderPrivate(text);
    await this.call(() => this.client.rest.post(Routes.channelMessages(dm.channelId), { body: { content, allowed_mentions: { parse: [] } }, files: files.length ? files : undefined }));
  }

  async inGroup(workspace: string, personId: string, roleId: string): Promise<boolean> {
    const guild = guildOf(workspace);
    if (!guild) return false;
    try {
      const member = (await this.client.rest.get(Routes.guildMember(guild, personId))) as APIGuildMember;
      return member.roles.includes(roleId);
    } catch (err) {
      if (isApiError(err, UNKNOWN_MEMBER)) return false;
      throw this.mapError(err);
    }
  }

  private create(target: string, { body, files }: RenderedMessage): Promise<APIMessage> {
    return this.client.rest.post(Routes.channelMessages(target), { body, files: files.length ? files : undefined }) as Promise<APIMessage>;
  }

  private async startThread(parent: string, messageId: string, name: string): Promise<void> {
    try {
      await this.client.rest.post(Routes.threads(parent, messageId), { body: { name, auto_archive_duration: 1440 } });
    } catch (err) {
      if (!isApiError(err, THREAD_EXISTS)) throw this.mapError(err);
    }
  }

  private async guildAdded(guildId: string, name: string): Promise<void> {
    try {
      await this.handlers?.workspaceAdded({ workspaceId: workspaceId(guildId), name });
    } catch (err) {
      this.opts.log.error({ err, guildId }, 'workspace creation failed');
    }
  }

  private async onMessage(m: Message | DiscordMessage): Promise<void> {
    const handlers = this.handlers;
    if (!handlers) return;
    const parsed = parseDiscordMessage(m, this.botUserId);
    try {
      if (parsed.kind === 'message') await handlers.message(parsed.message);
      if (m.guildId) await this.markSeen(m.channelId, m.id);
    } catch (err) {
      this.opts.log.error({ err, messageId: m.id }, 'discord message intake failed; the next backfill brings it again');
    }
  }

  private onEdit(m: Message | PartialMessage): void {
    if (m.partial) return;
    const parsed = parseDiscordMessage(m, this.botUserId, { edited: true });
    if (parsed.kind !== 'edited' && parsed.kind !== 'message') return;
    this.handlers
      ?.messageChanged({ kind: 'edited', message: parsed.message })
      .catch((err: unknown) => this.opts.log.error({ err, messageId: m.id }, 'discord edit not applied'));
  }

  /** Remembers the newest message id per channel, so a fresh session can fetch what it missed. */
  private async markSeen(channel: string, messageId: string): Promise<void> {
    await this.opts.redis.eval(MARK_SEEN, 1, this.lastSeenKey, channel, messageId);
  }

  private async backfill(reason: string): Promise<void> {
    const log = this.opts.log;
    const seen = await this.opts.redis.hgetall(this.lastSeenKey).catch((err: unknown) => {
      log.warn({ err }, 'cannot read last seen Discord messages; no backfill');
      return {} as Record<string, string>;
    });
    let fetched = 0;
    for (const [channel, last] of Object.entries(seen)) {
      try {
        const found = await this.client.channels.fetch(channel);
        if (!found || !('messages' in found)) continue;
        let after = last;
        for (;;) {
          const page = await found.messages.fetch({ after, limit: BACKFILL_PAGE, cache: false });
          const oldestFirst = [...page.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
          for (const m of oldestFirst) await this.onMessage(m);
          fetched += oldestFirst.length;
          const newest = oldestFirst.at(-1);
          if (!newest || oldestFirst.length < BACKFILL_PAGE) break;
          after = newest.id;
        }
      } catch (err) {
        log.warn({ err, channel }, 'backfill of a Discord channel failed');
      }
    }
    log.info({ reason, channels: Object.keys(seen).length, fetched }, 'discord backfill done');
  }

  private async onInteraction(i: Interaction): Promise<void> {
    try {
      if (i.isButton()) await this.onButton(i);
      else if (i.isChatInputCommand() && i.commandName === TACIT_COMMAND.name) await this.onCommand(i);
    } catch (err) {
      this.opts.log.error({ err, interactionId: i.id }, 'discord interaction failed');
      if (i.isRepliable() && (i.deferred || i.replied)) {
        await i.followUp({ content: 'Something went wrong on my side; it has been logged.', flags: MessageFlags.Ephemeral }).catch(() => undefined);
      }
    }
  }

  private async onButton(i: ButtonInteraction): Promise<void> {
    // Discord wants an answer within 3 s: acknowledge first, work after.
    await i.deferUpdate();
    if (!i.guildId) return;
    const { actionId, value } = parseCustomId(i.customId);
    const response = await this.requireHandlers().interaction({
      workspaceId: workspaceId(i.guildId), channelId: channelId(i.guildId, i.channelId ?? ''), messageId: i.message.id,
      actionId, value, user: this.actor(i), raw: i,
    });
    if (response.privateText) await this.replyPrivately(i, response.privateText);
  }

  private async onCommand(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    if (!i.guildId) {
      await i.editReply({ content: 'Use `/tacit` in a server channel.' });
      return;
    }
    const parent = i.channel?.isThread() ? i.channel.parentId : null;
    const response = await this.requireHandlers().command({
      workspaceId: workspaceId(i.guildId), channelId: channelId(i.guildId, parent ?? i.channelId), user: this.actor(i),
      text: commandText(i.options.data), raw: i,
    });
    const { content, files } = renderPrivate(response.privateText ?? 'Done.');
    await i.editReply({ content, files: attachments(files), allowedMentions: { parse: [] } });
  }

  private async replyPrivately(i: ButtonInteraction, text: string): Promise<void> {
    const { content, files } = renderPrivate(text);
    await i.followUp({ content, files: attachments(files), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  }

  /** Who clicked, with the roles the interaction's member carries (used to authorise approvals). */
  private actor(i: ButtonInteraction | ChatInputCommandInteraction): Actor {
    const member = i.member;
    const roles = !member ? [] : Array.isArray(member.roles) ? [...member.roles] : [...member.roles.cache.keys()].filter((id) => id !== i.guildId);
    return { id: i.user.id, name: i.user.globalName ?? i.user.username, roles };
  }

  private requireHandlers(): InboundHandlers {
    if (!this.handlers) throw new Error('the Discord adapter was not started');
    return this.handlers;
  }

  private channel(id: string) {
    const ref = parseChannelId(id);
    if (!ref) throw new ChatRejectedError('bad_channel', `${id} is not a Discord channel id`);
    return ref;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Maps discord.js errors onto the outbox's: rejected (final), rate-limited, unreachable. */
  private mapError(err: unknown): Error {
    if (err instanceof ChatRateLimitedError || err instanceof ChatRejectedError || err instanceof ChatUnreachableError) return err;
    if (err instanceof RateLimitError) return new ChatRateLimitedError(Math.max(err.retryAfter, err.timeToReset, err.sublimitTimeout, 250));
    if (err instanceof DiscordAPIError) {
      if (err.status === 429) return new ChatRateLimitedError(1_000);
      if (err.status >= 500 || err.status === 408) return new ChatUnreachableError(String(err.code), `Discord error ${err.status}: ${err.message}`, { cause: err });
      return new ChatRejectedError(String(err.code), `Discord refused (${err.status} ${err.code}): ${err.message}`, { cause: err });
    }
    if (err instanceof HTTPError) return new ChatUnreachableError(String(err.status), `Discord error ${err.status}: ${err.message}`, { cause: err });
    return new ChatUnreachableError('unreachable', `Discord unreachable: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof DiscordAPIError && err.code === code;
}

function attachments(files: RenderedFile[]) {
  return files.map((f) => ({ attachment: f.data, name: f.name }));
}

/** Sets a channel's last seen message id only forwards (snowflakes compare by length, then digits). */
const MARK_SEEN = `local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (not cur) or (#cur < #ARGV[2]) or (#cur == #ARGV[2] and cur < ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0`;
