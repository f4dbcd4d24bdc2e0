// After downtime Slack's missed deliveries are gone: on start, each channel Tacit knows is read back
// (conversations.history, and conversations.replies for threads with new replies) from the newest
// message it ingested, and fed through the same handler as live traffic. Ingestion dedupes on the
// message id, so what was already seen is a harmless duplicate.
import type { WebClient } from '@slack/web-api';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { channels, events } from '../../db/schema.js';
import type { Logger } from '../../log.js';
import type { InboundHandlers } from '../port.js';
import { callSlack } from './calls.js';
import { parseSlackEvent, type SlackMessageEvent } from './parse.js';
import type { BotAuth, TokenSource } from './tokens.js';
import { parseChannelId, workspaceId } from './types.js';

export interface BackfillDeps {
  db: Db;
  client: WebClient;
  tokens: TokenSource;
  handlers: InboundHandlers;
  log: Logger;
  /** How far before the newest ingested message to look for threads that got new replies (default 3 days). */
  threadLookbackMs?: number;
  /** History pages (200 messages each) read per channel at most (default 5). */
  maxPages?: number;
}

interface HistoryMessage extends Omit<SlackMessageEvent, 'type' | 'channel'> {
  latest_reply?: string;
}

const seconds = (ts: string) => Number(ts.split('.')[0] ?? 0);

/** Returns how many messages were fed in again. */
export async function backfill(deps: BackfillDeps): Promise<number> {
  let fed = 0;
  for (const teamId of await deps.tokens.teams()) {
    try {
      fed += await backfillTeam(deps, await deps.tokens.auth(teamId));
    } catch (err) {
      deps.log.warn({ err, workspaceId: workspaceId(teamId) }, 'slack backfill failed for a workspace');
    }
  }
  return fed;
}

async function backfillTeam(deps: BackfillDeps, auth: BotAuth): Promise<number> {
  const ws = workspaceId(auth.teamId);
  const known = await deps.db.select({ id: channels.id }).from(channels).where(eq(channels.workspaceId, ws));
  const ids = known.map((c) => c.id).filter((id) => parseChannelId(id)?.teamId === auth.teamId);
  if (ids.length === 0) return 0;
  const channelOf = sql<string>`${events.payload}->>'channelId'`;
  const newest = await deps.db
    .select({ channel: channelOf, ts: sql<string>`max(${events.payload}->>'messageId')` })
    .from(events)
    .where(and(eq(events.workspaceId, ws), inArray(events.kind, ['chat.message', 'chat.mention']), inArray(channelOf, ids)))
    .groupBy(channelOf);
  let fed = 0;
  for (const { channel, ts } of newest) {
    const ref = parseChannelId(channel);
    if (!ref || !ts) continue;
    try {
      fed += await backfillChannel(deps, auth, ref.channelId, ts);
    } catch (err) {
      deps.log.warn({ err, workspaceId: ws, channelId: channel }, 'slack backfill failed for a channel');
    }
  }
  if (fed > 0) deps.log.info({ workspaceId: ws, messages: fed }, 'slack backfill fed missed messages');
  return fed;
}

async function backfillChannel(deps: BackfillDeps, auth: BotAuth, channel: string, newest: string): Promise<number> {
  const { client } = deps;
  const oldest = `${seconds(newest) - Math.floor((deps.threadLookbackMs ?? 3 * 86_400_000) / 1000)}.000000`;
  const top: HistoryMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (deps.maxPages ?? 5); page++) {
    const res = await callSlack(() => client.conversations.history({ token: auth.token, channel, oldest, limit: 200, cursor }));
    top.push(...((res.messages ?? []) as HistoryMessage[]));
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!res.has_more || !cursor) break;
  }
  const missed: HistoryMessage[] = top.filter((m) => m.ts > newest);
  for (const parent of top.filter((m) => m.latest_reply !== undefined && m.latest_reply > newest)) {
    const res = await callSlack(() => client.conversations.replies({ token: auth.token, channel, ts: parent.ts, oldest: newest, limit: 1000 }));
    missed.push(...((res.messages ?? []) as HistoryMessage[]).filter((m) => m.ts > newest && m.ts !== parent.ts));
  }
  missed.sort((a, b) => (a.ts < b.ts ? -1 : 1));
  let fed = 0;
  for (const m of missed) {
    const parsed = parseSlackEvent({ ...m, type: 'message', channel }, auth.teamId, auth.botUserId);
    if (parsed.kind !== 'message') continue;
    await deps.handlers.message(parsed.message);
    fed++;
  }
  return fed;
}
