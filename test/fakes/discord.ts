// A local Discord for the real discord.js client: REST under `apiUrl` (what Tacit uses, with Discord's
// shapes, limits, error codes and rate-limit headers) and a gateway WebSocket with the real handshake
// (hello, identify, ready, heartbeats, guild create, dispatches with sequence numbers, resume with
// replay, invalid session, shards: each guild's events on its shard only, see discord-shards.ts).
// Everything is recorded for assertions; tests drive people through it.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { carries, identifyShard, recommendedShards, type Shard } from './discord-shards.js';

/** `permissions`: the member's permission bitfield as interactions carry it (`member.permissions`); the guild's owner (its first member) has all. */
export interface FakeMember { id: string; name: string; roles?: string[]; bot?: boolean; permissions?: string; nick?: string }
export interface FakeGuild { id: string; name: string; channels: { id: string; name: string }[]; members: FakeMember[]; roles?: { id: string; name: string }[] }

export interface User { id: string; username: string; discriminator: string; global_name: string | null; avatar: null; bot?: boolean }
export interface Attachment { id: string; filename: string; size: number; url: string; proxy_url: string; content_type: string; content: string }
/** A message as Discord stores it (nonce never comes back from fetches, only from the create answer). */
export interface Message {
  id: string; channel_id: string; guild_id?: string; author: User; content: string; timestamp: string;
  edited_timestamp: string | null; tts: false; mention_everyone: boolean; mentions: User[]; mention_roles: string[];
  attachments: Omit<Attachment, 'content'>[]; embeds: unknown[]; components: unknown[]; pinned: false; type: 0; flags: number;
  position?: number;
}
/** One accepted create (REST), with what was asked for. */
export interface Post { message: Message; body: Record<string, unknown>; files: Attachment[] }
export interface Edit { channelId: string; messageId: string; body: Record<string, unknown>; files: Attachment[] }
export interface InteractionCallback { interactionId: string; type: number; data?: Record<string, unknown>; at: number }
export interface Followup { token: string; body: Record<string, unknown>; message: Message; ephemeral: boolean }
export interface Thread { id: string; parent_id: string; guild_id: string; name: string }
export interface Dm { id: string; recipient: string }
export interface RequestRecord { method: string; route: string; status: number }

export interface FakeDiscord {
  apiUrl: string;
  gatewayUrl: string;
  token: string;
  applicationId: string;
  botUser: User;
  guilds: FakeGuild[];
  posts: Post[];
  edits: Edit[];
  callbacks: InteractionCallback[];
  followups: Followup[];
  /** Edits of an interaction's original response (`/webhooks/:app/:token/messages/@original`). */
  originals: { token: string; body: Record<string, unknown> }[];
  threads: Thread[];
  dms: Dm[];
  commands: unknown[];
  /** Every accepted overwrite of the global commands (PUT), in order. */
  registrations: unknown[][];
  requests: RequestRecord[];
  /**
   * Gateway sessions: identifies and resumes accepted so far; `identifiesRefused`, IDENTIFYs sent
   * within 5 s of another in the same max_concurrency bucket (answered with Invalid Session).
   */
  stats: { identifies: number; resumes: number; connections: number; heartbeats: number; identifiesRefused: number };
  /** The last IDENTIFY payload's `d` (intents, token). */
  lastIdentify: Record<string, unknown> | undefined;
  /** Messages of a channel or thread, oldest first. */
  history(channelId: string): Message[];
  /** A person writes; dispatched as MESSAGE_CREATE (replayed on resume if the socket is down). `silent`: stored only. */
  say(channelId: string, userId: string, content: string, opts?: { silent?: boolean }): Message;
  editByUser(channelId: string, messageId: string, content: string): Message;
  deleteByUser(channelId: string, messageId: string): void;
  /** A member clicks a button; resolves with the interaction id and token. */
  click(channelId: string, messageId: string, customId: string, userId: string): { id: string; token: string };
  /**
   * A member submits a modal Tacit showed them (callback type 9) for a click on `messageId`: `values`
   * by text input custom id. Throws when no such modal was shown, as a person could not submit one.
   */
  submitModal(channelId: string, messageId: string, customId: string, userId: string, values: Record<string, string>): { id: string; token: string };
  /** The DM channel between a member and the bot (opened as a person opens one). */
  openDm(userId: string): string;
  /** `/tacit <subcommand> …` (options as Discord sends them). */
  command(channelId: string, userId: string, subcommand: string, options?: { name: string; type: number; value: string | number | boolean }[]): { id: string; token: string };
  addGuild(guild: FakeGuild): void;
  removeGuild(guildId: string): void;
  /** Closes the gateway socket (of one shard, else every one): a close code, or `abrupt` (TCP reset, no close frame). */
  dropConnection(how?: number | 'abrupt', shardId?: number): void;
  /** The next RESUME is refused with INVALID_SESSION (d: false), forcing a fresh IDENTIFY. */
  invalidateSession(): void;
  /** The next `times` requests whose `METHOD /route` starts with `match` get a 429. */
  rateLimit(match: string, opts: { times: number; retryAfterSeconds: number }): void;
  /** The next request matching takes effect, then its connection is destroyed before the answer. */
  crashAfterAccept(match: string): void;
  /** Resolves when a client is identified or resumed and its guilds were sent. */
  waitForSession(): Promise<void>;
  /** Whether some gateway session has its socket open. */
  connected(): boolean;
  /** Every shard's session (IDENTIFY `shard: [id, count]`; unsharded is [0, 1]) and the guilds it carries. */
  shards(): { shard: [number, number]; connected: boolean; guilds: string[] }[];
  close(): Promise<void>;
}

const EPOCH = 1_420_070_400_000n;
let increment = 0n;
/** Discord snowflakes: milliseconds since 2015 in the high bits, so ids sort by time. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return ((BigInt(at) - EPOCH) << 22n | increment).toString();
}
const byId = (a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

const MESSAGE_CONTENT_INTENT = 1 << 15;
const IS_COMPONENTS_V2 = 1 << 15;
const INTERACTION_ANSWER_MS = 3_000;

/** What people read of a message or a create/edit body: its content, or a V2 card's text displays. */
export function visibleText(m: { content?: unknown; components?: unknown }): string {
  const displays = (c: unknown): string[] => {
    if (Array.isArray(c)) return c.flatMap(displays);
    if (typeof c !== 'object' || c === null) return [];
    const o = c as { type?: number; content?: unknown; components?: unknown };
    if (o.type === 10 && typeof o.content === 'string') return [o.content];
    return displays(o.components);
  };
  return [typeof m.content === 'string' ? m.content : '', ...displays(m.components)].filter((s) => s.length > 0).join('\n');
}

