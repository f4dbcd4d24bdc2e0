// After downtime Slack's missed deliveries are gone: on start, when the downtime was longer than Slack's
// retries cover (alive.ts), each channel Tacit knows is read back, most recently active first
// (conversations.history, and conversations.replies for threads where someone other than Tacit
// replied since) from the newest message it ingested, and fed through the same handler as live traffic.
// A restart without such a gap reads nothing. Ingestion dedupes on the
// message id, so what was already seen is a harmless duplicate. Best effort and budgeted per
// workspace: since 2026 Slack allows commercially distributed non-Marketplace apps one history read
// a minute with at most 15 messages (docs.slack.dev), so correctness never depends on it — events
// are stored before they are acknowledged and Slack retries the rest.
import type { WebClient } from '@slack/web-api';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { channels, events } from '../../db/schema.js';
import type { Logger } from '../../log.js';
import { ChatRateLimitedError } from '../errors.js';
import type { InboundHandlers } from '../port.js';
import { hasGap } from './alive.js';
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
  /** How much history Slack lets this app read (default `limited`, the strictest). */
  tier?: HistoryTier;
  /** Overrides the tier's budget (tests shorten the minute). */
  budget?: Partial<HistoryBudget>;
  /** Stops waiting for the next slot (Tacit is stopping). */
  signal?: AbortSignal;
  /** When this team was last heard before this start (alive.ts); absent: unknown, so always a gap. */
  lastHeard?: (teamId: string) => number | null;
}

export interface HistoryBudget {
  /** conversations.history and conversations.replies calls per minute, each method on its own. */
  requestsPerMinute: number;
  messagesPerRequest: number;
  /** Calls per workspace per backfill run, both methods together. */
  requestsPerRun: number;
}

/**
 * `limited`: commercially distributed apps outside the Marketplace (since 2025-05-29 for new apps,
 * 2026-03-03 for existing installs): 1 request a minute, 15 messages. `internal`: customer-built
 * (self-hosted) and Marketplace apps keep Tier 3 (about 50 a minute).
 */
export type HistoryTier = 'limited' | 'internal';
export const HISTORY_BUDGETS: Record<HistoryTier, HistoryBudget> = {
  limited: { requestsPerMinute: 1, messagesPerRequest: 15, requestsPerRun: 5 },
  internal: { requestsPerMinute: 50, messagesPerRequest: 200, requestsPerRun: 100 },
};

/** Paces one workspace's history reads within its budget; `take` is false once the run's budget is spent. */
class Pacer {
  private readonly nextAt = new Map<string, number>();
  private spent = 0;

  constructor(readonly budget: HistoryBudget, private readonly signal?: AbortSignal) {}

  async take(method: string): Promise<boolean> {
    if (this.spent >= this.budget.requestsPerRun || this.signal?.aborted) return false;
    const wait = (this.nextAt.get(method) ?? 0) - Date.now();
    if (wait > 0 && !(await pause(wait, this.signal))) return false;
    this.spent++;
    return true;
  }

  /** The window counts from Slack's answer, so a slow answer never makes the next call early. */
  answered(method: string): void {
    this.later(method, 60_000 / this.budget.requestsPerMinute);
  }

  /** Slack said 429 anyway (another process shares the limit): wait as long as it asks. */
  later(method: string, ms: number): void {
    this.nextAt.set(method, Math.max(this.nextAt.get(method) ?? 0, Date.now() + ms));
  }

  get used(): number {
    return this.spent;
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

/** One paced call; null when the budget is spent. A 429 is waited out once. */
async function paced<T>(pacer: Pacer, method: string, fn: () => Promise<T>): Promise<T | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!(await pacer.take(method))) return null;
    try {
      return await callSlack(fn);
    } catch (err) {
      if (!(err instanceof ChatRateLimitedError) || attempt > 0) throw err;
      pacer.later(method, err.retryAfterMs);
    } finally {
      pacer.answered(method);
    }
  }
  return null;
}

interface HistoryMessage extends Omit<SlackMessageEvent, 'type' | 'channel'> {
  latest_reply?: string;
  /** Who replied in the thread (history shows it on parents). */
  reply_users?: string[];
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
  if (deps.lastHeard && !hasGap(deps.lastHeard(auth.teamId), Date.now())) {
    deps.log.debug({ workspaceId: ws }, 'slack backfill skipped: Tacit was away for less than Slack retries cover');
    return 0;
  }
  const pacer = new Pacer({ ...HISTORY_BUDGETS[deps.tier ?? 'limited'], ...deps.budget }, deps.signal);
  const known = await deps.db.select({ id: channels.id }).from(channels).where(eq(channels.workspaceId, ws));
  const ids = known.map((c) => c.id).filter((id) => parseChannelId(id)?.teamId === auth.teamId);
  if (ids.length === 0) return 0;
  const channelOf = sql<string>`${events.payload}->>'channelId'`;
  const newest = await deps.db
    .select({ channel: channelOf, ts: sql<string>`max(${events.payload}->>'messageId')` })
    .from(events)
    .where(and(eq(events.workspaceId, ws), inArray(events.kind, ['chat.message', 'chat.mention']), inArray(channelOf, ids)))
    .groupBy(channelOf);
  // Most recently active first: within the history budget, the channels likeliest to have missed traffic.
  newest.sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
  let fed = 0;
  for (const { channel, ts } of newest) {
    const ref = parseChannelId(channel);
    if (!ref || !ts) continue;
    try {
      fed += await backfillChannel(deps, pacer, auth, ref.channelId, ts);
    } catch (err) {
      deps.log.warn({ err, workspaceId: ws, channelId: channel }, 'slack backfill failed for a channel');
    }
  }
  if (fed > 0 || pacer.used >= pacer.budget.requestsPerRun) {
    deps.log.info({ workspaceId: ws, messages: fed, requests: pacer.used, budget: pacer.budget }, 'slack backfill done (best effort, within the history budget)');
  }
  return fed;
}

async function backfillChannel(deps: BackfillDeps, pacer: Pacer, auth: BotAuth, channel: string, newest: string): Promise<number> {
  const { client } = deps;
  const limit = pacer.budget.messagesPerRequest;
  const oldest = `${seconds(newest) - Math.floor((deps.threadLookbackMs ?? 3 * 86_400_000) / 1000)}.000000`;
  const top: HistoryMessage[] = [];
  let cursor: string | undefined;
  // Newest first; pages go on only while they still hold messages newer than the newest ingested one.
  for (;;) {
    const res = await paced(pacer, 'conversations.history', () => client.conversations.history({ token: auth.token, channel, oldest, limit, cursor }));
    if (!res) break;
    const page = (res.messages ?? []) as HistoryMessage[];
    top.push(...page);
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!res.has_more || !cursor || page.every((m) => m.ts <= newest)) break;
  }
  const missed: HistoryMessage[] = top.filter((m) => m.ts > newest);
  // Threads only Tacit replied in hold nothing to ingest (its own messages never are): not read.
  const othersReplied = (m: HistoryMessage) => (m.reply_users ?? ['?']).some((u) => u !== auth.botUserId);
  for (const parent of top.filter((m) => m.latest_reply !== undefined && m.latest_reply > newest && othersReplied(m))) {
    const res = await paced(pacer, 'conversations.replies', () => client.conversations.replies({ token: auth.token, channel, ts: parent.ts, oldest: newest, limit }));
    if (!res) break;
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
