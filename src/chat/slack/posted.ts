// The earlier-post lookup behind `findPosted`: a message carrying the outbox key (message metadata, or
// the title of an uploaded file) among the messages since the first attempt — the thread's replies
// when given, else the channel's history, paged to the end of that window however busy the channel
// was. A rate limit (Slack's 2026 tier for non-Marketplace apps allows one history call a minute)
// keeps the cursor, so the next ask goes on from there.
import type { WebClient } from '@slack/web-api';
import type { PostedQuery } from '../port.js';
import { postedFileId, type MessageWithFiles } from './files.js';
import { OUTBOX_EVENT_TYPE } from './render.js';

/** Allowance for Slack's clock against ours when bounding the look-back for an earlier post. */
const LOOKUP_SKEW_MS = 60_000;
/** Slack's recommended page size; the 2026 tier for non-Marketplace apps answers at most 15 anyway. */
const LOOKUP_PAGE = 200;

/** A Slack timestamp (`seconds.micros`) for a time in milliseconds. */
function slackTs(ms: number): string {
  const at = Math.max(0, ms);
  return `${Math.floor(at / 1000)}.${String((at % 1000) * 1000).padStart(6, '0')}`;
}

type Found = MessageWithFiles & { metadata?: { event_type?: string; event_payload?: { idempotency_key?: string } } };

export class EarlierPosts {
  /** Lookups cut short by a rate limit: where each goes on (this process; lost on restart). */
  private readonly lookups = new Map<string, string>();

  constructor(private readonly client: WebClient) {}

  /** The earlier post's ts, or null. `channel` is Slack's own id; `call` maps the Web API's errors. */
  async find(q: PostedQuery & { token: string; channel: string }, call: <T>(fn: () => Promise<T>) => Promise<T>): Promise<string | null> {
    const { token, channel, threadId, idempotencyKey } = q;
    const oldest = slackTs(q.since.getTime() - LOOKUP_SKEW_MS);
    const lookup = `${q.channelId}|${threadId ?? ''}|${idempotencyKey}`;
    let cursor = this.lookups.get(lookup);
    for (;;) {
      const args = { token, channel, oldest, limit: LOOKUP_PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
      const res = threadId
        ? await call(() => this.client.conversations.replies({ ...args, ts: threadId }))
        : await call(() => this.client.conversations.history(args));
      const messages = (res.messages ?? []) as Found[];
      const found = messages.find((m) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && m.metadata.event_payload?.idempotency_key === idempotencyKey)?.ts
        ?? postedFileId(messages, idempotencyKey);
      cursor = res.has_more ? res.response_metadata?.next_cursor || undefined : undefined;
      if (found || !cursor) {
        this.lookups.delete(lookup);
        return found ?? null;
      }
      if (this.lookups.size > 10_000) this.lookups.clear();
      this.lookups.set(lookup, cursor);
    }
  }
}