/** Every button of a message, in legacy action rows or anywhere in a V2 card (section accessories too). */
export function buttonsOf(m: { components?: unknown }): { custom_id: string; label: string; style?: number }[] {
  const walk = (c: unknown): { custom_id: string; label: string; style?: number }[] => {
    if (Array.isArray(c)) return c.flatMap(walk);
    if (typeof c !== 'object' || c === null) return [];
    const o = c as { type?: number; custom_id?: string; label?: string; style?: number; components?: unknown; accessory?: unknown };
    if (o.type === 2) return [{ custom_id: o.custom_id ?? '', label: o.label ?? '', style: o.style }];
    return [...walk(o.components), ...walk(o.accessory)];
  };
  return walk(m.components);
}
const NONCE_WINDOW_MS = 5 * 60_000;

export const DEFAULT_GUILD: FakeGuild = {
  id: '900000000000000001', name: 'ops',
  channels: [{ id: '900000000000000010', name: 'incidents' }, { id: '900000000000000011', name: 'general' }],
  members: [{ id: '900000000000000100', name: 'alice', roles: ['900000000000000500'] }, { id: '900000000000000101', name: 'bob' }, { id: '900000000000000102', name: 'otherbot', bot: true }],
  roles: [{ id: '900000000000000500', name: 'oncall' }],
};

class HttpFailure extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

/**
 * `nonceWindowMs`: how long a nonce dedupes creates (Discord: "the past few minutes"; default 5 min).
 * `maxGuildsPerShard`: more guilds on one shard and its IDENTIFY is closed with 4011 (Discord: 2,500).
 * `recommendedShards`: GET /gateway/bot's `shards` (default one per 1,000 guilds); `maxConcurrency`: its
 * `session_start_limit.max_concurrency`, identifies per 5 s (default 1, as for most bots): one more in
 * the same bucket (`shard_id % max_concurrency`) within 5 s is answered with Invalid Session (op 9, d: false),
 * as Discord does. Every accepted identify uses one of the day's 1,000 session starts.
 */
/** Discord's identify rate limit window per max_concurrency bucket. */
const IDENTIFY_WINDOW_MS = 5_000;

