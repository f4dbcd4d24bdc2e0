// The fake Slack's agent surfaces: chat.startStream / appendStream / stopStream (text streaming) and
// assistant.threads.setStatus, with the errors Slack documents (docs.slack.dev method pages): a stream
// must be a thread reply, names its recipient outside DMs, takes at most 12,000 characters a call,
// and ends about five minutes after it started (later appends: message_not_in_streaming_state).
import type { Metadata, SlackMessage } from './slack.js';

type Args = Record<string, unknown>;

/** One streamed message: what each call added, and whether Slack still takes appends. */
export interface StreamRecord {
  teamId: string; channel: string; ts: string; thread_ts: string;
  recipient_user_id?: string; recipient_team_id?: string;
  /** The markdown of chat.startStream first, then of each chat.appendStream. */
  parts: string[];
  appends: number;
  state: 'streaming' | 'stopped';
  startedAt: number;
}
/** A "working on it" line set in a thread (an empty status clears it). */
export interface ThreadStatus { teamId: string; channel: string; thread_ts: string; status: string; at: number }

interface TeamLike { teamId: string }
interface ChannelLike { id: string; user?: string; messages: SlackMessage[] }

export interface StreamHelpers<T extends TeamLike, C extends ChannelLike> {
  channelOf(team: T, id: string | undefined): C;
  store(team: T, ch: C, fields: Partial<SlackMessage> & { text: string }): SlackMessage;
  blocksOf(a: Args): unknown[] | undefined;
  metadataOf(a: Args): Metadata | undefined;
  fail(error: string): never;
  /** How long a stream takes appends (Slack: about five minutes). */
  lifetimeMs: number;
  /** Told when a stream stops: the whole message, as a post would have been recorded. */
  stopped(team: T, ch: C, msg: SlackMessage): void;
}

const MARKDOWN_LIMIT = 12_000;
const str = (a: Args, k: string): string | undefined => (['string', 'number', 'boolean'].includes(typeof a[k]) ? String(a[k]) : undefined);

export function streamMethods<T extends TeamLike, C extends ChannelLike>(h: StreamHelpers<T, C>) {
  const streams: StreamRecord[] = [];
  const statuses: ThreadStatus[] = [];
  const markdownOf = (a: Args, required: boolean): string => {
    const text = str(a, 'markdown_text');
    if (text === undefined) return required ? h.fail('invalid_arguments') : '';
    if (text.length > MARKDOWN_LIMIT) h.fail('msg_too_long');
    return text;
  };
  /** The open stream at `ts`, or Slack's error for why there is none. */
  const streaming = (team: T, a: Args): { ch: C; msg: SlackMessage; stream: StreamRecord } => {
    const ch = h.channelOf(team, str(a, 'channel'));
    const ts = str(a, 'ts') ?? h.fail('invalid_arguments');
    const msg = ch.messages.find((m) => m.ts === ts) ?? h.fail('message_not_found');
    const stream = streams.find((s) => s.teamId === team.teamId && s.channel === ch.id && s.ts === ts);
    if (stream && stream.state === 'streaming' && Date.now() - stream.startedAt > h.lifetimeMs) stream.state = 'stopped';
    if (!stream || stream.state !== 'streaming') return h.fail('message_not_in_streaming_state');
    return { ch, msg, stream };
  };
  const grow = (msg: SlackMessage, stream: StreamRecord, text: string) => {
    stream.parts.push(text);
    msg.text = stream.parts.join('');
    msg.blocks = [{ type: 'markdown', text: msg.text }, ...(msg.blocks ?? []).slice(1)];
  };

  const methods: Record<string, (team: T, a: Args) => Record<string, unknown>> = {
    'chat.startStream': (team, a) => {
      const ch = h.channelOf(team, str(a, 'channel'));
      // "Streamed messages should always be replies to a user request."
      const thread = str(a, 'thread_ts') ?? h.fail('invalid_arguments');
      if (!ch.messages.some((m) => m.ts === thread)) h.fail('invalid_thread_ts');
      const [user, recipientTeam] = [str(a, 'recipient_user_id'), str(a, 'recipient_team_id')];
      if (ch.user === undefined && !user) h.fail('missing_recipient_user_id');
      if (ch.user === undefined && !recipientTeam) h.fail('missing_recipient_team_id');
      const text = markdownOf(a, a.chunks === undefined);
      const msg = h.store(team, ch, { text, thread_ts: thread, blocks: [{ type: 'markdown', text }] });
      streams.push({ teamId: team.teamId, channel: ch.id, ts: msg.ts, thread_ts: thread, recipient_user_id: user, recipient_team_id: recipientTeam, parts: [text], appends: 0, state: 'streaming', startedAt: Date.now() });
      return { channel: ch.id, ts: msg.ts };
    },
    'chat.appendStream': (team, a) => {
      const { ch, msg, stream } = streaming(team, a);
      grow(msg, stream, markdownOf(a, true));
      stream.appends += 1;
      return { channel: ch.id, ts: msg.ts };
    },
    'chat.stopStream': (team, a) => {
      const { ch, msg, stream } = streaming(team, a);
      const text = markdownOf(a, false);
      if (text) grow(msg, stream, text);
      const [blocks, metadata] = [h.blocksOf(a), h.metadataOf(a)];
      if (blocks) msg.blocks = [...(msg.blocks ?? []).slice(0, 1), ...blocks];
      if (metadata) msg.metadata = metadata;
      stream.state = 'stopped';
      h.stopped(team, ch, msg);
      return { channel: ch.id, ts: msg.ts, message: { ...msg } };
    },
    'assistant.threads.setStatus': (team, a) => {
      const ch = h.channelOf(team, str(a, 'channel_id'));
      const thread = str(a, 'thread_ts') ?? h.fail('invalid_arguments');
      const status = str(a, 'status') ?? h.fail('invalid_arguments');
      if (!ch.messages.some((m) => m.ts === thread)) h.fail('invalid_thread_ts');
      statuses.push({ teamId: team.teamId, channel: ch.id, thread_ts: thread, status, at: Date.now() });
      return {};
    },
  };
  return { methods, streams, statuses };
}
