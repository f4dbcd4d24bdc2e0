// The Slack adapter: Bolt receives events, interactivity and the slash command (HTTP at /slack/events on
// Tacit's own server, or Socket Mode when an app token is set); one Web API client sends, with the
// right team's bot token on every call. The outbox owns retries, so the client's own are off; every
// post carries the outbox key (message metadata, or the title of an uploaded file).
import { App, ExpressReceiver, SocketModeReceiver, type AuthorizeResult, type AuthorizeSourceData } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import express, { type Router } from 'express';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { ChatError, ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';
import { TtlCache } from '../people.js';
import type { ChatAdapter, InboundHandlers, PostedQuery, PostRequest } from '../port.js';
import { ackAfterProcessing } from './ack.js';
import type { AliveMarks } from './alive.js';
import { backfill, type HistoryTier } from './backfill.js';
import { callSlack, TOKEN_ERRORS } from './calls.js';
import { uploadFile } from './files.js';
import { eventErrorHandler, eventsGuard, socketErrorHandler } from './edge.js';
import { homeView } from './home.js';
import { registerInbound } from './inbound.js';
import { boltLogger } from './logger.js';
import { EarlierPosts } from './posted.js';
import { escapeMrkdwn, renderMessage, renderPrivate } from './render.js';
import { streamable, streamAnswer } from './stream.js';
import { SLACK_PATHS } from './scopes.js';
import { StaticTokens, type BotAuth, type TokenSource } from './tokens.js';
import { channelId, parseChannelId, teamOf, workspaceId } from './types.js';

export interface SlackOptions {
  /** One workspace: its bot token. Otherwise `tokens` (installations). */
  botToken?: string;
  tokens?: TokenSource;
  /** HTTP events at /slack/events, verified with this secret… */
  signingSecret?: string;
  /** …or Socket Mode with this app-level token (xapp-…). */
  appToken?: string;
  apiUrl?: string;
  log: Logger;
  /** For App Home and the backfill after downtime; without it both are off. */
  db?: Db;
  /**
   * Slack allows about one message per second per channel, with short bursts: each channel has a bucket
   * of `perChannelBurst` posts (default 3) refilled one per `perChannelIntervalMs` (default 1 s).
   */
  perChannelIntervalMs?: number;
  perChannelBurst?: number;
  /** How long an event may take to be stored before it is answered 503 (default 2.5 s, inside Slack's 3 s). */
  ackDeadlineMs?: number;
  /** The history budget the backfill keeps to (default `limited`: 1 read a minute, 15 messages). */
  historyTier?: HistoryTier;
  /** When Tacit last heard each team (Redis): a restart inside Slack's retry window backfills nothing. */
  alive?: AliveMarks;
  now?: () => number;
}

type Receiver = InstanceType<typeof ExpressReceiver> | InstanceType<typeof SocketModeReceiver>;

export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  /** A Deny opens a modal asking why (deny-form.ts). */
  readonly forms = ['deny_reason'] as const;
  readonly client: WebClient;
  readonly tokens: TokenSource;
  private readonly receiver: Receiver;
  private readonly app: InstanceType<typeof App>;
  /** Each channel's posting bucket (this process; Slack's 429 covers the rest). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private handlers: InboundHandlers | undefined;
  private readonly earlier: EarlierPosts;
  private backfilling: Promise<unknown> = Promise.resolve();
  /** The backfill can wait minutes for history slots; stopping does not wait for them. */
  private readonly stopping = new AbortController();
  /** DM channel ids by team and person: a DM's id never changes, so conversations.open runs once per person. */
  private readonly directs = new TtlCache<string>({ max: 10_000, ttlMs: 24 * 3_600_000 });

  constructor(private readonly opts: SlackOptions) {
    const logger = boltLogger(opts.log);
    const clientOptions = { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger };
    this.client = new WebClient(undefined, clientOptions);
    this.earlier = new EarlierPosts(this.client);
    if (opts.tokens) this.tokens = opts.tokens;
    else if (opts.botToken) this.tokens = new StaticTokens(this.client, opts.botToken);
    else throw new Error('the Slack adapter needs a bot token (SLACK_BOT_TOKEN) or installations (SLACK_CLIENT_ID)');
    if (opts.appToken) {
      this.receiver = new SocketModeReceiver({
        appToken: opts.appToken, logger, installerOptions: { clientOptions: { slackApiUrl: opts.apiUrl } }, processEventErrorHandler: socketErrorHandler(opts.log),
      });
    } else if (opts.signingSecret) {
      // Events are stored before the answer (processBeforeResponse); the guard checks bodies first.
      const router = express.Router();
      router.post(SLACK_PATHS.events, eventsGuard({ signingSecret: opts.signingSecret, log: opts.log, db: opts.db, ackDeadlineMs: opts.ackDeadlineMs, now: opts.now }));
      this.receiver = new ExpressReceiver({
        signingSecret: opts.signingSecret, endpoints: SLACK_PATHS.events, processBeforeResponse: true, router, logger, processEventErrorHandler: eventErrorHandler({ log: opts.log, db: opts.db }),
      });
    } else {
      throw new Error('the Slack adapter needs SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode)');
    }
    // Socket Mode acknowledges an envelope only after its listeners stored it (Bolt acks events first).
    const receiver = this.receiver instanceof SocketModeReceiver ? ackAfterProcessing(this.receiver) : this.receiver;
    this.app = new App({ receiver, authorize: (source) => this.authorize(source), logger, clientOptions });
  }

  /** Bolt's HTTP routes, mounted on Tacit's server (none in Socket Mode). */
  routes(): Router[] {
    return this.receiver instanceof ExpressReceiver ? [this.receiver.router as unknown as Router] : [];
  }

  async start(handlers: InboundHandlers): Promise<void> {
    this.handlers = handlers;
    const teams = await this.tokens.teams(); // fails fast on a bad SLACK_BOT_TOKEN
    // Read before this run renews them: how long Tacit was away from each team.
    const heard = (await this.opts.alive?.previous(teams).catch((err: unknown) => {
      this.opts.log.warn({ err }, 'could not read when Slack was last heard; backfilling as after a long downtime');
      return undefined;
    })) ?? new Map<string, number | null>();
    await this.opts.alive?.start(teams).catch((err: unknown) => this.opts.log.warn({ err }, 'could not record that Slack is heard'));
    registerInbound({
      app: this.app, client: this.client, tokens: this.tokens, handlers, log: this.opts.log,
      publishHome: this.opts.db ? (auth, userId) => this.publishHome(auth, userId) : undefined,
      openDirect: (teamId, userId) => this.openDirect(workspaceId(teamId), userId).then((id) => parseChannelId(id)?.channelId ?? ''),
      removed: (teamId) => this.removed(teamId),
    });
    // Rethrown so the receiver answers 503 (HTTP) or withholds the ack (Socket Mode): Slack retries.
    this.app.error(async (err) => {
      throw err;
    });
    if (this.receiver instanceof SocketModeReceiver) await this.app.start();
    const { db } = this.opts;
    if (db) {
      const lastHeard = this.opts.alive ? (team: string) => heard.get(team) ?? null : undefined;
      const history = { tier: this.opts.historyTier, signal: this.stopping.signal, lastHeard };
      this.backfilling = backfill({ db, client: this.client, tokens: this.tokens, handlers, log: this.opts.log, ...history }).catch((err: unknown) =>
        this.opts.log.warn({ err }, 'slack backfill failed'),
      );
    }
  }

  /** Resolves when the start's backfill has finished (or given up). */
  backfilled(): Promise<unknown> {
    return this.backfilling;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.backfilling;
    await this.opts.alive?.stop();
    // In HTTP mode the server belongs to Tacit; a Socket Mode connection is ours to close.
    if (this.receiver instanceof SocketModeReceiver) await this.app.stop();
  }

  /** A workspace installed through OAuth: the heartbeat starts for it. */
  async installed(teamId: string, name: string): Promise<void> {
    this.tokens.forget(teamId);
    await this.opts.alive?.add(teamId).catch(() => undefined);
    await this.handlers?.workspaceAdded({ workspaceId: workspaceId(teamId), name });
  }

  async post(request: PostRequest): Promise<MessageRef> {
    const ref = this.channel(request.channelId);
    const auth = await this.tokens.auth(ref.teamId);
    this.takeSlot(request.channelId);
    const { message, threadId, idempotencyKey } = request;
    if (message.file) {
      const file = message.file;
      const fileId = await this.call(ref.teamId, () =>
        uploadFile(this.client, { token: auth.token, channel: ref.channelId, threadTs: threadId, file, comment: escapeMrkdwn(message.text), idempotencyKey }),
      );
      return { channelId: request.channelId, messageId: fileId };
    }
    if (message.answerTo && threadId && streamable(message)) {
      const recipient = { userId: message.answerTo, teamId: ref.teamId };
      const onFallback = (why: string) => this.opts.log.info({ channelId: request.channelId, why }, 'slack answer not streamed to the end; posted and edited instead');
      const ts = await streamAnswer({ client: this.client, token: auth.token, channel: ref.channelId, threadTs: threadId, recipient, message, idempotencyKey, call: (fn) => this.call(ref.teamId, fn), onFallback });
      return { channelId: request.channelId, messageId: ts };
    }
    const body = renderMessage(message, idempotencyKey);
    const res = await this.call(ref.teamId, () => this.client.chat.postMessage({ token: auth.token, channel: ref.channelId, thread_ts: threadId, ...body }));
    return { channelId: request.channelId, messageId: String(res.ts) };
  }

  async update(target: MessageRef, message: OutgoingMessage): Promise<void> {
    const ref = this.channel(target.channelId);
    const auth = await this.tokens.auth(ref.teamId);
    const { text, blocks } = renderMessage(message);
    await this.call(ref.teamId, () => this.client.chat.update({ token: auth.token, channel: ref.channelId, ts: target.messageId, text, blocks }));
  }

  /** An earlier attempt's post, found by its outbox key (posted.ts). */
  async findPosted(query: PostedQuery): Promise<MessageRef | null> {
    const ref = this.channel(query.channelId);
    const { token } = await this.tokens.auth(ref.teamId);
    const ts = await this.earlier.find({ ...query, token, channel: ref.channelId }, (fn) => this.call(ref.teamId, fn));
    return ts ? { channelId: query.channelId, messageId: ts } : null;
  }

  async openDirect(workspace: string, personId: string): Promise<string> {
    const team = teamOf(workspace);
    if (!team) throw new ChatRejectedError('bad_workspace', `${workspace} is not a Slack workspace id`);
    const key = `${team}/${personId}`;
    const cached = this.directs.get(key);
    if (cached) return cached;
    const { token } = await this.tokens.auth(team);
    const res = await this.call(team, () => this.client.conversations.open({ token, users: personId }));
    const id = (res.channel as { id?: string } | undefined)?.id;
    if (!id) throw new ChatUnreachableError('no_channel', 'conversations.open returned no channel');
    this.directs.set(key, channelId(team, id));
    return channelId(team, id);
  }

  /** users.info: the name people see (display name, else real name, else the username); null for an unknown user. */
  async personName(workspace: string, personId: string): Promise<string | null> {
    const team = teamOf(workspace);
    if (!team) return null;
    const { token } = await this.tokens.auth(team);
    try {
      const res = await this.call(team, () => this.client.users.info({ token, user: personId }));
      const user = res.user as { name?: string; real_name?: string; profile?: { display_name?: string; real_name?: string } } | undefined;
      return user?.profile?.display_name || user?.profile?.real_name || user?.real_name || user?.name || null;
    } catch (err) {
      if (err instanceof ChatRejectedError || (err instanceof ChatError && err.code === 'user_not_found')) return null;
      throw err;
    }
  }

  /**
   * The "is working on it" line in a thread (assistant.threads.setStatus; chat:write since 2026-03);
   * an empty status clears it, and Slack clears it itself when Tacit's reply arrives. Best effort.
   */
  async working(channel: string, threadId: string, status: string): Promise<void> {
    const ref = this.channel(channel);
    const { token } = await this.tokens.auth(ref.teamId);
    await this.call(ref.teamId, () => this.client.assistant.threads.setStatus({ token, channel_id: ref.channelId, thread_ts: threadId, status }));
  }

  async postPrivate(channel: string, personId: string, text: string): Promise<void> {
    const ref = this.channel(channel);
    const { token } = await this.tokens.auth(ref.teamId);
    await this.call(ref.teamId, () => this.client.chat.postEphemeral({ token, channel: ref.channelId, user: personId, ...renderPrivate(text) }));
  }

  async inGroup(workspace: string, personId: string, groupId: string): Promise<boolean> {
    const team = teamOf(workspace);
    if (!team) return false;
    const { token } = await this.tokens.auth(team);
    const res = await this.call(team, () => this.client.usergroups.users.list({ token, usergroup: groupId }));
    return ((res.users as string[] | undefined) ?? []).includes(personId);
  }

  private async authorize(source: AuthorizeSourceData<boolean>): Promise<AuthorizeResult> {
    if (!source.teamId) throw new ChatRejectedError('no_team', 'Slack request without a team id (org-wide installs are not supported yet)');
    const auth = await this.tokens.auth(source.teamId);
    return { botToken: auth.token, botUserId: auth.botUserId, botId: auth.botId, teamId: auth.teamId, enterpriseId: auth.enterpriseId };
  }

  private async publishHome(auth: BotAuth, userId: string): Promise<void> {
    if (!this.opts.db) return;
    const ws = workspaceId(auth.teamId);
    const view = await homeView(this.opts.db, ws, (id) => this.nameOf(ws, id));
    await this.call(auth.teamId, () => this.client.views.publish({ token: auth.token, user_id: userId, view }));
  }

  /** For the App Home: a name, or the id when Slack does not know it. */
  private async nameOf(workspace: string, personId: string): Promise<string> {
    if (personId === 'tacit') return 'Tacit';
    return (await this.personName(workspace, personId).catch(() => null)) ?? personId;
  }

  private async removed(teamId: string): Promise<void> {
    const had = await this.tokens.remove(teamId);
    this.opts.log.info({ workspaceId: workspaceId(teamId), hadTokens: had }, 'slack workspace uninstalled or its token revoked');
    await this.handlers?.workspaceRemoved(workspaceId(teamId));
  }

  /** Takes a post from the channel's bucket, or says how long to wait (the outbox delays and retries). */
  private takeSlot(channel: string): void {
    const now = (this.opts.now ?? Date.now)();
    const [interval, burst] = [this.opts.perChannelIntervalMs ?? 1_000, this.opts.perChannelBurst ?? 3];
    const last = this.buckets.get(channel) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, last.tokens + (now - last.at) / interval);
    if (tokens < 1) {
      const wait = Math.ceil((1 - tokens) * interval);
      throw new ChatRateLimitedError(wait, `waiting ${wait} ms for the channel's posting slot`);
    }
    if (this.buckets.size > 10_000) this.buckets.clear();
    this.buckets.set(channel, { tokens: tokens - 1, at: now });
  }

  private channel(id: string) {
    const ref = parseChannelId(id);
    if (!ref) throw new ChatRejectedError('bad_channel', `${id} is not a Slack channel id`);
    return ref;
  }

  /** A Web API call for a team; a refused token is forgotten so the next attempt re-reads (or refreshes) it. */
  private async call<T>(teamId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await callSlack(fn);
    } catch (err) {
      if (err instanceof ChatError && TOKEN_ERRORS.has(err.code)) this.tokens.forget(teamId);
      throw err;
    }
  }
}
