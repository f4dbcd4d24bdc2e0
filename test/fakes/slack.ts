// A local Slack for the real @slack/web-api WebClient and Bolt app: the Web API methods Tacit uses, with Slack's
// response shapes and errors, recorded for assertions; and a sender of signed events, interactions and slash commands.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { streamMethods, type StreamRecord, type ThreadStatus } from './slack-streams.js';

export type { StreamRecord, ThreadStatus } from './slack-streams.js';

/** `members` omitted: everyone is in, the bot included; given: exactly these users (list the bot user to keep it in). */
export interface FakeChannel { id: string; name: string; members?: string[] }
/**
 * `teamId` is the user's home workspace (defaults to the team's); another team's id makes a Slack Connect user.
 * `role` is what users.info reports: `admin` (is_admin), `owner` (is_owner, is_admin), `guest` (is_restricted,
 * a multi-channel guest) or `single-channel-guest` (is_restricted and is_ultra_restricted); default a member.
 */
export interface FakeUser { id: string; name: string; teamId?: string; role?: 'member' | 'admin' | 'owner' | 'guest' | 'single-channel-guest' }
/** `groups`: user group id → member ids (usergroups.users.list). */
export interface FakeTeam { teamId: string; name?: string; botToken: string; botUserId: string; channels: FakeChannel[]; users?: FakeUser[]; groups?: Record<string, string[]> }
/** The app's OAuth credentials; `expiresInSeconds` turns token rotation on (12 h on Slack). */
export interface FakeOAuth { clientId: string; clientSecret: string; expiresInSeconds?: number }
/** One oauth.v2.access exchange the fake answered: an install (`code`) or a rotation (`refresh_token`). */
export interface TokenGrant { teamId: string; grant: 'authorization_code' | 'refresh_token'; accessToken: string; refreshToken?: string }
export interface SocketAck { envelope_id: string; payload?: unknown }

export type Metadata = { event_type: string; event_payload: unknown };
/** A message as conversations.history returns it. */
export interface SlackMessage {
  type: 'message'; ts: string; user: string; text: string; team: string;
  bot_id?: string; app_id?: string; subtype?: string; thread_ts?: string; blocks?: unknown[];
  metadata?: Metadata; files?: Array<Record<string, unknown>>; upload?: boolean; edited?: { user: string; ts: string };
}
interface Content { text?: string; blocks?: unknown[] }
export interface Post extends Content {
  teamId: string; channel: string; ts: string; thread_ts?: string;
  metadata?: Metadata; unfurl_links?: boolean; unfurl_media?: boolean; reply_broadcast?: boolean;
  /** `Date.now()` when the fake accepted it (benchmarks measure to here). */
  receivedAt: number;
}
export interface Update extends Content { teamId: string; channel: string; ts: string; metadata?: Metadata }
export interface Ephemeral extends Content { teamId: string; channel: string; user: string; message_ts: string; thread_ts?: string }
/** `length` as declared, `content` as uploaded; `channel`, `thread_ts`, `initial_comment`, `ts` set once completed into a channel. */
export interface UploadedFile {
  id: string; teamId: string; filename: string; length: number; content: Buffer;
  title?: string; channel?: string; thread_ts?: string; initial_comment?: string; ts?: string;
}
export interface PublishedView { teamId: string; userId: string; view: Record<string, unknown> }
/** A modal opened with views.open: for whom (the user of the trigger), its id and the view as sent. */
export interface OpenedModal { teamId: string; userId: string; viewId: string; view: Record<string, unknown> }
/** What a person enters in a modal before pressing Submit: `view.state.values` as Slack sends it. */
export type ModalValues = Record<string, Record<string, Record<string, unknown>>>;
export interface ResponseUrlPost { url: string; body: unknown }
/** Tacit's answer to an inbound request. */
export interface InboundResponse { status: number; body: string }
/** `timestampSkewSeconds` is added to now: -301 makes a request older than Slack's 5-minute window. */
export interface SignOptions { timestampSkewSeconds?: number }
/** `eventId`: reuse an earlier delivery's id to send a Slack retry (with `retryNum`). */
export interface EventOptions extends SignOptions { teamId?: string; eventId?: string; retryNum?: number; retryReason?: string }
/** `user_team_id` is the clicking user's home workspace (a Slack Connect user's differs from `team_id`). */
export interface ButtonClick extends SignOptions {
  user_id: string; user_name?: string; user_team_id?: string; team_id?: string;
  channel_id: string; message_ts: string; action_id: string; value: string; block_id?: string;
}
/** `command` defaults to `/tacit`, `team_id` to the first team, `response_url` to one on the fake. */
export interface SlashCommand extends SignOptions {
  command?: string; text: string; user_id: string; user_name?: string; channel_id: string; team_id?: string; response_url?: string;
}

