// Slack events into the neutral inbound model. Tacit's own messages and other bots' are dropped here,
// so nothing a bot says can wake a workspace; edits and deletions are reported as such.
import type { InboundMessage } from '../port.js';
import { channelId, workspaceId } from './types.js';

/** The parts of a Slack `message`/`app_mention` event Tacit reads (validated by Bolt's envelope). */
export interface SlackMessageEvent {
  type: 'message' | 'app_mention';
  subtype?: string;
  channel: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  message?: { user?: string; bot_id?: string; text?: string; ts: string; thread_ts?: string };
  previous_message?: { ts: string };
  deleted_ts?: string;
}

export type ParsedSlackEvent =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'edited'; message: InboundMessage }
  | { kind: 'deleted'; workspaceId: string; channelId: string; messageId: string }
  | { kind: 'ignored'; reason: string };

/** Subtypes that are people talking; everything else (joins, topic changes, bot posts) is ignored. */
const HUMAN_SUBTYPES = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message']);

export function parseSlackEvent(event: SlackMessageEvent, teamId: string, botUserId: string, userNames: Map<string, string> = new Map()): ParsedSlackEvent {
  const ws = workspaceId(teamId);
  const channel = channelId(teamId, event.channel);
  if (event.subtype === 'message_deleted') {
    const ts = event.deleted_ts ?? event.previous_message?.ts;
    return ts ? { kind: 'deleted', workspaceId: ws, channelId: channel, messageId: ts } : { kind: 'ignored', reason: 'deletion without ts' };
  }
  const edited = event.subtype === 'message_changed';
  const body = edited ? event.message : event;
  if (!body) return { kind: 'ignored', reason: 'no message body' };
  if (!edited && !HUMAN_SUBTYPES.has(event.subtype)) return { kind: 'ignored', reason: `subtype ${event.subtype}` };
  if (body.bot_id || !body.user) return { kind: 'ignored', reason: 'a bot wrote it' };
  if (body.user === botUserId) return { kind: 'ignored', reason: 'Tacit wrote it' };

  const raw = body.text ?? '';
  const mentionPattern = new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g');
  // A direct message (App Home's Messages tab, message.im) is always addressed to Tacit.
  const direct = /^D[A-Z0-9]+$/.test(event.channel);
  const mentionsTacit = event.type === 'app_mention' || direct || mentionPattern.test(raw);
  const message: InboundMessage = {
    workspaceId: ws,
    channelId: channel,
    messageId: body.ts,
    threadId: body.thread_ts && body.thread_ts !== body.ts ? body.thread_ts : null,
    author: { id: body.user, name: userNames.get(body.user) ?? body.user, isBot: false },
    text: raw.replace(mentionPattern, ' ').replace(/\s+/g, ' ').trim(),
    mentionsTacit,
    raw: event,
  };
  return edited ? { kind: 'edited', message } : { kind: 'message', message };
}
