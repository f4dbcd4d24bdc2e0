// The Slack adapter: Bolt receives events, interactivity and the slash command (HTTP at /slack/events on
// Tacit's own server, or Socket Mode when an app token is set); one Web API client sends, with the
// right team's bot token on every call. The outbox owns retries, so the client's own are off; every
// post carries the outbox key (message metadata, or the title of an uploaded file).
import { App, ExpressReceiver, SocketModeReceiver, type AuthorizeResult, type AuthorizeSourceData } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import express, { type Router } from 'express';
import { neutraliseMentions } from '../../core/mentions.js';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { ChatError, ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';
import type { ChatAdapter, InboundHandlers, PostedQuery, PostRequest } from '../port.js';
import { ackAfterProcessing } from './ack.js';
import { backfill, type HistoryTier } from './backfill.js';
import { callSlack, TOKEN_ERRORS } from './calls.js';
import { postedFileId, uploadFile, type MessageWithFiles } from './files.js';
import { eventErrorHandler, eventsGuard, socketErrorHandler } from './edge.js';
import { homeView } from './home.js';
import { registerInbound } from './inbound.js';
import { boltLogger } from './logger.js';
import { OUTBOX_EVENT_TYPE, escapeMrkdwn, renderMessage } from './render.js';
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
  now?: () => number;
}

/** Allowance for Slack's clock against ours when bounding the look-back for an earlier post. */
const LOOKUP_SKEW_MS = 60_000;
/** Slack's recommended page size; the 2026 tier for non-Marketplace apps answers at most 15 anyway. */
const LOOKUP_PAGE = 200;

/** A Slack timestamp (`seconds.micros`) for a time in milliseconds. */
function slackTs(ms: number): string {
  const at = Math.max(0, ms);
  return `${Math.floor(at / 1000)}.${String((at % 1000) * 1000).padStart(6, '0')}`;
}

type Receiver = InstanceType<typeof ExpressReceiver> | InstanceType<typeof SocketModeReceiver>;

export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly client: WebClient;
  readonly tokens: TokenSource;
  private readonly receiver: Receiver;
  private readonly app: InstanceType<typeof App>;
  /** Each channel's posting bucket (this process; Slack's 429 covers the rest). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private handlers: InboundHandlers | undefined;
  /** Earlier-post lookups cut short by a rate limit: where each goes on (this process; lost on restart). */
  private readonly lookups = new Map<string, string>();
  private backfilling: Promise<unknown> = Promise.resolve();
  /** The backfill can wait minutes for history slots; stopping does not wait for them. */
  private readonly stopping = new AbortController();

  constructor(private readonly opts: SlackOptions) {
    const logger = boltLogger(opts.log);
    const clientOptions = { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger };
    this.client = new WebClient(undefined, clientOptions);
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
    await this.tokens.teams(); // fails fast on a bad SLACK_BOT_TOKEN
    registerInbound({
      app: this.app, client: this.client, tokens: this.tokens, handlers, log: this.opts.log,
      publishHome: this.opts.db ? (auth, userId) => this.publishHome(auth, userId) : undefined,
      removed: (teamId) => this.removed(teamId),
    });
    // Rethrown so the receiver answers 503 (HTTP) or withholds the ack (Socket Mode): Slack retries.
    this.app.error(async (err) => {
      throw err;
    });
    if (this.receiver instanceof SocketModeReceiver) await this.app.start();
    const { db } = this.opts;
    if (db) {
      const history = { tier: this.opts.historyTier, signal: this.stopping.signal };
      this.backfilling = backfill({ db, client: this.client, tokens: this.tokens, handlers, log: this.opts.log, ...history }).catch((err: unknown) =>
        this.opts.log.warn({ err }, 'slack backfill failed'),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.backfilling;
    // In HTTP mode the server belongs to Tacit; a Socket Mode connection is ours to close.
    if (this.receiver instanceof SocketModeReceiver) await this.app.stop();
  }

  /** A workspace installed through OAuth: the heartbeat starts for it. */
  async installed(teamId: string, name: string): Promise<void> {
    this.tokens.forget(teamId);
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

  /**
   * Looks for a message carrying this outbox key (or a file titled with it) among the messages since
   * the first attempt: the thread's replies when given, else the channel's history, paged to the end
   * of that window however busy the channel was. A rate limit (Slack's 2026 tier for non-Marketplace
   * apps allows one history call a minute) keeps the cursor, so the next ask goes on from there.
   */
  async findPosted({ channelId: channel, idempotencyKey, threadId, since }: PostedQuery): Promise<MessageRef | null> {
    const ref = this.channel(channel);
    const { token } = await this.tokens.auth(ref.teamId);
    const oldest = slackTs(since.getTime() - LOOKUP_SKEW_MS);
    const lookup = `${channel}|${threadId ?? ''}|${idempotencyKey}`;
    let cursor = this.lookups.get(lookup);
    for (;;) {
      const args = { token, channel: ref.channelId, oldest, limit: LOOKUP_PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
      const res = threadId
        ? await this.call(ref.teamId, () => this.client.conversations.replies({ ...args, ts: threadId }))
        : await this.call(ref.teamId, () => this.client.conversations.history(args));
      const messages = (res.messages ?? []) as (MessageWithFiles & { metadata?: { event_type?: string; event_payload?: { idempotency_key?: string } } })[];
      const found = messages.find((m) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && m.metadata.event_payload?.idempotency_key === idempotencyKey)?.ts
        ?? postedFileId(messages, idempotencyKey);
      cursor = res.has_more ? res.response_metadata?.next_cursor || undefined : undefined;
      if (found || !cursor) {
        this.lookups.delete(lookup);
        return found ? { channelId: channel, messageId: found } : null;
      }
      if (this.lookups.size > 10_000) this.lookups.clear();
      this.lookups.set(lookup, cursor);
    }
  }

  async openDirect(workspace: string, personId: string): Promise<string> {
    const team = teamOf(workspace);
    if (!team) throw new ChatRejectedError('bad_workspace', `${workspace} is not a Slack workspace id`);
    const { token } = await this.tokens.auth(team);
    const res = await this.call(team, () => this.client.conversations.open({ token, users: personId }));
    const id = (res.channel as { id?: string } | undefined)?.id;
    if (!id) throw new ChatUnreachableError('no_channel', 'conversations.open returned no channel');
    return channelId(team, id);
  }

  async postPrivate(channel: string, personId: string, text: string): Promise<void> {
    const ref = this.channel(channel);
    const { token } = await this.tokens.auth(ref.teamId);
    await this.call(ref.teamId, () => this.client.chat.postEphemeral({ token, channel: ref.channelId, user: personId, text: neutraliseMentions(text) }));
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
    const view = await homeView(this.opts.db, workspaceId(auth.teamId));
    await this.call(auth.teamId, () => this.client.views.publish({ token: auth.token, user_id: userId, view }));
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