export interface FakeSlack {
  url: string;
  /** Give this to the WebClient as `slackApiUrl` (Bolt: `clientOptions.slackApiUrl`). */
  apiUrl: string;
  teams: FakeTeam[];
  /**
   * Recorded in arrival order; `posts` holds every chat.postMessage the fake accepted (crashed answers
   * included), and each streamed answer once chat.stopStream completed it.
   */
  posts: Post[];
  updates: Update[];
  ephemerals: Ephemeral[];
  files: UploadedFile[];
  views: PublishedView[];
  /** Modals opened with views.open (Slack refuses a trigger_id that is unknown, used, or older than 3 s). */
  modals: OpenedModal[];
  /** Answers streamed with chat.startStream/appendStream/stopStream, each with its parts. */
  streams: StreamRecord[];
  /** assistant.threads.setStatus calls, in order. */
  statuses: ThreadStatus[];
  /** The person submits an open modal: a signed view_submission, as Slack sends it. */
  submitView(targetUrl: string, signingSecret: string, viewId: string, values: ModalValues, opts?: SignOptions): Promise<InboundResponse>;
  /** Bodies POSTed to response_urls handed out by sendInteraction and sendSlashCommand. */
  responses: ResponseUrlPost[];
  /** Every request to the method, rejected ones included; without a method, every Web API request. */
  calls(method?: string): number;
  /** Requests of the method answered 429 (rateLimit, the history tier or the channel post limit); without a method, all. */
  throttled(method?: string): number;
  /** The channel's messages as stored now (edits applied), oldest first, thread replies included. */
  history(channel: string, teamId?: string): SlackMessage[];
  /** A person writes in a channel without an event being sent (as while Tacit was down). */
  say(channel: string, user: string, text: string, opts?: { thread_ts?: string; teamId?: string }): SlackMessage;
  rateLimit(method: string, opts: { times: number; retryAfterSeconds: number }): void;
  failNext(method: string, failure: string | { status: number }): void;
  /** The next call takes effect, then its connection is destroyed before Slack's answer is sent. */
  crashAfterAccept(method: string): void;
  /** Every later call of the method takes effect at once but is answered only after `ms` (a slow Slack). */
  slowAnswers(method: string, ms: number): void;
  /** Resolves when the next call of the method has taken effect (its answer may still be on its way). */
  accepted(method: string): Promise<void>;
  /** Resolves with the first delivery's answer; Slack's retries of a failed one follow in the background. */
  sendEvent(targetUrl: string, signingSecret: string, event: Record<string, unknown>, opts?: EventOptions): Promise<InboundResponse & { eventId: string }>;
  /** Every event delivery, retries included, in order. */
  eventDeliveries: EventDelivery[];
  /** The last delivery of an event once Slack stopped: answered 2xx, told not to retry, or out of retries. */
  eventSettled(eventId: string): Promise<EventDelivery>;
  sendInteraction(targetUrl: string, signingSecret: string, click: ButtonClick): Promise<InboundResponse & { responseUrl: string }>;
  sendSlashCommand(targetUrl: string, signingSecret: string, command: SlashCommand): Promise<InboundResponse & { responseUrl: string }>;
  /** oauth.v2.access exchanges answered (failed ones are not recorded). */
  grants: TokenGrant[];
  /**
   * A person installs the app into `teamId` as a browser would: GET Tacit's install URL (keeping its state
   * cookie), Slack's consent page approves, and the browser follows the redirect back with code and state.
   */
  installApp(installUrl: string, opts: { teamId: string; userId?: string }): Promise<InboundResponse>;
  /** Revokes every token of the team, as uninstalling does (the app_uninstalled event is sent separately). */
  uninstall(teamId: string): void;
  /** Access tokens superseded by a refresh stop working now (Slack lets them live until their expiry). */
  expireReplacedTokens(teamId: string): void;
  /** Socket Mode: resolves once Tacit's client holds an open connection (after `hello`). */
  socketConnected(): Promise<void>;
  /**
   * Sends an envelope over the open Socket Mode connection; resolves with Tacit's ack, rejects when none
   * came within 3 s (Slack then redelivers: send it again with `retryAttempt`).
   */
  sendSocket(type: 'events_api' | 'interactive' | 'slash_commands', payload: Record<string, unknown>, opts?: { retryAttempt?: number; retryReason?: string }): Promise<SocketAck>;
  /** The events_api payload for an event, as sendEvent would POST it. */
  eventEnvelope(event: Record<string, unknown>, opts?: { teamId?: string; eventId?: string }): Record<string, unknown>;
  close(): Promise<void>;
}

export const DEFAULT_TEAM: FakeTeam = {
  teamId: 'T0TACIT01', botToken: 'xoxb-fake-tacit-01', botUserId: 'U0TACITBOT', channels: [{ id: 'C0GENERAL', name: 'general' }], users: [{ id: 'U0ALICE', name: 'alice', role: 'admin' }],
};
const APP_ID = 'A0TACIT';
const VERIFICATION_TOKEN = 'fake-verification-token';

/** `v0=` hex HMAC-SHA256 over `v0:<timestamp>:<raw body>` (https://api.slack.com/authentication/verifying-requests-from-slack). */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

interface Channel { id: string; name: string; members?: Set<string>; user?: string; messages: SlackMessage[] }
interface Team { teamId: string; name: string; botToken: string; botUserId: string; botId: string; channels: Map<string, Channel>; users: Map<string, FakeUser>; groups: Record<string, string[]> }
/** A token issued through OAuth: valid until `expiresAtMs`; `replaced` once a refresh superseded it. */
interface Issued { team: Team; expiresAtMs?: number; replaced?: boolean }
type Args = Record<string, unknown>;
type Method = (team: Team, args: Args) => Record<string, unknown>;

/**
 * Rate limits of conversations.history and conversations.replies (docs.slack.dev, 2026): `internal`
 * (customer-built and Marketplace apps) keeps the old tier; `non-marketplace` (commercially distributed
 * outside the Marketplace) gets one request per minute per method and workspace, at most 15 messages each.
 */
export type HistoryTier = 'internal' | 'non-marketplace';
export interface FakeSlackOptions {
  teams?: FakeTeam[];
  oauth?: FakeOAuth;
  appToken?: string;
  historyTier?: HistoryTier;
  /** The non-marketplace tier's window (Slack: a minute); tests shorten it. */
  historyWindowMs?: number;
  /**
   * Slack retries an event delivery not answered 2xx within 3 s, up to 3 times: at once, after about a
   * minute and after about five (the default). Tests compress the schedule; `[]` turns retries off.
   */
  eventRetryDelaysMs?: number[];
  /** How long a stream takes appends (Slack: about five minutes). */
  streamLifetimeMs?: number;
  /**
   * chat.postMessage's special tier (docs.slack.dev, rate limits): about one message per second per channel,
   * short bursts allowed. Given, each channel has a bucket of `burst` posts refilled one per `intervalMs`; a
   * post beyond it is answered 429 with Retry-After in whole seconds. Off by default.
   */
  channelPostLimit?: { intervalMs: number; burst: number };
}
/** One POST of an event to Tacit: `status` 0 when Tacit did not answer within 3 s or could not be reached. */
export interface EventDelivery { eventId: string; retryNum: number; retryReason?: string; status: number; body: string; at: number }
const LIMITED_HISTORY_PAGE = 15;

/** Answered 429 with Retry-After, as Slack answers a call over its method's rate limit. */
class Throttled extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('ratelimited');
  }
}