export async function startFakeDiscord(opts: {
  guilds?: FakeGuild[]; heartbeatIntervalMs?: number; token?: string; nonceWindowMs?: number; maxGuildsPerShard?: number; recommendedShards?: number; maxConcurrency?: number;
} = {}): Promise<FakeDiscord> {
  const token = opts.token ?? `fake.${randomBytes(8).toString('hex')}`;
  const applicationId = snowflake();
  const botUser: User = { id: applicationId, username: 'tacit', discriminator: '0', global_name: 'Tacit', avatar: null, bot: true };
  const guilds: FakeGuild[] = structuredClone(opts.guilds ?? [DEFAULT_GUILD]);
  const messages = new Map<string, Message[]>();
  const nonces = new Map<string, { message: Message; at: number }>();
  const channelGuild = new Map<string, string>();
  const dmRecipients = new Map<string, string>();
  const fake = {
    posts: [] as Post[], edits: [] as Edit[], callbacks: [] as InteractionCallback[], followups: [] as Followup[],
    originals: [] as { token: string; body: Record<string, unknown> }[], threads: [] as Thread[], dms: [] as Dm[],
    commands: [] as unknown[], registrations: [] as unknown[][], requests: [] as RequestRecord[],
    stats: { identifies: 0, resumes: 0, connections: 0, heartbeats: 0, identifiesRefused: 0 },
    lastIdentify: undefined as Record<string, unknown> | undefined,
  };
  const limits: { match: string; times: number; retryAfterSeconds: number }[] = [];
  const crashes: string[] = [];
  interface FakeInteraction { id: string; token: string; channelId: string; guildId: string; type?: number; userId: string; messageId?: string; at: number }
  const interactions = new Map<string, FakeInteraction>();
  for (const g of guilds) for (const c of g.channels) channelGuild.set(c.id, g.id);

  const user = (id: string): User => {
    if (id === botUser.id) return botUser;
    const m = guilds.flatMap((g) => g.members).find((x) => x.id === id);
    return { id, username: m?.name ?? `user${id.slice(-4)}`, discriminator: '0', global_name: m?.name ?? null, avatar: null, ...(m?.bot ? { bot: true } : {}) };
  };
  const memberOf = (guildId: string, id: string) => guilds.find((g) => g.id === guildId)?.members.find((m) => m.id === id);
  const apiMember = (guildId: string, id: string) => {
    const m = memberOf(guildId, id);
    return { user: user(id), roles: m?.roles ?? [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0, nick: m?.nick ?? null, avatar: null, premium_since: null, pending: false, permissions: '0' };
  };
  const interactionPermissions = (guildId: string, id: string): string => {
    const guild = guilds.find((g) => g.id === guildId);
    if (guild?.members[0]?.id === id) return String((1n << 50n) - 1n);
    return memberOf(guildId, id)?.permissions ?? '0';
  };
  const channelsOf = (id: string) => {
    let list = messages.get(id);
    if (!list) messages.set(id, (list = []));
    return list;
  };
  const knownChannel = (id: string) => channelGuild.has(id) || dmRecipients.has(id);
  const findMessage = (channelId: string, id: string) => messages.get(channelId)?.find((m) => m.id === id);

  const makeMessage = (channelId: string, author: User, content: string, extra: Partial<Message> = {}): Message => {
    const guildId = channelGuild.get(channelId);
    const mentioned = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1] ?? '');
    const msg: Message = {
      id: snowflake(), channel_id: channelId, ...(guildId ? { guild_id: guildId } : {}), author, content, timestamp: new Date().toISOString(),
      edited_timestamp: null, tts: false, mention_everyone: false, mentions: mentioned.map(user), mention_roles: [], attachments: [], embeds: [],
      components: [], pinned: false, type: 0, flags: 0, ...extra,
    };
    channelsOf(channelId).push(msg);
    return msg;
  };

  // ---- gateway ----
  interface Session { id: string; seq: number; buffer: { op: 0; t: string; d: unknown; s: number }[]; socket: WebSocket | null; intents: number; shard: Shard }
  /** One session per shard (`id/count`): a new IDENTIFY for a shard replaces its session. */
  const sessions = new Map<string, Session>();
  /** Per max_concurrency bucket, when its last accepted IDENTIFY came. */
  const identifiedAt = new Map<number, number>();
  let sessionStarts = 1000;
  let refuseResume = false;
  let sessionWaiters: (() => void)[] = [];
  const sessionReady = () => {
    const waiters = sessionWaiters;
    sessionWaiters = [];
    for (const w of waiters) w();
  };

  const deliver = (session: Session, t: string, d: unknown) => {
    const s = ++session.seq;
    const packet = { op: 0 as const, t, d, s };
    session.buffer.push(packet);
    if (session.buffer.length > 1000) session.buffer.shift();
    if (session.socket?.readyState === 1) session.socket.send(JSON.stringify(packet));
  };
  /** The guild an event belongs to: guild events name it `id`, the others `guild_id` (none: a DM). */
  const guildOfEvent = (t: string, d: unknown): string | undefined => {
    const o = (typeof d === 'object' && d ? d : {}) as { id?: unknown; guild_id?: unknown };
    const id = t === 'GUILD_CREATE' || t === 'GUILD_DELETE' || t === 'GUILD_UPDATE' ? o.id : o.guild_id;
    return typeof id === 'string' && id ? id : undefined;
  };
  /** To the session of the guild's shard (DMs: shard 0), as Discord routes events. */
  const dispatch = (t: string, d: unknown) => {
    const guildId = guildOfEvent(t, d);
    for (const session of sessions.values()) if (carries(session.shard, guildId)) deliver(session, t, d);
  };
  /** What a bot with these intents sees of a message: content only with MESSAGE_CONTENT or when it concerns the bot. */
  const forBot = (m: Message) => {
    const session = [...sessions.values()].find((s) => carries(s.shard, m.guild_id));
    const privileged = (session?.intents ?? 0) & MESSAGE_CONTENT_INTENT;
    const concerns = m.author.id === botUser.id || m.mentions.some((u) => u.id === botUser.id) || !m.guild_id;
    const visible = privileged || concerns ? m : { ...m, content: '', embeds: [], attachments: [], components: [] };
    // Message events name their channel's type (1 a DM, 11 a thread, 0 a text channel).
    const channelType = dmRecipients.has(m.channel_id) ? 1 : fake.threads.some((t) => t.id === m.channel_id) ? 11 : 0;
    return { ...visible, channel_type: channelType, ...(m.guild_id ? { member: { ...apiMember(m.guild_id, m.author.id), user: undefined } } : {}) };
  };
  const guildCreate = (g: FakeGuild) => ({
    id: g.id, name: g.name, icon: null, splash: null, discovery_splash: null, owner_id: g.members[0]?.id ?? botUser.id, afk_channel_id: null, afk_timeout: 300,
    verification_level: 0, default_message_notifications: 0, explicit_content_filter: 0, features: [], mfa_level: 0, system_channel_id: null,
    system_channel_flags: 0, rules_channel_id: null, vanity_url_code: null, description: null, banner: null, premium_tier: 0, preferred_locale: 'en-US',
    public_updates_channel_id: null, nsfw_level: 0, premium_progress_bar_enabled: false, safety_alerts_channel_id: null,
    roles: [{ id: g.id, name: '@everyone', color: 0, hoist: false, position: 0, permissions: '0', managed: false, mentionable: false, flags: 0 },
      ...(g.roles ?? []).map((r, i) => ({ id: r.id, name: r.name, color: 0, hoist: false, position: i + 1, permissions: '0', managed: false, mentionable: true, flags: 0 }))],
    emojis: [], stickers: [], joined_at: new Date(0).toISOString(), large: false, unavailable: false, member_count: g.members.length + 1,
    voice_states: [], presences: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
    members: [...g.members.map((m) => apiMember(g.id, m.id)), apiMember(g.id, botUser.id)],
    channels: g.channels.map((c, i) => ({ id: c.id, type: 0, name: c.name, position: i, permission_overwrites: [], nsfw: false, topic: null, last_message_id: lastMessageId(c.id), rate_limit_per_user: 0, parent_id: null, flags: 0 })),
    threads: fake.threads.filter((t) => t.guild_id === g.id).map(threadObject),
  });
  /** The newest message's id, as Discord reports a channel's `last_message_id` (null when it has none). */
  function lastMessageId(channelId: string): string | null {
    const list = messages.get(channelId) ?? [];
    return list.reduce<string | null>((max, m) => (max === null || BigInt(m.id) > BigInt(max) ? m.id : max), null);
  }
  function threadObject(t: Thread) {
    return {
      id: t.id, type: 11, guild_id: t.guild_id, parent_id: t.parent_id, name: t.name, owner_id: botUser.id, last_message_id: lastMessageId(t.id), rate_limit_per_user: 0,
      message_count: messages.get(t.id)?.length ?? 0, member_count: 1, flags: 0, total_message_sent: 0,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false, create_timestamp: new Date().toISOString() },
    };
  }

  const server = createServer((req, res) => void handle(req, res));
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    if (!(req.url ?? '').startsWith('/gateway')) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const apiUrl = `http://127.0.0.1:${port}/api`;
  const gatewayUrl = `ws://127.0.0.1:${port}/gateway`;

  function onSocket(ws: WebSocket): void {
    fake.stats.connections++;
    sockets.add(ws);
    ws.on('close', () => {
      sockets.delete(ws);
      for (const session of sessions.values()) if (session.socket === ws) session.socket = null;
    });
    ws.on('error', () => undefined);
    const send = (payload: unknown) => ws.readyState === 1 && ws.send(JSON.stringify(payload));
    send({ op: 10, d: { heartbeat_interval: opts.heartbeatIntervalMs ?? 2_000 }, s: null, t: null });
    let authenticated = false;
    ws.on('message', (raw) => {
      let p: { op: number; d: Record<string, unknown> | number | null };
      try {
        p = JSON.parse(String(raw)) as typeof p;
      } catch {
        return ws.close(4002, 'Error while decoding payload.');
      }
      const d = (typeof p.d === 'object' && p.d) || {};
      switch (p.op) {
        case 1:
          fake.stats.heartbeats++;
          return void send({ op: 11, d: null, s: null, t: null });
        case 2: {
          if (authenticated) return ws.close(4005, 'Already authenticated.');
          if (d.token !== token && d.token !== `Bot ${token}`) return ws.close(4004, 'Authentication failed.');
          const asked = identifyShard(d.shard, guilds.map((g) => g.id), opts.maxGuildsPerShard);
          if ('close' in asked) return ws.close(asked.close, asked.reason);
          const { shard } = asked;
          const bucket = shard[0] % Math.max(1, opts.maxConcurrency ?? 1);
          const last = identifiedAt.get(bucket);
          if (last !== undefined && Date.now() - last < IDENTIFY_WINDOW_MS) {
            fake.stats.identifiesRefused++;
            return void send({ op: 9, d: false, s: null, t: null });
          }
          identifiedAt.set(bucket, Date.now());
          sessionStarts = Math.max(0, sessionStarts - 1);
          authenticated = true;
          fake.stats.identifies++;
          fake.lastIdentify = d;
          const key = shard.join('/');
          sessions.get(key)?.socket?.close(4009, 'Session replaced');
          const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, buffer: [], socket: ws, intents: Number(d.intents ?? 0), shard };
          sessions.set(key, session);
          // READY and GUILD_CREATE name only the guilds of this shard.
          const own = guilds.filter((g) => carries(shard, g.id));
          deliver(session, 'READY', {
            v: 10, user: { ...botUser, verified: true, mfa_enabled: false, flags: 0 }, guilds: own.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id, resume_gateway_url: gatewayUrl, shard: [...shard], application: { id: applicationId, flags: 0 },
            private_channels: [], relationships: [], presences: [], guild_join_requests: [], geo_ordered_rtc_regions: [], user_settings: {},
          });
          for (const g of own) deliver(session, 'GUILD_CREATE', guildCreate(g));
          return sessionReady();
        }
        case 6: {
          if (authenticated) return ws.close(4005, 'Already authenticated.');
          if (d.token !== token && d.token !== `Bot ${token}`) return ws.close(4004, 'Authentication failed.');
          const session = [...sessions.values()].find((s) => s.id === d.session_id);
          if (refuseResume || !session) {
            refuseResume = false;
            return void send({ op: 9, d: false, s: null, t: null });
          }
          authenticated = true;
          fake.stats.resumes++;
          session.socket = ws;
          const after = Number(d.seq ?? 0);
          for (const packet of session.buffer) if (packet.s > after) send(packet);
          deliver(session, 'RESUMED', {});
          return sessionReady();
        }
        default:
          if (!authenticated) ws.close(4003, 'Not authenticated.');
      }
    });
  }

  // ---- REST ----
  async function readBody(req: IncomingMessage): Promise<{ json: Record<string, unknown>; files: Attachment[] }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      const json = JSON.parse(String(form.get('payload_json') ?? '{}')) as Record<string, unknown>;
      const files: Attachment[] = [];
      for (const [name, value] of form.entries()) {
        if (!name.startsWith('files[') || typeof value === 'string') continue;
        const content = Buffer.from(await value.arrayBuffer()).toString('utf8');
        const id = snowflake();
        files.push({ id, filename: value.name, size: Buffer.byteLength(content), url: `${apiUrl}/attachments/${id}/${value.name}`, proxy_url: `${apiUrl}/attachments/${id}/${value.name}`, content_type: value.type || 'text/plain', content });
      }
      return { json, files };
    }
    return { json: raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {}, files: [] };
  }

  const bucketHeaders = (route: string) => ({
    'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-reset': String(Date.now() / 1000 + 1),
    'x-ratelimit-bucket': createHash('sha1').update(route.replace(/\d{15,}/g, ':id')).digest('hex').slice(0, 16),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', apiUrl);
    const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, '');
    const method = req.method ?? 'GET';
    const route = `${method} ${path}`;
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      fake.requests.push({ method, route: path, status });
      res.writeHead(status, { ...bucketHeaders(route), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const limit = limits.find((l) => route.startsWith(l.match) && l.times > 0);
    if (limit) {
      limit.times--;
      return reply(429, { message: 'You are being rate limited.', retry_after: limit.retryAfterSeconds, global: false }, {
        'retry-after': String(Math.ceil(limit.retryAfterSeconds)), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': String(limit.retryAfterSeconds), 'x-ratelimit-scope': 'user',
      });
    }
    const open = /^\/(interactions|webhooks)\//.test(path);
    if (!open && req.headers.authorization !== `Bot ${token}`) return reply(401, { message: '401: Unauthorized', code: 0 });
    try {
      const body = await readBody(req);
      const crash = crashes.findIndex((c) => route.startsWith(c));
      const result = routeRequest(method, path, url.searchParams, body);
      if (crash >= 0) {
        crashes.splice(crash, 1);
        fake.requests.push({ method, route: path, status: 0 });
        req.socket.destroy();
        return;
      }
      return reply(result.status, result.body);
    } catch (err) {
      if (err instanceof HttpFailure) return reply(err.status, { message: err.message, code: err.code, ...err.extra });
      return reply(500, { message: (err as Error).message, code: 0 });
    }
  }

  function checkMessageBody(body: Record<string, unknown>, files: Attachment[], opts: { v2?: boolean } = {}): void {
    if (opts.v2 || (Number(body.flags ?? 0) & IS_COMPONENTS_V2) !== 0) return checkComponentsV2(body, files);
    const errors: Record<string, unknown> = {};
    const topLevel = Array.isArray(body.components) ? (body.components as { type?: number }[]) : [];
    // Without the V2 flag only action rows may be top-level components.
    if (topLevel.some((c) => c.type !== 1)) {
      throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { components: { _errors: [{ code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' }] } } });
    }
    const content = typeof body.content === 'string' ? body.content : '';
    if (content.length > 2000) errors.content = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] };
    if (typeof body.nonce === 'string' && body.nonce.length > 25) errors.nonce = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' }] };
    const rows = Array.isArray(body.components) ? (body.components as { components?: { custom_id?: string; label?: string }[] }[]) : [];
    if (rows.length > 5 || rows.some((r) => (r.components ?? []).length > 5 || (r.components ?? []).some((b) => (b.custom_id ?? '').length > 100 || (b.label ?? '').length > 80))) {
      errors.components = { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Components out of bounds.' }] };
    }
    if (Object.keys(errors).length > 0) throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors });
    if (!content && files.length === 0 && rows.length === 0 && !(Array.isArray(body.embeds) && body.embeds.length)) throw new HttpFailure(400, 50006, 'Cannot send an empty message');
  }

  /** Components V2 (flag 1 << 15): no content, embeds, poll or stickers; at most 40 components and 4,000 characters of text. */
  function checkComponentsV2(body: Record<string, unknown>, files: Attachment[]): void {
    const fail = (field: string, code: string, message: string): never => {
      throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { [field]: { _errors: [{ code, message }] } } });
    };
    for (const field of ['content', 'embeds', 'poll', 'sticker_ids'] as const) {
      const v = body[field];
      if ((typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0) || (v && typeof v === 'object' && !Array.isArray(v))) {
        fail(field, 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', `The '${field}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2`);
      }
    }
    const top = Array.isArray(body.components) ? (body.components as Record<string, unknown>[]) : [];
    if (top.length === 0 && files.length === 0) throw new HttpFailure(400, 50006, 'Cannot send an empty message');
    let count = 0;
    let text = 0;
    const button = (b: Record<string, unknown>) => {
      count++;
      if (b.type !== 2) fail('components', 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (2,).');
      if (String(b.custom_id ?? '').length === 0 || String(b.custom_id).length > 100) fail('components', 'BASE_TYPE_BAD_LENGTH', 'custom_id must be between 1 and 100 in length.');
      if (String(b.label ?? '').length > 80) fail('components', 'BASE_TYPE_MAX_LENGTH', 'label must be 80 or fewer in length.');
    };
    const textDisplay = (t: Record<string, unknown>) => {
      count++;
      const content = typeof t.content === 'string' ? t.content : '';
      if (content.length === 0) fail('components', 'BASE_TYPE_REQUIRED', 'This field is required');
      text += content.length;
    };
    const child = (c: Record<string, unknown>, inContainer: boolean) => {
      const kids = Array.isArray(c.components) ? (c.components as Record<string, unknown>[]) : [];
      switch (c.type) {
        case 1:
          count++;
          if (kids.length < 1 || kids.length > 5) fail('components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
          return kids.forEach(button);
        case 9: {
          count++;
          if (kids.length < 1 || kids.length > 3 || kids.some((k) => k.type !== 10)) fail('components', 'BASE_TYPE_BAD_LENGTH', 'A section takes 1 to 3 text displays.');
          kids.forEach(textDisplay);
          const accessory = c.accessory as Record<string, unknown> | undefined;
          if (!accessory) fail('components', 'BASE_TYPE_REQUIRED', 'accessory: This field is required');
          else if (accessory.type === 2) button(accessory);
          else if (accessory.type === 11) count++;
          else fail('components', 'UNION_TYPE_CHOICES', 'accessory: Value of field "type" must be one of (2, 11).');
          return;
        }
        case 10:
          return textDisplay(c);
        case 12:
        case 13:
          count++;
          return;
        case 14:
          count++;
          if (c.spacing !== undefined && c.spacing !== 1 && c.spacing !== 2) fail('components', 'UNION_TYPE_CHOICES', 'spacing must be one of (1, 2).');
          return;
        case 17:
          if (inContainer) fail('components', 'UNION_TYPE_CHOICES', 'A container cannot hold a container.');
          count++;
          if (c.accent_color !== undefined && c.accent_color !== null && (typeof c.accent_color !== 'number' || c.accent_color < 0 || c.accent_color > 0xffffff)) fail('components', 'NUMBER_TYPE_MAX', 'accent_color must be a 24-bit colour.');
          return kids.forEach((k) => child(k, true));
        default:
          fail('components', 'UNION_TYPE_CHOICES', `Component type ${String(c.type)} is not allowed here.`);
      }
    };
    top.forEach((c) => child(c, false));
    if (count > 40) fail('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 40 or fewer in length.');
    if (text > 4000) fail('components', 'COMPONENT_MAX_TOTAL_CONTENT_LENGTH_EXCEEDED', 'The total length of all text displays must be 4000 or fewer.');
    if (typeof body.nonce === 'string' && body.nonce.length > 25) fail('nonce', 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  }

  function routeRequest(method: string, path: string, query: URLSearchParams, { json, files }: { json: Record<string, unknown>; files: Attachment[] }): { status: number; body?: unknown } {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      return { status: 200, body: { url: gatewayUrl, shards: opts.recommendedShards ?? recommendedShards(guilds.length), session_start_limit: { total: 1000, remaining: sessionStarts, reset_after: 86_400_000, max_concurrency: opts.maxConcurrency ?? 1 } } };
    }
    if (method === 'GET' && path === '/gateway') return { status: 200, body: { url: gatewayUrl } };
    if (method === 'GET' && path === '/users/@me') return { status: 200, body: botUser };
    if (method === 'GET' && path === '/users/@me/guilds') {
      // Every guild the bot is in, whatever shard carries it: ascending ids after `after`, 1–200 a page.
      const limit = Number(query.get('limit') ?? 200);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { limit: { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 200.' }] } } });
      const after = BigInt(query.get('after') ?? '0');
      const page = [...guilds].sort(byId).filter((g) => BigInt(g.id) > after).slice(0, limit);
      return { status: 200, body: page.map((g) => ({ id: g.id, name: g.name, icon: null, banner: null, owner: false, permissions: '0', features: [] })) };
    }
    if (method === 'GET' && path === '/applications/@me') return { status: 200, body: { id: applicationId, name: 'Tacit', flags: 0, bot: botUser } };
    if ((m = /^\/applications\/(\d+)\/(?:guilds\/\d+\/)?commands$/.exec(path)) && method === 'GET') {
      if (m[1] !== applicationId) throw new HttpFailure(403, 50001, 'Missing Access');
      return { status: 200, body: fake.commands };
    }
    if ((m = /^\/applications\/(\d+)\/(?:guilds\/\d+\/)?commands$/.exec(path)) && method === 'PUT') {
      if (m[1] !== applicationId) throw new HttpFailure(403, 50001, 'Missing Access');
      // Discord keeps a command's id across overwrites and bumps its version when it changed.
      const list = (json as unknown as { name: string }[]).map((c) => {
        const before = (fake.commands as { id: string; name: string; version: string }[]).find((x) => x.name === c.name);
        return { id: before?.id ?? snowflake(), application_id: applicationId, version: snowflake(), type: 1, nsfw: false, ...c };
      });
      fake.commands = list;
      fake.registrations.push(json as unknown as unknown[]);
      return { status: 200, body: list };
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path))) {
      const channelId = m[1] ?? '';
      if (!knownChannel(channelId)) throw new HttpFailure(404, 10003, 'Unknown Channel');
      if (method === 'GET') {
        const limit = Math.min(Number(query.get('limit') ?? 50), 100);
        const before = query.get('before');
        const after = query.get('after');
        let list = [...channelsOf(channelId)].sort(byId);
        if (after) list = list.filter((x) => BigInt(x.id) > BigInt(after)).slice(0, limit);
        else if (before) list = list.filter((x) => BigInt(x.id) < BigInt(before)).slice(-limit);
        else list = list.slice(-limit);
        return { status: 200, body: list.reverse() }; // newest first, as Discord answers
      }
      if (method === 'POST') {
        checkMessageBody(json, files);
        const nonce = typeof json.nonce === 'string' || typeof json.nonce === 'number' ? String(json.nonce) : undefined;
        // enforce_nonce: a create by the same author with a nonce seen in the past few minutes returns
        // that earlier message and creates nothing (wherever it was posted: nonces are per author).
        if (nonce && json.enforce_nonce) {
          const earlier = nonces.get(`${botUser.id}:${nonce}`);
          if (earlier && Date.now() - earlier.at < (opts.nonceWindowMs ?? NONCE_WINDOW_MS)) return { status: 200, body: { ...earlier.message, nonce } };
        }
        const msg = makeMessage(channelId, botUser, String(json.content ?? ''), {
          flags: Number(json.flags ?? 0), components: (json.components as unknown[]) ?? [],
          attachments: files.map(({ content: _c, ...a }) => a), embeds: (json.embeds as unknown[]) ?? [],
        });
        if (nonce) nonces.set(`${botUser.id}:${nonce}`, { message: msg, at: Date.now() });
        fake.posts.push({ message: msg, body: json, files });
        dispatch('MESSAGE_CREATE', { ...forBot(msg), ...(nonce ? { nonce } : {}) });
        return { status: 200, body: { ...msg, ...(nonce ? { nonce } : {}) } };
      }
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const [, channelId = '', messageId = ''] = m;
      if (!knownChannel(channelId)) throw new HttpFailure(404, 10003, 'Unknown Channel');
      const msg = findMessage(channelId, messageId);
      if (!msg) throw new HttpFailure(404, 10008, 'Unknown Message');
      if (method === 'GET') return { status: 200, body: msg };
      if (method === 'PATCH') {
        if (msg.author.id !== botUser.id) throw new HttpFailure(403, 50005, 'Cannot edit a message authored by another user');
        // The V2 flag, once on a message, stays: its edits are V2 too (and a V2 edit replaces the content).
        const v2 = ((msg.flags | Number(json.flags ?? 0)) & IS_COMPONENTS_V2) !== 0;
        checkMessageBody(v2 ? json : { ...json, content: json.content ?? msg.content }, files, { v2 });
        if (v2) msg.content = '';
        else if (typeof json.content === 'string') msg.content = json.content;
        if (json.components) msg.components = json.components as unknown[];
        if (json.flags !== undefined) msg.flags = Number(json.flags) | (msg.flags & IS_COMPONENTS_V2);
        if (files.length || Array.isArray(json.attachments)) msg.attachments = [...msg.attachments.filter((a) => (json.attachments as { id?: string }[] | undefined)?.some((k) => k.id === a.id)), ...files.map(({ content: _c, ...a }) => a)];
        msg.edited_timestamp = new Date().toISOString();
        fake.edits.push({ channelId, messageId, body: json, files });
        dispatch('MESSAGE_UPDATE', forBot(msg));
        return { status: 200, body: msg };
      }
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path)) && method === 'POST') {
      const [, channelId = '', messageId = ''] = m;
      const guildId = channelGuild.get(channelId);
      if (!guildId) throw new HttpFailure(404, 10003, 'Unknown Channel');
      if (!findMessage(channelId, messageId)) throw new HttpFailure(404, 10008, 'Unknown Message');
      if (fake.threads.some((t) => t.id === messageId)) throw new HttpFailure(400, 160004, 'A thread has already been created for this message');
      const name = String(json.name ?? '');
      if (!name || name.length > 100) throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { name: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] } } });
      const thread: Thread = { id: messageId, parent_id: channelId, guild_id: guildId, name };
      fake.threads.push(thread);
      channelGuild.set(thread.id, guildId);
      dispatch('THREAD_CREATE', { ...threadObject(thread), newly_created: true });
      return { status: 201, body: threadObject(thread) };
    }
    if ((m = /^\/channels\/(\d+)$/.exec(path)) && method === 'GET') {
      const id = m[1] ?? '';
      const thread = fake.threads.find((t) => t.id === id);
      if (thread) return { status: 200, body: threadObject(thread) };
      const guildId = channelGuild.get(id);
      if (guildId) return { status: 200, body: { id, type: 0, guild_id: guildId, name: guilds.find((g) => g.id === guildId)?.channels.find((c) => c.id === id)?.name, position: 0, permission_overwrites: [] } };
      const recipient = dmRecipients.get(id);
      if (recipient) return { status: 200, body: { id, type: 1, recipients: [user(recipient)], last_message_id: null } };
      throw new HttpFailure(404, 10003, 'Unknown Channel');
    }
    if (method === 'POST' && path === '/users/@me/channels') {
      const recipient = String(json.recipient_id ?? '');
      if (!guilds.some((g) => g.members.some((x) => x.id === recipient))) throw new HttpFailure(400, 50007, 'Cannot send messages to this user');
      let dm = fake.dms.find((x) => x.recipient === recipient);
      if (!dm) {
        dm = { id: snowflake(), recipient };
        fake.dms.push(dm);
        dmRecipients.set(dm.id, recipient);
      }
      return { status: 200, body: { id: dm.id, type: 1, recipients: [user(recipient)], last_message_id: null, flags: 0 } };
    }
    if ((m = /^\/guilds\/(\d+)\/members\/(\d+)$/.exec(path)) && method === 'GET') {
      const [, guildId = '', userId = ''] = m;
      if (!guilds.some((g) => g.id === guildId)) throw new HttpFailure(404, 10004, 'Unknown Guild');
      if (!memberOf(guildId, userId) && userId !== botUser.id) throw new HttpFailure(404, 10007, 'Unknown Member');
      return { status: 200, body: apiMember(guildId, userId) };
    }
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === 'POST') {
      const [, id = '', itoken = ''] = m;
      const interaction = interactions.get(id);
      if (!interaction || interaction.token !== itoken) throw new HttpFailure(404, 10062, 'Unknown interaction');
      if (fake.callbacks.some((c) => c.interactionId === id)) throw new HttpFailure(400, 40060, 'Interaction has already been acknowledged.');
      // Discord forgets an interaction not answered within 3 s.
      if (Date.now() - interaction.at > INTERACTION_ANSWER_MS) throw new HttpFailure(404, 10062, 'Unknown interaction');
      const type = Number(json.type);
      if (![1, 4, 5, 6, 7, 9].includes(type)) throw new HttpFailure(400, 50035, 'Invalid Form Body');
      // A modal answers a command or a click, never a modal's own submission.
      if (type === 9) checkModal(json.data as Record<string, unknown> | undefined, interaction.type);
      // Updating the message (6, 7) needs a message: a click, or a modal submitted from one.
      if ((type === 6 || type === 7) && !interaction.messageId) throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'This interaction has no message to update.' }] } } });
      fake.callbacks.push({ interactionId: id, type, data: json.data as Record<string, unknown> | undefined, at: Date.now() });
      return query.get('with_response') === 'true' ? { status: 200, body: { interaction: { id, type: 3 } } } : { status: 204 };
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(\/messages\/@original)?$/.exec(path))) {
      const [, appId = '', itoken = '', original] = m;
      const interaction = [...interactions.values()].find((i) => i.token === itoken);
      if (appId !== applicationId || !interaction) throw new HttpFailure(404, 10015, 'Unknown Webhook');
      if (!fake.callbacks.some((c) => c.interactionId === interaction.id)) throw new HttpFailure(404, 10015, 'Unknown Webhook');
      checkMessageBody({ content: '', ...json }, files);
      if (original && method === 'PATCH') {
        fake.originals.push({ token: itoken, body: json });
        return { status: 200, body: { ...ephemeralMessage(interaction.channelId, json), id: interaction.id } };
      }
      if (!original && method === 'POST') {
        const ephemeral = (Number(json.flags ?? 0) & 64) === 64;
        const message = ephemeralMessage(interaction.channelId, json);
        fake.followups.push({ token: itoken, body: json, message, ephemeral });
        return { status: 200, body: message };
      }
    }
    throw new HttpFailure(404, 0, `404: Not Found (${method} ${path})`);
  }
  /** A modal (callback type 9): Discord's limits on its title, custom id, labels and text inputs. */
  function checkModal(data: Record<string, unknown> | undefined, interactionType: number | undefined): void {
    const fail = (message: string): never => {
      throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { data: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message }] } } });
    };
    if (interactionType === 5) throw new HttpFailure(400, 50035, 'Invalid Form Body', { errors: { type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'A modal cannot answer a modal submission.' }] } } });
    if (!data) return fail('data: This field is required');
    const title = String(data.title ?? '');
    const id = String(data.custom_id ?? '');
    if (title.length < 1 || title.length > 45) fail('title must be between 1 and 45 in length.');
    if (id.length < 1 || id.length > 100) fail('custom_id must be between 1 and 100 in length.');
    const components = Array.isArray(data.components) ? (data.components as Record<string, unknown>[]) : [];
    if (components.length < 1 || components.length > 5) fail('components must be between 1 and 5 in length.');
    for (const c of components) {
      if (c.type === 10) continue;
      const input = (c.type === 18 ? c.component : c.type === 1 ? (c.components as unknown[] | undefined)?.[0] : undefined) as Record<string, unknown> | undefined;
      if (!input || input.type !== 4) fail('A modal takes labels (18) around inputs, text displays (10) or action rows (1) with a text input.');
      const labelled = c.type === 18 ? c.label : input?.label;
      if (String(labelled ?? '').length < 1 || String(labelled).length > 45) fail('label must be between 1 and 45 in length.');
      if (c.type === 18 && input?.label !== undefined) fail('A text input inside a label takes no label of its own.');
      if (c.type === 18 && String(c.description ?? '').length > 100) fail('description must be 100 or fewer in length.');
      if (String(input?.placeholder ?? '').length > 100) fail('placeholder must be 100 or fewer in length.');
      if (Number(input?.max_length ?? 4000) > 4000 || String(input?.custom_id ?? '').length < 1) fail('text input: custom_id required, max_length at most 4000.');
      if (input?.style !== 1 && input?.style !== 2) fail('text input style must be 1 or 2.');
    }
  }

  function ephemeralMessage(channelId: string, json: Record<string, unknown>): Message {
    return {
      id: snowflake(), channel_id: channelId, author: botUser, content: String(json.content ?? ''), timestamp: new Date().toISOString(), edited_timestamp: null,
      tts: false, mention_everyone: false, mentions: [], mention_roles: [], attachments: [], embeds: [], components: [], pinned: false, type: 0, flags: Number(json.flags ?? 0),
    };
  }

  const interactionBase = (channelId: string, userId: string, type: number, messageId?: string) => {
    const guildId = channelGuild.get(channelId) ?? '';
    const id = snowflake();
    const itoken = `aW50ZXJhY3Rpb246${randomBytes(24).toString('hex')}`;
    interactions.set(id, { id, token: itoken, channelId, guildId, type, userId, messageId, at: Date.now() });
    const thread = fake.threads.find((t) => t.id === channelId);
    return {
      id, token: itoken, application_id: applicationId, guild_id: guildId, channel_id: channelId, version: 1, app_permissions: '0', locale: 'en-US',
      guild_locale: 'en-US', entitlements: [], authorizing_integration_owners: { 0: guildId }, context: 0, attachment_size_limit: 8_388_608,
      channel: thread ? threadObject(thread) : { id: channelId, type: 0, guild_id: guildId, name: guilds.flatMap((g) => g.channels).find((c) => c.id === channelId)?.name ?? 'channel' },
      guild: { id: guildId, locale: 'en-US', features: [] },
      // Interactions carry the member's total permissions in the channel; an owner has every one.
      member: { ...apiMember(guildId, userId), permissions: interactionPermissions(guildId, userId) },
    };
  };

  return {
    apiUrl, gatewayUrl, token, applicationId, botUser, guilds,
    get posts() { return fake.posts; }, get edits() { return fake.edits; }, get callbacks() { return fake.callbacks; },
    get followups() { return fake.followups; }, get originals() { return fake.originals; }, get threads() { return fake.threads; },
    get dms() { return fake.dms; }, get commands() { return fake.commands; }, get registrations() { return fake.registrations; }, get requests() { return fake.requests; },
    get stats() { return fake.stats; }, get lastIdentify() { return fake.lastIdentify; },
    history: (channelId) => [...(messages.get(channelId) ?? [])].sort(byId),
    say(channelId, userId, content, o = {}) {
      if (!knownChannel(channelId)) throw new Error(`fake discord: no channel ${channelId}`);
      const msg = makeMessage(channelId, user(userId), content);
      if (!o.silent) dispatch('MESSAGE_CREATE', forBot(msg));
      return msg;
    },
    editByUser(channelId, messageId, content) {
      const msg = findMessage(channelId, messageId);
      if (!msg) throw new Error(`fake discord: no message ${messageId}`);
      msg.content = content;
      msg.edited_timestamp = new Date().toISOString();
      dispatch('MESSAGE_UPDATE', forBot(msg));
      return msg;
    },
    deleteByUser(channelId, messageId) {
      const list = messages.get(channelId) ?? [];
      const i = list.findIndex((x) => x.id === messageId);
      if (i >= 0) list.splice(i, 1);
      dispatch('MESSAGE_DELETE', { id: messageId, channel_id: channelId, guild_id: channelGuild.get(channelId) });
    },
    click(channelId, messageId, customId, userId) {
      const message = findMessage(channelId, messageId);
      if (!message) throw new Error(`fake discord: no message ${messageId} in ${channelId}`);
      const base = interactionBase(channelId, userId, 3, messageId);
      dispatch('INTERACTION_CREATE', { ...base, type: 3, data: { custom_id: customId, component_type: 2 }, message });
      return { id: base.id, token: base.token };
    },
    submitModal(channelId, messageId, customId, userId, values) {
      const message = findMessage(channelId, messageId);
      if (!message) throw new Error(`fake discord: no message ${messageId} in ${channelId}`);
      const shown = fake.callbacks.find((c) => {
        const i = interactions.get(c.interactionId);
        return c.type === 9 && c.data?.custom_id === customId && i?.userId === userId && i.messageId === messageId;
      });
      if (!shown) throw new Error(`fake discord: no modal ${customId} was shown to ${userId} for message ${messageId}`);
      const base = interactionBase(channelId, userId, 5, messageId);
      let n = 0;
      const components = ((shown.data?.components ?? []) as Record<string, unknown>[]).flatMap((c): Record<string, unknown>[] => {
        const input = (c.type === 18 ? c.component : (c.components as unknown[] | undefined)?.[0]) as { custom_id?: string } | undefined;
        if (!input?.custom_id) return [];
        const answered = { type: 4, id: ++n, custom_id: input.custom_id, value: values[input.custom_id] ?? '' };
        return c.type === 18 ? [{ type: 18, id: ++n, component: answered }] : [{ type: 1, id: ++n, components: [answered] }];
      });
      dispatch('INTERACTION_CREATE', { ...base, type: 5, data: { custom_id: customId, components }, message });
      return { id: base.id, token: base.token };
    },
    openDm(userId) {
      if (!guilds.some((g) => g.members.some((x) => x.id === userId))) throw new Error(`fake discord: ${userId} shares no guild with the bot`);
      let dm = fake.dms.find((x) => x.recipient === userId);
      if (!dm) {
        dm = { id: snowflake(), recipient: userId };
        fake.dms.push(dm);
        dmRecipients.set(dm.id, userId);
      }
      return dm.id;
    },
    command(channelId, userId, subcommand, options = []) {
      const base = interactionBase(channelId, userId, 2);
      const registered = (fake.commands as { id: string; name: string }[]).find((c) => c.name === 'tacit');
      dispatch('INTERACTION_CREATE', {
        ...base, type: 2,
        data: { id: registered?.id ?? snowflake(), name: 'tacit', type: 1, guild_id: base.guild_id, options: [{ name: subcommand, type: 1, options }] },
      });
      return { id: base.id, token: base.token };
    },
    addGuild(guild) {
      guilds.push(structuredClone(guild));
      for (const c of guild.channels) channelGuild.set(c.id, guild.id);
      dispatch('GUILD_CREATE', guildCreate(guild));
    },
    removeGuild(guildId) {
      const i = guilds.findIndex((g) => g.id === guildId);
      if (i >= 0) guilds.splice(i, 1);
      dispatch('GUILD_DELETE', { id: guildId });
    },
    dropConnection(how = 4000, shardId) {
      for (const session of sessions.values()) {
        const socket = session.socket;
        if (!socket || (shardId !== undefined && session.shard[0] !== shardId)) continue;
        session.socket = null;
        if (how === 'abrupt') socket.terminate();
        else socket.close(how, 'closed by the fake');
      }
    },
    invalidateSession() {
      refuseResume = true;
    },
    rateLimit(match, o) {
      limits.push({ match, ...o });
    },
    crashAfterAccept(match) {
      crashes.push(match);
    },
    waitForSession: () => new Promise<void>((resolve) => sessionWaiters.push(resolve)),
    connected: () => [...sessions.values()].some((s) => s.socket?.readyState === 1),
    shards: () => [...sessions.values()].map((s) => ({ shard: [...s.shard] as [number, number], connected: s.socket?.readyState === 1, guilds: guilds.filter((g) => carries(s.shard, g.id)).map((g) => g.id) })),
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
