// Answers streamed into their thread (docs.slack.dev, "text streaming"): chat.startStream with the
// first part, chat.appendStream for each next one, chat.stopStream with the footer blocks and the
// outbox key as metadata, so the answer ends as one message a retry can find. Slack refuses streams
// on some surfaces and ends each one about five minutes after it began: refused at the start, the
// answer is posted and then edited to its whole text; cut off midway, the streamed message is edited.
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import type { OutgoingMessage } from '../../core/message.js';
import { ChatError, ChatRateLimitedError, ChatRejectedError } from '../errors.js';
import { OUTBOX_EVENT_TYPE, renderBlocks, renderMessage, streamChunks } from './render.js';

export interface StreamedAnswer {
  client: WebClient;
  token: string;
  channel: string;
  threadTs: string;
  /** Who asked: Slack streams to one recipient (required outside DMs). */
  recipient: { userId: string; teamId: string };
  message: OutgoingMessage;
  idempotencyKey: string;
  /** The adapter's call wrapper (errors mapped to rejected / unreachable / rate-limited). */
  call<T>(fn: () => Promise<T>): Promise<T>;
  /** Told when the stream was refused or cut off and the fallback ran. */
  onFallback?(why: string): void;
}

/** The answer's Markdown (its first model-written section) and the blocks that follow it. */
function split(message: OutgoingMessage): { markdown: string; after: KnownBlock[] } {
  const blocks = message.blocks ?? [];
  const at = blocks.findIndex((b) => b.kind === 'section' && b.markdown);
  const body = blocks[at];
  if (at < 0 || body?.kind !== 'section') return { markdown: message.text, after: renderBlocks(blocks) };
  return { markdown: body.text, after: renderBlocks(blocks.filter((_, i) => i !== at)) };
}

/** Slack answered and refused (any error code but a rate limit), as opposed to not answering at all. */
function refused(err: unknown): err is ChatError {
  return err instanceof ChatError && !(err instanceof ChatRateLimitedError) && err.code !== 'unreachable' && err.code !== 'fatal_error';
}

/**
 * Whether an answer may be streamed: chat.startStream takes no unfurl flags (unlike chat.postMessage),
 * so an answer quoting a link is posted with unfurls off instead of streamed.
 */
export function streamable(message: OutgoingMessage): boolean {
  return !message.file && !/[a-z][a-z0-9+.-]*:\/\/|\bwww\./i.test(split(message).markdown);
}

/** Streams the answer; returns its message ts. */
export async function streamAnswer(a: StreamedAnswer): Promise<string> {
  const { client, token, channel, call } = a;
  const { markdown, after } = split(a.message);
  const [first = '…', ...rest] = streamChunks(markdown);
  const metadata = { event_type: OUTBOX_EVENT_TYPE, event_payload: { idempotency_key: a.idempotencyKey } };
  const whole = renderMessage(a.message, a.idempotencyKey);
  let ts: string;
  try {
    const started = await call(() =>
      client.chat.startStream({ token, channel, thread_ts: a.threadTs, recipient_user_id: a.recipient.userId, recipient_team_id: a.recipient.teamId, markdown_text: first }),
    );
    ts = String(started.ts ?? '');
    if (!ts) throw new ChatRejectedError('no_ts', 'chat.startStream returned no ts');
  } catch (err) {
    // Slack said no (a surface without streaming, a missing recipient…): post the first part, then edit
    // to the whole. Rate-limited or unreachable: nothing was shown, the outbox retries.
    if (!refused(err)) throw err;
    a.onFallback?.(err.code);
    const posted = await call(() =>
      client.chat.postMessage({ token, channel, thread_ts: a.threadTs, text: whole.text, blocks: [{ type: 'markdown', text: first }], metadata, unfurl_links: false, unfurl_media: false }),
    );
    const postedTs = String(posted.ts ?? '');
    await call(() => client.chat.update({ token, channel, ts: postedTs, text: whole.text, blocks: whole.blocks, metadata }));
    return postedTs;
  }
  try {
    for (const part of rest) await call(() => client.chat.appendStream({ token, channel, ts, markdown_text: part }));
    await call(() => client.chat.stopStream({ token, channel, ts, ...(after.length > 0 ? { blocks: after } : {}), metadata }));
  } catch (err) {
    // The stream ended under us (message_not_in_streaming_state after ~5 min) or a call failed midway:
    // the message exists, so it is edited to the whole answer rather than posted again.
    a.onFallback?.(err instanceof ChatError ? err.code : 'stream_interrupted');
    // A stream still open (a failed append) is closed first, so the edit is not refused; one already
    // over refuses this stop, which is fine.
    await call(() => client.chat.stopStream({ token, channel, ts })).catch(() => undefined);
    await call(() => client.chat.update({ token, channel, ts, text: whole.text, blocks: whole.blocks, metadata }));
  }
  return ts;
}