class ApiError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}
const fail = (error: string): never => {
  throw new ApiError(error);
};
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const newId = (prefix: string): string => prefix + randomBytes(6).toString('hex').toUpperCase();
// Form bodies carry every value as a string; JSON bodies carry real types.
const str = (a: Args, k: string): string | undefined => (['string', 'number', 'boolean'].includes(typeof a[k]) ? String(a[k]) : undefined);
const FLAGS: Record<string, boolean> = { true: true, 1: true, false: false, 0: false };
const flag = (a: Args, k: string): boolean | undefined => FLAGS[str(a, k) ?? ''];
const json = (a: Args, k: string, error: string): unknown => {
  const v = a[k];
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return fail(error);
  }
};
const blocksOf = (a: Args): unknown[] | undefined => {
  const b = json(a, 'blocks', 'invalid_blocks_format');
  return b === undefined || Array.isArray(b) ? b : fail('invalid_blocks_format');
};
const metadataOf = (a: Args): Metadata | undefined => {
  const m = json(a, 'metadata', 'invalid_metadata_format');
  if (m === undefined) return undefined;
  return isRecord(m) && typeof m.event_type === 'string' ? { event_type: m.event_type, event_payload: m.event_payload ?? {} } : fail('invalid_metadata_format');
};
const micros = (ts: string): number => {
  const [s = '0', f = ''] = ts.split('.');
  return Number(s) * 1e6 + Number(f.padEnd(6, '0').slice(0, 6));
};
const tsOf = (m: number): string => `${Math.floor(m / 1e6)}.${String(m % 1e6).padStart(6, '0')}`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** `appToken`: the xapp- token apps.connections.open accepts (Socket Mode). */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamList = opts.teams ?? [DEFAULT_TEAM];
  const teams = new Map<string, Team>(
    teamList.map((t) => {
      const users = new Map((t.users ?? []).map((u) => [u.id, { ...u, teamId: u.teamId ?? t.teamId }]));
      if (!users.has(t.botUserId)) users.set(t.botUserId, { id: t.botUserId, name: 'tacit', teamId: t.teamId });
      const channels = new Map(t.channels.map((c): [string, Channel] => [c.id, { id: c.id, name: c.name, messages: [], ...(c.members ? { members: new Set(c.members) } : {}) }]));
      return [t.botToken, { teamId: t.teamId, name: t.name ?? t.teamId.toLowerCase(), botToken: t.botToken, botUserId: t.botUserId, botId: `B${t.botUserId.slice(1)}`, channels, users, groups: t.groups ?? {} }];
    }),
  );
  const [posts, updates, ephemerals]: [Post[], Update[], Ephemeral[]] = [[], [], []];
  const [files, views, responses]: [UploadedFile[], PublishedView[], ResponseUrlPost[]] = [[], [], []];
  const modals: OpenedModal[] = [];
  /** trigger_ids handed out with commands and clicks: valid for 3 s, once (docs.slack.dev, "Handling user interaction"). */
  const triggers = new Map<string, { teamId: string; userId: string; issuedAt: number }>();
  const newTrigger = (teamId: string, userId: string): string => {
    const id = `${Date.now()}.${newId('')}`;
    triggers.set(id, { teamId, userId, issuedAt: Date.now() });
    return id;
  };
  const counts = new Map<string, number>();
  const throttledCounts = new Map<string, number>();
  const throttle = (method: string) => void throttledCounts.set(method, (throttledCounts.get(method) ?? 0) + 1);
  const total = (m: Map<string, number>, method?: string) => (method === undefined ? [...m.values()].reduce((a, b) => a + b, 0) : (m.get(method) ?? 0));
  /** Each channel's chat.postMessage bucket (channelPostLimit). */
  const postBuckets = new Map<string, { tokens: number; at: number }>();
  const takePostSlot = (team: Team, ch: Channel): void => {
    const limit = opts.channelPostLimit;
    if (!limit) return;
    const now = Date.now();
    const key = `${team.teamId}/${ch.id}`;
    const last = postBuckets.get(key) ?? { tokens: limit.burst, at: now };
    const tokens = Math.min(limit.burst, last.tokens + (now - last.at) / limit.intervalMs);
    if (tokens < 1) throw new Throttled(Math.max(1, Math.ceil(((1 - tokens) * limit.intervalMs) / 1000)));
    postBuckets.set(key, { tokens: tokens - 1, at: now });
  };
  const limits = new Map<string, { times: number; retryAfterSeconds: number }>();
  const failures = new Map<string, Array<string | { status: number }>>();
  const crashes = new Set<string>();
  const slow = new Map<string, number>();
  const acceptWaiters = new Map<string, Array<() => void>>();
  /** History reads per method and team in the current window (non-marketplace tier). */
  const historyReads = new Map<string, number[]>();
  /** The non-marketplace tier: one read per method and team per window, else 429 with Retry-After. */
  const historyPage = (method: string, team: Team, asked: number): number => {
    if (opts.historyTier !== 'non-marketplace') return asked;
    const windowMs = opts.historyWindowMs ?? 60_000;
    const now = Date.now();
    const key = `${method}:${team.teamId}`;
    const recent = (historyReads.get(key) ?? []).filter((at) => now - at < windowMs);
    const first = recent[0];
    if (first !== undefined) throw new Throttled(Math.max(1, Math.ceil((first + windowMs - now) / 1000)));
    historyReads.set(key, [...recent, now]);
    return Math.min(asked, LIMITED_HISTORY_PAGE);
  };
  let url = '';
  let lastMicros = 0;
  // Real-clock timestamps, strictly increasing, so `oldest`/`latest` cursors computed by Tacit behave as on Slack.
  const nextTs = (): string => tsOf((lastMicros = Math.max(Date.now() * 1000, lastMicros + 100)));

  const teamById = (teamId?: string): Team => {
    const team = [...teams.values()].find((t) => teamId === undefined || t.teamId === teamId);
    return team ?? fail(`fake Slack has no team ${teamId ?? ''}`);
  };
  const channelOf = (team: Team, id: string | undefined, needMember = true): Channel => {
    const ch = id === undefined ? undefined : (team.channels.get(id) ?? [...team.channels.values()].find((c) => c.name === id.replace(/^#/, '')));
    if (!ch) return fail('channel_not_found');
    if (needMember && ch.members && !ch.members.has(team.botUserId)) return fail('not_in_channel');
    return ch;
  };
  const store = (team: Team, ch: Channel, fields: Partial<SlackMessage> & { text: string }, user = team.botUserId): SlackMessage => {
    const bot = user === team.botUserId ? { bot_id: team.botId, app_id: APP_ID } : {};
    const given = Object.entries(fields).filter(([, v]) => v !== undefined);
    const msg: SlackMessage = { type: 'message', ts: nextTs(), user, ...bot, team: team.teamId, ...(Object.fromEntries(given) as typeof fields) };
    ch.messages.push(msg);
    return msg;
  };
  /** A stored message as history shows it: metadata only on request, thread counts on parents. */
  const view = (ch: Channel, m: SlackMessage, withMeta: boolean): Record<string, unknown> => {
    const { metadata, ...rest } = m;
    const replies = ch.messages.filter((r) => r.thread_ts === m.ts && r.ts !== m.ts);
    const users = [...new Set(replies.map((r) => r.user))];
    const thread = replies.length === 0 ? {} : { thread_ts: m.ts, reply_count: replies.length, reply_users: users, reply_users_count: users.length, latest_reply: replies.at(-1)?.ts };
    return { ...rest, ...(withMeta && metadata ? { metadata } : {}), ...thread };
  };
  const page = (ch: Channel, list: SlackMessage[], withMeta: boolean, limit: number) => {
    const shown = list.slice(0, limit);
    const last = shown.at(-1);
    const more = list.length > limit && last !== undefined;
    return { messages: shown.map((m) => view(ch, m, withMeta)), has_more: more, response_metadata: { next_cursor: more ? Buffer.from(last.ts).toString('base64url') : '' } };
  };

  const methods: Record<string, Method> = {
    'auth.test': (team) => ({ url: `https://${team.teamId.toLowerCase()}.slack.com/`, team: team.teamId.toLowerCase(), user: 'tacit', team_id: team.teamId, user_id: team.botUserId, bot_id: team.botId, is_enterprise_install: false }),
    'chat.postMessage': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'));
      takePostSlot(team, ch);
      const [text, blocks, metadata, thread_ts] = [str(a, 'text'), blocksOf(a), metadataOf(a), str(a, 'thread_ts')];
      if (!text && !blocks && a.attachments === undefined) fail('no_text');
      const reply_broadcast = flag(a, 'reply_broadcast');
      const msg = store(team, ch, { text: text ?? '', blocks, metadata, thread_ts, ...(thread_ts && reply_broadcast ? { subtype: 'thread_broadcast' } : {}) });
      posts.push({ teamId: team.teamId, channel: ch.id, ts: msg.ts, thread_ts, text, blocks, metadata, unfurl_links: flag(a, 'unfurl_links'), unfurl_media: flag(a, 'unfurl_media'), reply_broadcast, receivedAt: Date.now() });
      return { channel: ch.id, ts: msg.ts, message: msg };
    },
    'chat.update': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'));
      const msg = ch.messages.find((m) => m.ts === str(a, 'ts')) ?? fail('message_not_found');
      if (msg.user !== team.botUserId) fail('cant_update_message');
      const [text, blocks, metadata] = [str(a, 'text'), blocksOf(a), metadataOf(a)];
      if (text === undefined && blocks === undefined) fail('no_text');
      Object.assign(msg, text === undefined ? {} : { text }, blocks === undefined ? {} : { blocks }, metadata ? { metadata } : {}, { edited: { user: team.botUserId, ts: nextTs() } });
      updates.push({ teamId: team.teamId, channel: ch.id, ts: msg.ts, text, blocks, metadata });
      return { channel: ch.id, ts: msg.ts, text: msg.text, message: { ...msg } };
    },
    'chat.postEphemeral': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'));
      const user = team.users.get(str(a, 'user') ?? '') ?? fail('user_not_found');
      if (ch.members && !ch.members.has(user.id)) fail('user_not_in_channel');
      const [text, blocks] = [str(a, 'text'), blocksOf(a)];
      if (!text && !blocks) fail('no_text');
      const message_ts = nextTs();
      ephemerals.push({ teamId: team.teamId, channel: ch.id, user: user.id, message_ts, text, blocks, thread_ts: str(a, 'thread_ts') });
      return { message_ts };
    },
    'conversations.open': (team, a) => {
      const ids = (str(a, 'users') ?? '').split(',').filter(Boolean);
      if (ids.length === 0) fail('users_list_not_supplied');
      if (ids.length > 1) fail('fake_slack_opens_one_to_one_dms_only');
      const user = team.users.get(ids[0] ?? '') ?? fail('user_not_found');
      const id = `D${user.id.slice(1)}`;
      const open = team.channels.has(id);
      if (!open) team.channels.set(id, { id, name: id, user: user.id, members: new Set([team.botUserId, user.id]), messages: [] });
      return { ...(open ? { no_op: true, already_open: true } : {}), channel: { id } };
    },
    'conversations.history': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'));
      const inclusive = flag(a, 'inclusive') === true;
      const oldest = micros(str(a, 'oldest') ?? '0');
      const latest = str(a, 'latest') === undefined ? Infinity : micros(str(a, 'latest') ?? '');
      const cursor = str(a, 'cursor');
      const before = cursor ? micros(Buffer.from(cursor, 'base64url').toString()) : Infinity;
      const list = ch.messages
        .filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.subtype === 'thread_broadcast')
        .filter((m) => {
          const t = micros(m.ts);
          return (inclusive ? t >= oldest && t <= latest : t > oldest && t < latest) && t < before;
        })
        .reverse();
      const limit = historyPage('conversations.history', team, Number(str(a, 'limit') ?? 100) || 100);
      return { ...page(ch, list, flag(a, 'include_all_metadata') === true, limit), pin_count: 0 };
    },
    'conversations.replies': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'));
      const anchor = ch.messages.find((m) => m.ts === str(a, 'ts')) ?? fail('thread_not_found');
      const root = anchor.thread_ts ?? anchor.ts;
      const parent = ch.messages.find((m) => m.ts === root) ?? anchor;
      const oldest = micros(str(a, 'oldest') ?? '0');
      // Oldest first; a cursor goes on after the last message of the previous page.
      const cursor = str(a, 'cursor');
      const after = cursor ? micros(Buffer.from(cursor, 'base64url').toString()) : -1;
      const replies = ch.messages.filter((m) => m.thread_ts === root && m.ts !== root && micros(m.ts) > oldest);
      const limit = historyPage('conversations.replies', team, Number(str(a, 'limit') ?? 1000) || 1000);
      return page(ch, [parent, ...replies].filter((m) => micros(m.ts) > after), flag(a, 'include_all_metadata') === true, limit);
    },
    'conversations.info': (team, a) => {
      const ch = channelOf(team, str(a, 'channel'), false);
      const [isIm, isPrivate] = [ch.user !== undefined, /^[GD]/.test(ch.id)];
      return {
        channel: {
          id: ch.id, name: ch.name, is_channel: !isIm && !isPrivate, is_group: false, is_im: isIm, is_mpim: false, is_private: isPrivate,
          is_archived: false, is_general: ch.name === 'general', is_member: !ch.members || ch.members.has(team.botUserId),
          is_ext_shared: false, is_shared: false, context_team_id: team.teamId, created: 1700000000, ...(isIm ? { user: ch.user } : {}),
        },
      };
    },
    'users.info': (team, a) => {
      const u = team.users.get(str(a, 'user') ?? '') ?? fail('user_not_found');
      const isBot = u.id === team.botUserId;
      const profile = { real_name: u.name, display_name: u.name, team: u.teamId, ...(isBot ? { bot_id: team.botId } : {}) };
      const role = u.role ?? 'member';
      const roles = {
        is_admin: role === 'admin' || role === 'owner', is_owner: role === 'owner', is_primary_owner: false,
        is_restricted: role === 'guest' || role === 'single-channel-guest', is_ultra_restricted: role === 'single-channel-guest',
      };
      return { user: { id: u.id, team_id: u.teamId, name: u.name, real_name: u.name, deleted: false, is_bot: isBot, is_app_user: false, ...roles, tz: 'Etc/UTC', profile } };
    },
    'usergroups.users.list': (team, a) => {
      const members = team.groups[str(a, 'usergroup') ?? ''] ?? fail('no_such_subteam');
      return { users: members };
    },
    'views.publish': (team, a) => {
      const userId = str(a, 'user_id') ?? fail('invalid_arguments');
      if (!team.users.has(userId)) fail('user_not_found');
      const v = json(a, 'view', 'invalid_arguments');
      if (!isRecord(v) || v.type !== 'home') return fail('invalid_arguments');
      views.push({ teamId: team.teamId, userId, view: v });
      return { view: { id: newId('V'), team_id: team.teamId, state: { values: {} }, hash: newId(''), app_id: APP_ID, bot_id: team.botId, ...v } };
    },
    'views.open': (team, a) => {
      const triggerId = str(a, 'trigger_id') ?? fail('invalid_arguments');
      const trigger = triggers.get(triggerId);
      if (!trigger || trigger.teamId !== team.teamId) return fail('invalid_trigger_id');
      triggers.delete(triggerId);
      if (Date.now() - trigger.issuedAt > 3_000) return fail('expired_trigger_id');
      const v = json(a, 'view', 'invalid_arguments');
      if (!isRecord(v) || v.type !== 'modal' || !isRecord(v.title) || !Array.isArray(v.blocks)) return fail('invalid_arguments');
      const viewId = newId('V');
      modals.push({ teamId: team.teamId, userId: trigger.userId, viewId, view: v });
      return { view: { id: viewId, team_id: team.teamId, state: { values: {} }, hash: newId(''), app_id: APP_ID, bot_id: team.botId, root_view_id: viewId, previous_view_id: null, ...v } };
    },
    'files.getUploadURLExternal': (team, a) => {
      const filename = str(a, 'filename') ?? fail('invalid_arguments');
      const length = Number(str(a, 'length'));
      if (!Number.isInteger(length) || length < 0) fail('invalid_arguments');
      const id = newId('F');
      files.push({ id, teamId: team.teamId, filename, length, content: Buffer.alloc(0) });
      return { upload_url: `${url}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (team, a) => {
      const list = json(a, 'files', 'invalid_arguments');
      if (!Array.isArray(list) || list.length === 0) return fail('invalid_arguments');
      const channelId = str(a, 'channel_id') ?? str(a, 'channels');
      const ch = channelId === undefined ? undefined : channelOf(team, channelId);
      const [thread_ts, initial_comment] = [str(a, 'thread_ts'), str(a, 'initial_comment')];
      const done = list.map((entry) => {
        const f = files.find((x) => isRecord(entry) && x.id === entry.id && x.teamId === team.teamId) ?? fail('file_not_found');
        f.title = isRecord(entry) && typeof entry.title === 'string' ? entry.title : f.filename;
        return f;
      });
      const shared = done.map((f) => ({ id: f.id, name: f.filename, title: f.title, size: f.content.length, user: team.botUserId, url_private: `${url}/files/${f.id}` }));
      if (ch) {
        const msg = store(team, ch, { text: initial_comment ?? '', thread_ts, files: shared, upload: true });
        done.forEach((f) => Object.assign(f, { channel: ch.id, thread_ts, initial_comment, ts: msg.ts }));
      }
      return { files: done.map((f) => ({ id: f.id, title: f.title })) };
    },
  };

  const agent = streamMethods({ channelOf: (team: Team, id) => channelOf(team, id), store: (team: Team, ch: Channel, fields) => store(team, ch, fields), blocksOf, metadataOf, fail, lifetimeMs: opts.streamLifetimeMs ?? 300_000,
    stopped: (team: Team, ch: Channel, m) => void posts.push({ teamId: team.teamId, channel: ch.id, ts: m.ts, thread_ts: m.thread_ts, text: m.text, blocks: m.blocks, metadata: m.metadata, receivedAt: Date.now() }),
  });
  Object.assign(methods, agent.methods);

  // OAuth: codes from the consent page, tokens issued per team, single-use refresh tokens.
  const issued = new Map<string, Issued>();
  const codes = new Map<string, { team: Team; userId: string }>();
  const refreshTokens = new Map<string, { team: Team; used: boolean }>();
  const grants: TokenGrant[] = [];
  const teamOfToken = (token: string): Team => {
    const fixed = teams.get(token);
    if (fixed) return fixed;
    const t = issued.get(token) ?? fail('invalid_auth');
    if (t.expiresAtMs !== undefined && Date.now() >= t.expiresAtMs) fail('token_expired');
    return t.team;
  };
  const issue = (team: Team, grant: TokenGrant['grant']) => {
    const accessToken = `xoxb-${team.teamId.toLowerCase()}-${newId('').toLowerCase()}`;
    const lifetime = opts.oauth?.expiresInSeconds;
    issued.set(accessToken, { team, ...(lifetime === undefined ? {} : { expiresAtMs: Date.now() + lifetime * 1000 }) });
    const refreshToken = lifetime === undefined ? undefined : `xoxe-1-${newId('').toLowerCase()}`;
    if (refreshToken) refreshTokens.set(refreshToken, { team, used: false });
    grants.push({ teamId: team.teamId, grant, accessToken, refreshToken });
    return {
      app_id: APP_ID, scope: 'chat:write', token_type: 'bot', access_token: accessToken, bot_user_id: team.botUserId,
      team: { id: team.teamId, name: team.name }, enterprise: null, is_enterprise_install: false,
      ...(refreshToken ? { refresh_token: refreshToken, expires_in: lifetime } : {}),
    };
  };
  const noTokenMethods: Record<string, (args: Args, token: string | undefined) => Record<string, unknown>> = {
    'oauth.v2.access': (a) => {
      const oauth = opts.oauth ?? fail('invalid_client_id');
      if (str(a, 'client_id') !== oauth.clientId) fail('invalid_client_id');
      if (str(a, 'client_secret') !== oauth.clientSecret) fail('bad_client_secret');
      if (str(a, 'grant_type') === 'refresh_token') {
        const rt = refreshTokens.get(str(a, 'refresh_token') ?? '') ?? fail('invalid_refresh_token');
        if (rt.used) fail('invalid_refresh_token');
        rt.used = true;
        for (const t of issued.values()) if (t.team === rt.team) t.replaced = true;
        return issue(rt.team, 'refresh_token');
      }
      const code = codes.get(str(a, 'code') ?? '') ?? fail('invalid_code');
      codes.delete(str(a, 'code') ?? '');
      return { ...issue(code.team, 'authorization_code'), authed_user: { id: code.userId } };
    },
    'apps.connections.open': (_a, token) => {
      if (!opts.appToken || token !== opts.appToken) fail('invalid_auth');
      return { url: `${url.replace('http', 'ws')}/socket/${newId('')}` };
    },
  };

  /** Slack's consent page, approved at once for `team` (or the first team): back to redirect_uri with a code. */
  function consent(query: URLSearchParams, res: ServerResponse): void {
    if (!opts.oauth || query.get('client_id') !== opts.oauth.clientId) return send(res, 400, { ok: false, error: 'invalid_client_id' });
    const team = teamById(query.get('team') ?? undefined);
    const redirect = query.get('redirect_uri');
    if (!redirect) return send(res, 400, { ok: false, error: 'fake_slack_needs_redirect_uri' });
    const code = newId('code-');
    codes.set(code, { team, userId: query.get('fake_user') ?? [...team.users.keys()][0] ?? 'U0INSTALLER' });
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (query.get('state')) back.searchParams.set('state', query.get('state') ?? '');
    res.writeHead(302, { location: back.toString() }).end();
  }

  async function api(method: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const raw = (await readBody(req)).toString('utf8');
    const limit = limits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      throttle(method);
      return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfterSeconds) });
    }
    const failure = failures.get(method)?.shift();
    if (typeof failure === 'string') return send(res, 200, { ok: false, error: failure });
    if (failure) return send(res, failure.status, { ok: false, error: 'fatal_error' });
    let body: Record<string, unknown>;
    try {
      const isJson = (req.headers['content-type'] ?? '').includes('application/json');
      const parsed: unknown = isJson ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
      const args: Args = { ...Object.fromEntries(query), ...(isRecord(parsed) ? parsed : fail('invalid_json')) };
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? str(args, 'token');
      const unauthenticated = noTokenMethods[method];
      if (unauthenticated) body = { ok: true, ...unauthenticated(args, token) };
      else {
        const team = teamOfToken(token ?? fail('not_authed'));
        const handler = methods[method] ?? fail('unknown_method');
        body = { ok: true, ...handler(team, args) };
      }
    } catch (err) {
      if (err instanceof SyntaxError) body = { ok: false, error: 'invalid_json' };
      else if (err instanceof ApiError) body = { ok: false, error: err.error };
      else if (err instanceof Throttled) {
        throttle(method);
        return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(err.retryAfterSeconds) });
      } else throw err;
    }
    if (crashes.delete(method)) {
      req.socket.destroy();
      return;
    }
    if (body.ok) for (const resolve of acceptWaiters.get(method)?.splice(0) ?? []) resolve();
    const delayMs = slow.get(method);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    send(res, 200, body);
  }

  async function upload(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const file = files.find((f) => f.id === id);
    if (!file) return send(res, 404, { ok: false, error: 'file_not_found' });
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      // WebClient sends the bytes as a multipart part named `body`; curl users send `file`.
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      const part = form.get('body') ?? form.get('file') ?? [...form.values()][0];
      file.content = part === undefined || part === null ? Buffer.alloc(0) : typeof part === 'string' ? Buffer.from(part) : Buffer.from(await part.arrayBuffer());
    } else file.content = raw;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${file.content.length}`);
  }

  const server = createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://fake');
    const [, kind = '', rest = ''] = /^\/([a-z]+)\/(.+)$/.exec(pathname) ?? [];
    const work =
      kind === 'api' ? api(rest, req, res, searchParams)
      : kind === 'upload' ? upload(rest, req, res)
      : pathname === '/oauth/v2/authorize' ? Promise.resolve(consent(searchParams, res))
      : kind === 'response' ? readBody(req).then((raw) => {
          const text = raw.toString('utf8');
          const form = new URLSearchParams(text).get('payload');
          responses.push({ url: `${url}${pathname}`, body: JSON.parse(req.headers['content-type']?.includes('json') ? text : (form ?? text)) });
          send(res, 200, { ok: true });
        })
      : Promise.resolve(send(res, 404, { ok: false, error: 'unknown_method' }));
    work.catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: `fake_slack_failed: ${String(err)}` });
    });
  });
  // Socket Mode: one WebSocket per apps.connections.open URL; `hello` first, then envelopes that want an ack.
  const sockets = new WebSocketServer({ noServer: true });
  let socket: WebSocket | undefined;
  const connected: Array<() => void> = [];
  const acks = new Map<string, (ack: SocketAck) => void>();
  server.on('upgrade', (req, sock, head) => {
    if (!(req.url ?? '').startsWith('/socket/')) return sock.destroy();
    sockets.handleUpgrade(req, sock, head, (ws) => {
      socket = ws;
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as SocketAck;
        acks.get(msg.envelope_id)?.(msg);
        acks.delete(msg.envelope_id);
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack', approximate_connection_time: 18060 }, connection_info: { app_id: APP_ID } }));
      connected.splice(0).forEach((f) => f());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const eventEnvelope = (event: Record<string, unknown>, o: { teamId?: string; eventId?: string } = {}) => {
    const team = teamById(o.teamId);
    const eventTs = str(event, 'event_ts') ?? str(event, 'ts') ?? nextTs();
    return {
      token: VERIFICATION_TOKEN, team_id: team.teamId, context_team_id: team.teamId, context_enterprise_id: null, api_app_id: APP_ID,
      event: { event_ts: eventTs, ...event }, type: 'event_callback', event_id: o.eventId ?? newId('Ev'), event_time: Math.floor(micros(eventTs) / 1e6),
      authorizations: [{ enterprise_id: null, team_id: team.teamId, user_id: team.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false, event_context: newId('4-'),
    };
  };

  async function deliver(target: string, secret: string, body: string, type: string, skew = 0, extra: Record<string, string> = {}, timeoutMs?: number): Promise<InboundResponse & { noRetry?: boolean }> {
    const timestamp = String(Math.floor(Date.now() / 1000) + skew);
    const headers = { 'content-type': type, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(secret, timestamp, body), ...extra };
    const res = await fetch(target, { method: 'POST', headers, body, ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) });
    return { status: res.status, body: await res.text(), noRetry: res.headers.get('x-slack-no-retry') === '1' };
  }
  // ---- Events API deliveries and Slack's retries of failed ones ----
  const eventDeliveries: EventDelivery[] = [];
  const settled = new Map<string, EventDelivery>();
  const settledWaiters = new Map<string, Array<(d: EventDelivery) => void>>();
  const retryTimers = new Set<NodeJS.Timeout>();
  const retryDelays = opts.eventRetryDelaysMs ?? [0, 60_000, 300_000];
  const deliverEvent = async (target: string, secret: string, body: string, eventId: string, retryNum: number, retryReason: string | undefined, skew?: number): Promise<EventDelivery & { noRetry?: boolean }> => {
    const retry: Record<string, string> = retryNum === 0 ? {} : { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': retryReason ?? 'http_timeout' };
    let answer: InboundResponse & { noRetry?: boolean };
    try {
      answer = await deliver(target, secret, body, 'application/json', skew, retry, 3_000);
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      answer = { status: 0, body: timedOut ? 'http_timeout' : 'connection_failed' };
    }
    const delivery = { eventId, retryNum, ...(retryReason ? { retryReason } : {}), status: answer.status, body: answer.body, at: Date.now() };
    eventDeliveries.push(delivery);
    return { ...delivery, noRetry: answer.noRetry };
  };
  const settle = (d: EventDelivery) => {
    settled.set(d.eventId, d);
    for (const resolve of settledWaiters.get(d.eventId)?.splice(0) ?? []) resolve(d);
  };
  const retryLater = (target: string, secret: string, body: string, last: EventDelivery & { noRetry?: boolean }, skew?: number) => {
    const ok = last.status >= 200 && last.status < 300;
    const delay = retryDelays[last.retryNum];
    if (ok || last.noRetry || delay === undefined) return settle(last);
    const reason = last.status === 0 ? last.body : 'http_error';
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      void deliverEvent(target, secret, body, last.eventId, last.retryNum + 1, reason, skew).then((next) => retryLater(target, secret, body, next, skew));
    }, delay);
    retryTimers.add(timer);
  };
  const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

  return {
    url,
    apiUrl: `${url}/api/`,
    teams: teamList,
    posts, updates, ephemerals, files, views, responses, modals, streams: agent.streams, statuses: agent.statuses,
    async submitView(target, secret, viewId, values, o = {}) {
      const modal = modals.find((m) => m.viewId === viewId) ?? fail(`fake Slack opened no view ${viewId}`);
      const team = teamById(modal.teamId);
      const user = team.users.get(modal.userId);
      const payload = {
        type: 'view_submission', team: { id: team.teamId, domain: team.teamId.toLowerCase() },
        user: { id: modal.userId, username: user?.name ?? modal.userId, name: user?.name ?? modal.userId, team_id: user?.teamId ?? team.teamId },
        api_app_id: APP_ID, token: VERIFICATION_TOKEN, trigger_id: newTrigger(team.teamId, modal.userId),
        view: {
          id: viewId, team_id: team.teamId, type: 'modal', blocks: modal.view.blocks, private_metadata: modal.view.private_metadata ?? '', callback_id: modal.view.callback_id ?? '',
          state: { values }, hash: newId(''), title: modal.view.title, clear_on_close: false, notify_on_close: false, close: modal.view.close ?? null, submit: modal.view.submit ?? null,
          previous_view_id: null, root_view_id: viewId, app_id: APP_ID, external_id: '', app_installed_team_id: team.teamId, bot_id: team.botId,
        },
        response_urls: [], is_enterprise_install: false, enterprise: null,
      };
      return deliver(target, secret, form({ payload: JSON.stringify(payload) }), 'application/x-www-form-urlencoded', o.timestampSkewSeconds);
    },
    calls: (method) => total(counts, method),
    throttled: (method) => total(throttledCounts, method),
    history: (channel, teamId) => {
      const team = [...teams.values()].find((t) => t.channels.has(channel) && (teamId === undefined || t.teamId === teamId));
      return [...(team?.channels.get(channel)?.messages ?? [])];
    },
    say: (channel, user, text, o = {}) => {
      const team = teamById(o.teamId);
      return store(team, channelOf(team, channel, false), { text, thread_ts: o.thread_ts }, user);
    },
    rateLimit: (method, o) => void limits.set(method, { ...o }),
    failNext: (method, failure) => void failures.set(method, [...(failures.get(method) ?? []), failure]),
    crashAfterAccept: (method) => void crashes.add(method),
    slowAnswers: (method, ms) => void slow.set(method, ms),
    accepted: (method) => new Promise<void>((resolve) => acceptWaiters.set(method, [...(acceptWaiters.get(method) ?? []), resolve])),
    async sendEvent(target, secret, event, o = {}) {
      const envelope = eventEnvelope(event, o);
      const eventId = envelope.event_id;
      const body = JSON.stringify(envelope);
      const first = await deliverEvent(target, secret, body, eventId, o.retryNum ?? 0, o.retryReason, o.timestampSkewSeconds);
      // A test that sends a retry itself (retryNum) drives the schedule; otherwise Slack's applies.
      if (o.retryNum === undefined) retryLater(target, secret, body, first, o.timestampSkewSeconds);
      else settle(first);
      return { status: first.status, body: first.body, eventId };
    },
    eventDeliveries,
    eventSettled: (eventId) => {
      const done = settled.get(eventId);
      return done ? Promise.resolve(done) : new Promise<EventDelivery>((resolve) => settledWaiters.set(eventId, [...(settledWaiters.get(eventId) ?? []), resolve]));
    },
    async sendInteraction(target, secret, c) {
      const team = teamById(c.team_id);
      const ch = team.channels.get(c.channel_id);
      const message = ch?.messages.find((m) => m.ts === c.message_ts) ?? { type: 'message', ts: c.message_ts, text: '' };
      const responseUrl = `${url}/response/${newId('R')}`;
      const payload = {
        type: 'block_actions', user: { id: c.user_id, username: c.user_name ?? c.user_id, name: c.user_name ?? c.user_id, team_id: c.user_team_id ?? team.teamId },
        api_app_id: APP_ID, token: VERIFICATION_TOKEN, container: { type: 'message', message_ts: c.message_ts, channel_id: c.channel_id, is_ephemeral: false },
        trigger_id: newTrigger(team.teamId, c.user_id), team: { id: team.teamId, domain: team.teamId.toLowerCase() }, enterprise: null, is_enterprise_install: false,
        channel: { id: c.channel_id, name: ch?.name ?? c.channel_id }, message, state: { values: {} }, response_url: responseUrl,
        actions: [{ action_id: c.action_id, block_id: c.block_id ?? 'actions', text: { type: 'plain_text', text: c.action_id, emoji: true }, value: c.value, type: 'button', action_ts: nextTs() }],
      };
      const res = await deliver(target, secret, form({ payload: JSON.stringify(payload) }), 'application/x-www-form-urlencoded', c.timestampSkewSeconds);
      return { ...res, responseUrl };
    },
    async sendSlashCommand(target, secret, c) {
      const team = teamById(c.team_id);
      const responseUrl = c.response_url ?? `${url}/response/${newId('R')}`;
      const fields = {
        token: VERIFICATION_TOKEN, team_id: team.teamId, team_domain: team.teamId.toLowerCase(), channel_id: c.channel_id,
        channel_name: team.channels.get(c.channel_id)?.name ?? 'directmessage', user_id: c.user_id, user_name: c.user_name ?? c.user_id,
        command: c.command ?? '/tacit', text: c.text, api_app_id: APP_ID, is_enterprise_install: 'false', response_url: responseUrl, trigger_id: newTrigger(team.teamId, c.user_id),
      };
      return { ...(await deliver(target, secret, form(fields), 'application/x-www-form-urlencoded', c.timestampSkewSeconds)), responseUrl };
    },
    grants,
    eventEnvelope,
    async installApp(installUrl, o) {
      const start = await fetch(installUrl, { redirect: 'manual' });
      const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const authorize = new URL(start.headers.get('location') ?? fail('install path did not redirect to Slack'));
      authorize.searchParams.set('team', o.teamId);
      if (!authorize.searchParams.get('redirect_uri')) authorize.searchParams.set('redirect_uri', new URL('/slack/oauth_redirect', installUrl).toString());
      if (o.userId) authorize.searchParams.set('fake_user', o.userId);
      const approved = await fetch(authorize, { redirect: 'manual' });
      const back = approved.headers.get('location');
      if (!back) return { status: approved.status, body: await approved.text() };
      const res = await fetch(back, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
      return { status: res.status, body: await res.text() };
    },
    uninstall(teamId) {
      for (const [token, t] of issued) if (t.team.teamId === teamId) issued.delete(token);
    },
    expireReplacedTokens(teamId) {
      for (const t of issued.values()) if (t.team.teamId === teamId && t.replaced) t.expiresAtMs = 0;
    },
    socketConnected: () => (socket?.readyState === 1 ? Promise.resolve() : new Promise<void>((resolve) => connected.push(resolve))),
    sendSocket(type, payload, o = {}) {
      const ws = socket;
      if (!ws || ws.readyState !== 1) return Promise.reject(new Error('no open Socket Mode connection'));
      const envelope_id = randomBytes(8).toString('hex');
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for ${type} envelope within 3 s`)), 3_000);
        acks.set(envelope_id, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: o.retryAttempt ?? 0, retry_reason: o.retryReason ?? '' }));
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of retryTimers) clearTimeout(t);
        for (const c of sockets.clients) c.terminate();
        sockets.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive
      }),
  };
}
