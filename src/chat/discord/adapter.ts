// The Discord adapter on discord.js: the gateway brings guilds, messages and interactions in; REST
// sends. The outbox owns retries, so discord.js's own are off and a rate limit on a send is handed
// back as ChatRateLimitedError; every create carries a nonce with enforce_nonce. The gateway never
// redelivers: each channel's cursor in Postgres moves only over stored messages, and after a fresh
// identify (a resume was impossible, or Tacit was down) or a failed store, channels are backfilled
// from it (backfill.ts).
import {
  ChannelType, Client, DiscordAPIError, Events, GatewayIntentBits, HTTPError, Partials, RateLimitError, Routes,
  type APIGuildMember, type APIMessage, type Guild, type Message, type PartialMessage,
} from 'discord.js';
import type { Redis } from 'ioredis';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';
import type { ChatAdapter, InboundHandlers, PostedQuery, PostRequest } from '../port.js';
import { ChannelHistory, refusedAsData, type BackfillBudget } from './backfill.js';
import { cardText } from './cards.js';
import { syncCommands } from './commands.js';
import { DirectMessages } from './direct.js';
import { discordAgent } from './http-agent.js';
import { onInteraction } from './interactions.js';
import { parseDiscordMessage, type DiscordMessage } from './parse.js';
import { PendingChanges } from './pending-changes.js';
import { markerFor, renderMessage, renderPrivate, threadName, type RenderedMessage } from './render.js';
import { redisIdentifyThrottle } from './identify.js';
import { ownsGuild, runsShard, shardingRefusal, type ShardSet } from './shards.js';
import { Threads } from './threads.js';
import { channelId, guildOf, parseChannelId, workspaceId } from './types.js';

export interface DiscordOptions {
  token: string;
  /** Defaults to the application in the gateway's READY. */
  applicationId?: string;
  apiUrl?: string;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Where channel history cursors live (`channels.history_cursor`); without it there is no backfill. */
  db?: Db;
  /** How long start-up waits for the gateway's READY and guilds. */
  readyTimeoutMs?: number;
  backfillBudget?: Partial<BackfillBudget>;
  /** Backfill after a failed store: first delay, doubled up to `maxMs` (defaults 2 s, 60 s). */
  recovery?: { initialMs?: number; maxMs?: number };
  /** The gateway shards this process connects (shards.ts); unset, discord.js's default of one. */
  shards?: ShardSet;
}

/** Discord JSON error codes Tacit branches on. */
const UNKNOWN_CHANNEL = 10003;
const UNKNOWN_MEMBER = 10007;
/** Channels a source can be bound to: text and announcement channels. */
const POSTABLE = new Set<ChannelType>([ChannelType.GuildText, ChannelType.GuildAnnouncement]);
/** Sends the outbox drives: a rate limit there goes back to the outbox instead of waiting in-process. */
const OUTBOX_ROUTES = /^\/(channels|users|guilds)\//;
/**
 * Discord dedupes a create on its nonce for "the past few minutes" (undocumented exactly): within this
 * much of the first attempt a retry simply posts again and gets the earlier message back.
 */
const NONCE_TRUSTED_MS = 2 * 60_000;
/** Allowance for Discord's clock against ours when bounding the look-back for an earlier post. */
const LOOKUP_SKEW_MS = 60_000;
const LOOKUP_PAGE = 100;
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
/** Discord's identify window per max_concurrency bucket, with a margin. */
const IDENTIFY_SPACING_MS = 6_000;

/**
 * What the nonce and the marker are made of. Discord dedupes nonces per author, and Tacit is one author
 * in every guild: the channel keeps equal outbox keys of two workspaces (a digest's date) apart.
 */
function postKey(channel: string, idempotencyKey: string): string {
  return `${channel}|${idempotencyKey}`;
}

/** The smallest snowflake of a moment: `after` it lists every message created since. */
function snowflakeAt(ms: number): string {
  const since = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH_MS;
  return (since > 0n ? since << 22n : 0n).toString();
}

