// The Slack adapter (single workspace, HTTP events): Bolt receives events, interactivity and the
// slash command on Tacit's own server at /slack/events; the Web API client sends. The outbox owns
// retries, so the client's own are off; every post carries the outbox key as message metadata.
import { App, ExpressReceiver } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPICallResult } from '@slack/web-api';
import type { Router } from 'express';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Logger } from '../../log.js';
import { ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';
import type { ChatAdapter, InboundHandlers, PostRequest } from '../port.js';
import { parseSlackEvent, type SlackMessageEvent } from './parse.js';
import { OUTBOX_EVENT_TYPE, renderMessage } from './render.js';
import { channelId, parseChannelId, teamOf, workspaceId } from './types.js';
import { neutraliseMentions } from '../../core/mentions.js';

export interface SlackOptions {
  botToken: string;
  signingSecret: string;
  apiUrl?: string;
  log: Logger;
  /** Slack allows about one message per second per channel; posts closer together wait. */
  perChannelIntervalMs?: number;
  now?: () => number;
}

/** Slack errors that no retry can fix. */
const PERMANENT = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked', 'msg_too_long', 'invalid_blocks', 'no_permission', 'missing_scope', 'message_not_found', 'cant_update_message']);

export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly client: WebClient;
  private readonly receiver: InstanceType<typeof ExpressReceiver>;
  private readonly app: InstanceType<typeof App>;
  private identity: { teamId: string; botUserId: string } | undefined;
  /** When each channel may take its next post (this process; Slack's 429 covers the rest). */
  private readonly nextSlot = new Map<string, number>();

  constructor(private readonly opts: SlackOptions) {
    this.client = new WebClient(opts.botToken, { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    this.receiver = new ExpressReceiver({ signingSecret: opts.signingSecret, endpoints: '/slack/events', processBeforeResponse: false });
    this.app = new App({ token: opts.botToken, receiver: this.receiver, clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true } });
  }

  /** Bolt's routes, mounted on Tacit's HTTP server. */
  routes(): Router {
    return this.receiver.router as unknown as Router;
  }

  get workspace(): string | undefined {
    return this.identity ? workspaceId(this.identity.teamId) : undefined;
  }

  async start(handlers: InboundHandlers): Promise<void> {
    const auth = await this.call(() => this.client.auth.test());
    const teamId = String(auth.team_id);
    const botUserId = String(auth.user_id);
    this.identity = { teamId, botUserId };

    const onMessage = async (event: SlackMessageEvent) => {
      const parsed = parseSlackEvent(event, teamId, botUserId);
      if (parsed.kind === 'message') await handlers.message(parsed.message);
    };
    // Slack retries deliveries it thinks failed (X-Slack-Retry-Num); events are stored with a
    // dedupe key, so a retry is a duplicate, never a second effect.
    this.app.event('app_mention', async ({ event }) => onMessage(event as unknown as SlackMessageEvent));
    this.app.event('message', async ({ event }) => {
      // Mentions also arrive as app_mention; the message copy is ingested as channel traffic.
      await onMessage({ ...(event as unknown as SlackMessageEvent), type: 'message' });
    });
    this.app.action(/.*/, async ({ ack, body, action, respond }) => {
      await ack(); // within Slack's 3 s; the work happens after
      const b = body as unknown as { user: { id: string; username?: string; name?: string }; channel?: { id: string }; message?: { ts: string } };
      const a = action as unknown as { action_id: string; value?: string };
      const response = await handlers.interaction({
        workspaceId: workspaceId(teamId), channelId: channelId(teamId, b.channel?.id ?? ''), messageId: b.message?.ts ?? '',
        actionId: a.action_id, value: a.value ?? '', user: { id: b.user.id, name: b.user.username ?? b.user.name ?? b.user.id }, raw: body,
      });
      if (response.privateText) await respond({ response_type: 'ephemeral', replace_original: false, text: response.privateText });
    });
    this.app.command('/tacit', async ({ ack, command, respond }) => {
      await ack();
      const response = await handlers.command({
        workspaceId: workspaceId(teamId), channelId: channelId(teamId, command.channel_id), user: { id: command.user_id, name: command.user_name },
        text: command.text, raw: command,
      });
      await respond({ response_type: 'ephemeral', text: response.privateText ?? 'Done.' });
    });
    this.app.error(async (err) => this.opts.log.error({ err }, 'slack handler failed'));
  }

  async stop(): Promise<void> {
    // The HTTP server belongs to Tacit; nothing else to close.
  }

  async post(request: PostRequest): Promise<MessageRef> {
    const ref = this.channel(request.channelId);
    this.takeSlot(request.channelId);
    const body = renderMessage(request.message, request.idempotencyKey);
    const res = await this.call(() => this.client.chat.postMessage({ channel: ref.channelId, thread_ts: request.threadId, ...body }));
    return { channelId: request.channelId, messageId: String(res.ts) };
  }

  async update(target: MessageRef, message: OutgoingMessage): Promise<void> {
    const ref = this.channel(target.channelId);
    const { text, blocks } = renderMessage(message);
    await this.call(() => this.client.chat.update({ channel: ref.channelId, ts: target.messageId, text, blocks }));
  }

  /** Looks through the channel's recent history for a message carrying this outbox key. */
  async findPosted(channel: string, idempotencyKey: string): Promise<MessageRef | null> {
    const ref = this.channel(channel);
    const res = await this.call(() => this.client.conversations.history({ channel: ref.channelId, limit: 100, include_all_metadata: true }));
    const messages = (res.messages ?? []) as { ts?: string; metadata?: { event_type?: string; event_payload?: { idempotency_key?: string } } }[];
    const found = messages.find((m) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && m.metadata.event_payload?.idempotency_key === idempotencyKey);
    return found?.ts ? { channelId: channel, messageId: found.ts } : null;
  }

  async openDirect(workspace: string, personId: string): Promise<string> {
    const team = teamOf(workspace);
    if (!team) throw new ChatRejectedError('bad_workspace', `${workspace} is not a Slack workspace id`);
    const res = await this.call(() => this.client.conversations.open({ users: personId }));
    const id = (res.channel as { id?: string } | undefined)?.id;
    if (!id) throw new ChatUnreachableError('no_channel', 'conversations.open returned no channel');
    return channelId(team, id);
  }

  async postPrivate(channel: string, personId: string, text: string): Promise<void> {
    const ref = this.channel(channel);
    await this.call(() => this.client.chat.postEphemeral({ channel: ref.channelId, user: personId, text: neutraliseMentions(text) }));
  }

  async inGroup(_workspace: string, personId: string, groupId: string): Promise<boolean> {
    const res = await this.call(() => this.client.usergroups.users.list({ usergroup: groupId }));
    return ((res.users as string[] | undefined) ?? []).includes(personId);
  }

  /** Reserves the channel's next posting slot, or says how long to wait (the outbox delays and retries). */
  private takeSlot(channel: string): void {
    const now = (this.opts.now ?? Date.now)();
    const next = this.nextSlot.get(channel) ?? 0;
    if (next > now) throw new ChatRateLimitedError(next - now, `waiting ${next - now} ms for the channel's posting slot`);
    this.nextSlot.set(channel, now + (this.opts.perChannelIntervalMs ?? 1_000));
    if (this.nextSlot.size > 10_000) this.nextSlot.clear();
  }

  private channel(id: string) {
    const ref = parseChannelId(id);
    if (!ref) throw new ChatRejectedError('bad_channel', `${id} is not a Slack channel id`);
    return ref;
  }

  /** Maps the Web API's errors onto the outbox's: rejected (final), rate-limited, unreachable. */
  private async call<T extends WebAPICallResult>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
      if (e.code === ErrorCode.RateLimitedError) throw new ChatRateLimitedError((e.retryAfter ?? 1) * 1000);
      if (e.code === ErrorCode.PlatformError) {
        const code = e.data?.error ?? 'unknown_error';
        if (PERMANENT.has(code)) throw new ChatRejectedError(code, `Slack refused: ${code}`);
        throw new ChatUnreachableError(code, `Slack error: ${code}`);
      }
      throw new ChatUnreachableError('unreachable', `Slack unreachable: ${e.message ?? String(err)}`, { cause: err });
    }
  }
}