export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  readonly forms = ['deny_reason'] as const;
  readonly client: Client;
  private handlers: InboundHandlers | undefined;
  private readonly direct: DirectMessages;
  private readonly threads: Threads;
  private readonly history: ChannelHistory | undefined;
  private pending: PendingChanges | undefined;
  /** Shards that sent READY at least once: another READY of one of them is a fresh session. */
  private readonly readyShards = new Set<number>();

  /** REST's own connection pool: never the process-wide one another library may have installed. */
  private readonly agent = discordAgent();

  constructor(private readonly opts: DiscordOptions) {
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
      // Each process connects only its shards; REST (posting, lookups) works for every guild from any of them.
      ...(opts.shards ? { shards: [...opts.shards.ids], shardCount: opts.shards.count } : {}),
      // Identifies are limited per bot, not per process: every process spaces its identifies through Redis.
      ws: {
        buildIdentifyThrottler: async (manager) => redisIdentifyThrottle({
          redis: opts.redis, key: (bucket) => `${opts.prefix}:discord:identify:${bucket}`, log: opts.log,
          maxConcurrency: (await manager.fetchGatewayInformation()).session_start_limit.max_concurrency,
        }),
      },
      partials: [Partials.Channel],
      allowedMentions: { parse: [] },
      rest: {
        ...(opts.apiUrl ? { api: opts.apiUrl } : {}),
        agent: this.agent,
        retries: 0,
        rejectOnRateLimit: (limit) => OUTBOX_ROUTES.test(limit.route),
      },
    });
    this.history = opts.db && new ChannelHistory({
      db: opts.db, client: this.client, log: opts.log, feed: (m) => this.onMessage(m), budget: opts.backfillBudget, recovery: opts.recovery,
      // Before cursors moved to Postgres they were a Redis hash: read for channels without one.
      legacy: { redis: opts.redis, key: `${opts.prefix}:discord:last-seen` },
      // Another process's guilds are its to read back: their events never reach this one.
      owns: (guildId) => ownsGuild(opts.shards, guildId),
    });
    this.direct = new DirectMessages(this.client, opts.shards !== undefined && opts.shards.ids.length < opts.shards.count);
    this.threads = new Threads(this.client);
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
    // Live messages are tracked from the first one, but no cursor moves until the start-up backfill read them.
    this.history?.hold();
    client.on(Events.MessageCreate, (m) => void this.onMessage(m));
    // Edits and deletions the store could not take wait in Redis and are applied once it can.
    const pending = new PendingChanges({ redis: opts.redis, key: `${opts.prefix}:discord:pending-changes`, log, apply: (c) => handlers.messageChanged(c), retry: opts.recovery });
    this.pending = pending;
    pending.start();
    client.on(Events.MessageUpdate, (_old, m) => this.onEdit(m));
    client.on(Events.MessageDelete, (m) => {
      if (!m.guildId) return;
      // A message in a thread is stored under the thread's parent channel.
      const channel = m.channel.isThread() ? (m.channel.parentId ?? m.channelId) : m.channelId;
      void pending.take({ kind: 'deleted', workspaceId: workspaceId(m.guildId), channelId: channelId(m.guildId, channel), messageId: m.id });
    });
    client.on(Events.InteractionCreate, (i) => void onInteraction({ handlers: () => this.requireHandlers(), log }, i));
    client.on(Events.GuildCreate, (g) => void this.guildAdded(g));
    client.on(Events.GuildDelete, (g) => {
      handlers.workspaceRemoved(workspaceId(g.id)).catch((err: unknown) => log.error({ err, guildId: g.id }, 'workspace removal failed'));
    });
    // A shard's second READY means its session could not be resumed: events may have been missed.
    client.on(Events.ShardReady, (shardId) => {
      if (!this.readyShards.has(shardId)) return void this.readyShards.add(shardId);
      this.history?.hold(); // before the new session's first message
      void this.history?.backfill('re-identified');
    });
    client.on(Events.ShardResume, (shardId, replayed) => log.info({ shardId, replayed }, 'discord gateway resumed'));
    client.on(Events.ShardDisconnect, (e, shardId) => log.warn({ code: e.code, shardId }, 'discord gateway closed for good'));
    client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));

    const ready = new Promise<void>((resolve, reject) => {
      // Discord lets a bot identify one shard per 5 s (max_concurrency 1): each further shard here waits that long.
      const timeoutMs = opts.readyTimeoutMs ?? 30_000 + IDENTIFY_SPACING_MS * Math.max(0, (opts.shards?.ids.length ?? 1) - 1);
      const timer = setTimeout(() => reject(new ChatUnreachableError('ready_timeout', 'the Discord gateway sent no READY; check DISCORD_TOKEN and DISCORD_API_URL')), timeoutMs);
      // A shard Discord refuses (4010, 4011) never becomes ready: fail start-up with what to change.
      const refused = (e: { code: number }) => {
        const reason = shardingRefusal(e.code, opts.shards);
        if (!reason) return;
        clearTimeout(timer);
        reject(new ChatRejectedError(`gateway_${e.code}`, reason));
      };
      client.on(Events.ShardDisconnect, refused);
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        client.off(Events.ShardDisconnect, refused);
        resolve();
      });
    });
    try {
      // Together: a refused shard rejects `ready` while login may still be waiting on that shard.
      await Promise.all([client.login(opts.token), ready]);
    } catch (err) {
      await client.destroy().catch(() => undefined);
      throw err;
    }
    const applicationId = opts.applicationId ?? client.application?.id;
    if (!applicationId) throw new ChatRejectedError('no_application', 'set DISCORD_APPLICATION_ID: the gateway named no application');
    // `/tacit` is global (one registration for every guild): the process with shard 0 keeps it current.
    if (runsShard(opts.shards, 0)) {
      await this.call(() => syncCommands({ rest: client.rest, applicationId, redis: opts.redis, key: `${opts.prefix}:discord:commands:${applicationId}`, log }));
    }
    // The guilds of this process's shards only: each guild is on exactly one shard.
    for (const guild of client.guilds.cache.values()) await this.guildAdded(guild);
    await this.history?.backfill('started');
  }

  async stop(): Promise<void> {
    await this.history?.stop();
    await this.pending?.stop();
    await this.client.destroy();
    await this.agent.destroy().catch(() => undefined);
  }

  async post(request: PostRequest): Promise<MessageRef> {
    const ref = this.channel(request.channelId);
    // A DM has no threads: a reply there answers the message it replies to, in the DM itself.
    const direct = await this.call(() => this.direct.isDirect(ref.channelId));
    const threadId = direct ? undefined : request.threadId;
    const target = threadId ?? ref.channelId;
    const rendered = renderMessage(request.message, { idempotencyKey: postKey(request.channelId, request.idempotencyKey), mentionNotify: !direct });
    if (direct && request.threadId) rendered.body.message_reference = { message_id: request.threadId, fail_if_not_exists: false };
    // A reply into a thread that does not exist yet: started from its root message first (whose id
    // becomes the thread's id), named after that message's headline.
    if (threadId) await this.call(() => this.threads.ensure(ref.channelId, threadId));
    const message = await this.call(() => this.create(target, rendered));
    if (!threadId) this.threads.posted(message.id, threadName(request.message));
    return { channelId: channelId(ref.guildId, target), messageId: message.id };
  }

  async update(target: MessageRef, message: OutgoingMessage): Promise<void> {
    const ref = this.channel(target.channelId);
    const { body, files } = renderMessage(message, { mentionNotify: !this.direct.known(ref.channelId) });
    await this.call(() => this.client.rest.patch(Routes.channelMessage(ref.channelId, target.messageId), { body, files: files.length ? files : undefined }));
  }

  /**
   * Exact while Discord still remembers the nonce: a repeat create with the same nonce and
   * enforce_nonce returns the earlier message instead of posting, so there is nothing to look for.
   * Later, the messages since the first attempt (after a snowflake of that time, oldest first, paged)
   * are searched for the invisible marker, however busy the channel was.
   */
  async findPosted({ channelId: channel, idempotencyKey, threadId, since }: PostedQuery): Promise<MessageRef | null> {
    if (Date.now() - since.getTime() < NONCE_TRUSTED_MS) return null;
    const ref = this.channel(channel);
    const target = (threadId && !(await this.call(() => this.direct.isDirect(ref.channelId)))) ? threadId : ref.channelId;
    const marker = markerFor(postKey(channel, idempotencyKey));
    let after = snowflakeAt(since.getTime() - LOOKUP_SKEW_MS);
    for (;;) {
      let page: APIMessage[];
      try {
        page = (await this.client.rest.get(Routes.channelMessages(target), { query: new URLSearchParams({ after, limit: String(LOOKUP_PAGE) }) })) as APIMessage[];
      } catch (err) {
        if (threadId && isApiError(err, UNKNOWN_CHANNEL)) return null; // the thread was never started
        throw this.mapError(err);
      }
      // A card (Components V2) carries its marker in its text displays, a plain message in its content.
      const found = page.find((m) => m.author.id === this.botUserId && (m.content.includes(marker) || cardText(m.components ?? []).includes(marker)));
      if (found) return { channelId: channelId(ref.guildId, target), messageId: found.id };
      if (page.length < LOOKUP_PAGE) return null;
      after = page.reduce((newest, m) => (BigInt(m.id) > BigInt(newest) ? m.id : newest), after);
    }
  }

  async openDirect(workspace: string, personId: string): Promise<string> {
    const guild = guildOf(workspace);
    if (!guild) throw new ChatRejectedError('bad_workspace', `${workspace} is not a Discord workspace id`);
    const dm = (await this.call(() => this.client.rest.post(Routes.userChannels(), { body: { recipient_id: personId } }))) as { id: string };
    this.direct.opened(dm.id, personId, guild);
    return channelId(guild, dm.id);
  }

  /** Discord has no ephemeral messages outside interactions: a private note is a DM. */
  async postPrivate(channel: string, personId: string, text: string): Promise<void> {
    const ref = this.channel(channel);
    const dm = this.channel(await this.openDirect(workspaceId(ref.guildId), personId));
    const { content, files } = renderPrivate(text);
    await this.call(() => this.client.rest.post(Routes.channelMessages(dm.channelId), { body: { content, allowed_mentions: { parse: [] } }, files: files.length ? files : undefined }));
  }

  /** The name the guild shows: the member's nickname there, else their display name, else their username. */
  async personName(workspace: string, personId: string): Promise<string | null> {
    const guild = guildOf(workspace);
    if (!guild) return null;
    try {
      const member = (await this.client.rest.get(Routes.guildMember(guild, personId))) as APIGuildMember;
      return member.nick ?? member.user.global_name ?? member.user.username;
    } catch (err) {
      if (isApiError(err, UNKNOWN_MEMBER)) return null;
      throw this.mapError(err);
    }
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

  /** A guild with its text channels, as GUILD_CREATE lists them: a source can be bound to one at once. */
  private async guildAdded(guild: Guild): Promise<void> {
    const channels = [...guild.channels.cache.values()]
      .filter((c) => POSTABLE.has(c.type))
      .map((c) => ({ id: channelId(guild.id, c.id), name: c.name }));
    try {
      await this.handlers?.workspaceAdded({ workspaceId: workspaceId(guild.id), name: guild.name, channels });
    } catch (err) {
      this.opts.log.error({ err, guildId: guild.id }, 'workspace creation failed');
    }
  }

  /** Stores one message (live or backfilled); false when it failed, and a recovery backfill is scheduled. */
  private async onMessage(m: Message | DiscordMessage): Promise<boolean> {
    const handlers = this.handlers;
    if (!handlers) return false;
    // A DM belongs to the guild Tacit shares with its author (the one it last wrote to them for).
    let directGuild: string | undefined;
    if (!m.guildId && m.author.id !== this.botUserId && !m.author.bot) {
      directGuild = await this.direct.guildFor(m.channelId, m.author.id).catch((err: unknown) => {
        this.opts.log.warn({ err, messageId: m.id }, 'could not tell which server a Discord DM belongs to; not answered');
        return undefined;
      });
    }
    const parsed = parseDiscordMessage(m, this.botUserId, { directGuild });
    // A thread's messages count for its parent channel's cursor.
    const parent = 'parentId' in m.channel && m.channel.isThread() ? m.channel.parentId : null;
    const tracked = m.guildId ? channelId(m.guildId, parent ?? m.channelId) : null;
    const attempt = tracked ? this.history?.cursors.begin(tracked, m.id) : null;
    try {
      if (parsed.kind === 'message') await handlers.message(parsed.message);
      if (attempt) this.history?.cursors.done(attempt, true);
      return true;
    } catch (err) {
      const refused = refusedAsData(err);
      // A message the database refuses as data would fail every backfill too: it must not hold the cursor.
      if (attempt) this.history?.cursors.done(attempt, refused !== null);
      if (refused) {
        this.opts.log.error({ err, messageId: m.id, reason: refused }, 'discord message refused by the database; skipped');
        return true;
      }
      this.opts.log.error({ err, messageId: m.id }, 'discord message intake failed; a backfill brings it again once the database is back');
      this.history?.scheduleRecovery();
      return false;
    }
  }

  private onEdit(m: Message | PartialMessage): void {
    if (m.partial) return;
    const parsed = parseDiscordMessage(m, this.botUserId, { edited: true });
    if (parsed.kind !== 'edited' && parsed.kind !== 'message') return;
    void this.pending?.take({ kind: 'edited', message: parsed.message });
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

