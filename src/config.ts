// Configuration: the only module that reads the environment. Validated with zod at start-up so a bad
// value stops the process with one line naming the variable and what it expects.
import { delimiter, join } from 'node:path';
import { z } from 'zod';

export const defaults = {
  port: 3000,
  /** Where Tacit looks for a Redis when REDIS_URL is unset, before starting a private one. */
  redisUrl: 'redis://127.0.0.1:6379',
  /** Searched after PATH for the private Redis's redis-server (Debian/Ubuntu, source installs, Homebrew). */
  redisServerDirs: ['/usr/bin', '/usr/local/bin', '/opt/homebrew/bin'],
  dataDir: './.tacit',
  heartbeatIntervalMs: 10_000,
  webhookBodyLimitBytes: 1024 * 1024,
  model: 'claude-sonnet-5-5',
  triageModel: 'claude-haiku-5-5',
  /** Effort sent with each model call: triage is a cheap yes/no, decisions weigh the evidence. */
  triageEffort: 'low',
  effort: 'medium',
  /** How often each process checks that Redis still holds its schedules (see heartbeat/restore.ts). */
  restoreCheckIntervalMs: 1_000,
  /** Days rows are kept before the purge deletes them; 0 keeps them forever. approval_audit is never purged. */
  retention: {
    /** Channel messages and mentions (events of kind chat.*), once consumed by a tick. */
    chatTextDays: 30,
    /** Every other event (alerts, repo activity, acknowledgements), once consumed by a tick. */
    eventDays: 30,
    decisionDays: 90,
    /** Sent and skipped outbox rows; pending and dead ones are never purged. */
    outboxDays: 30,
    quarantineDays: 14,
    playgroundMessageDays: 30,
  },
  retentionIntervalMs: 60 * 60_000,
} as const;

/** Empty strings count as unset, so `VAR=` in a compose file or shell does not become a bad value. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a ${protocols.join(' or ')} URL such as ${example}` },
  );

const portMessage = 'expected a TCP port number from 1 to 65535 (0 picks a free port)';
const shardCountMessage = 'expected the total number of Discord shards over every process, at least 1';

const days = z.coerce.number({ message: 'expected a number of days (0 keeps forever)' }).min(0, 'expected a number of days (0 keeps forever)');

const envSchema = z.object({
  DATABASE_URL: optional(url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/tacit')),
  TACIT_DATA_DIR: optional(z.string()),
  REDIS_URL: optional(url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379')),
  /** A Redis Cluster's seed nodes instead of REDIS_URL: `host:port` or redis(s):// URLs, comma-separated. */
  REDIS_CLUSTER_NODES: optional(z.string().transform(parseClusterNodes)),
  /** The redis-server binary for the private Redis, instead of searching PATH. */
  TACIT_REDIS_SERVER: optional(z.string()),
  /** Internal, for tests: the address probed before a private Redis is started (default 127.0.0.1:6379). */
  TACIT_REDIS_DEFAULT_URL: optional(url(['redis:'], 'redis://127.0.0.1:6379')),
  PATH: optional(z.string()),
  PORT: optional(
    z.coerce
      .number({ message: portMessage })
      .int(portMessage)
      .min(0, portMessage)
      .max(65535, portMessage),
  ),
  HOST: optional(z.string()),
  TACIT_PUBLIC_URL: optional(url(['http:', 'https:'], 'https://tacit.example.com')),
  SLACK_BOT_TOKEN: optional(z.string().startsWith('xoxb-', 'expected a bot token starting with xoxb-')),
  SLACK_SIGNING_SECRET: optional(z.string().min(8, 'expected the signing secret from the Slack app page')),
  SLACK_CLIENT_ID: optional(z.string()),
  SLACK_CLIENT_SECRET: optional(z.string()),
  SLACK_STATE_SECRET: optional(z.string().min(16, 'expected at least 16 random characters')),
  SLACK_APP_TOKEN: optional(z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-')),
  SLACK_API_URL: optional(url(['http:', 'https:'], 'https://slack.com/api/')),
  /** Slack's history limits for this app: `limited` (commercial, not in the Marketplace: 1 read a minute) or `internal`. */
  SLACK_HISTORY_TIER: optional(z.enum(['limited', 'internal'], { error: 'expected limited (the default) or internal' })),
  DISCORD_TOKEN: optional(z.string()),
  DISCORD_APPLICATION_ID: optional(z.string().regex(/^\d{15,25}$/, 'expected a numeric Discord application id')),
  DISCORD_API_URL: optional(url(['http:', 'https:'], 'https://discord.com/api')),
  /** The gateway shards this process connects, comma-separated (e.g. `0,1`); needs DISCORD_SHARD_COUNT. */
  DISCORD_SHARD_IDS: optional(z.string().transform(parseShardIds)),
  /** How many shards the bot's guilds are split over, across every process; alone, this process runs them all. */
  DISCORD_SHARD_COUNT: optional(z.coerce.number({ message: shardCountMessage }).int(shardCountMessage).min(1, shardCountMessage)),
  GITHUB_API_URL: optional(url(['http:', 'https:'], 'https://api.github.com')),
  TACIT_GITHUB_RECONCILE_MS: optional(z.coerce.number().int().min(10_000, 'expected milliseconds, at least 10000')),
  ANTHROPIC_API_KEY: optional(z.string()),
  ANTHROPIC_BASE_URL: optional(url(['http:', 'https:'], 'https://api.anthropic.com')),
  TACIT_MODEL: optional(z.string()),
  TACIT_DAILY_TOKEN_BUDGET: optional(z.coerce.number().int().min(0, 'expected a number of tokens per workspace per day')),
  TACIT_TRIAGE_MODEL: optional(z.string()),
  TACIT_EFFORT: optional(z.enum(['low', 'medium', 'high', 'xhigh', 'max'])),
  TACIT_TRIAGE_EFFORT: optional(z.enum(['low', 'medium', 'high', 'xhigh', 'max'])),
  TACIT_SECRET_KEY: optional(z.string().min(32, 'expected at least 32 random characters (e.g. `openssl rand -hex 32`)')),
  TACIT_ADMIN_TOKEN: optional(z.string().min(16, 'expected at least 16 random characters')),
  TACIT_HEARTBEAT_INTERVAL_MS: optional(z.coerce.number().int().min(250, 'expected milliseconds, at least 250')),
  TACIT_HEARTBEAT_MODE: optional(z.enum(['sweep', 'schedulers'], { message: 'expected sweep or schedulers' })),
  TACIT_REDIS_PREFIX: optional(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected letters, digits, _ . or -')),
  TACIT_PLAYGROUND: optional(z.enum(['on', 'off'], { message: 'expected on or off' })),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  TACIT_RESTORE_CHECK_MS: optional(z.coerce.number().int().min(100, 'expected milliseconds, at least 100')),
  TACIT_RETAIN_CHAT_DAYS: optional(days),
  TACIT_RETAIN_EVENTS_DAYS: optional(days),
  TACIT_RETAIN_DECISIONS_DAYS: optional(days),
  TACIT_RETAIN_OUTBOX_DAYS: optional(days),
  TACIT_RETAIN_QUARANTINE_DAYS: optional(days),
  TACIT_RETAIN_PLAYGROUND_DAYS: optional(days),
  TACIT_RETENTION_INTERVAL_MS: optional(z.coerce.number().int().min(10_000, 'expected milliseconds, at least 10000')),
  TACIT_ROLES: optional(z.string().transform(parseRoles)),
});

export type Env = Record<string, string | undefined>;
/** How hard a Claude model thinks on a call (`output_config.effort`). */
export type ModelEffort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

export interface Config {
  database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };
  /** TACIT_DATA_DIR: where local state lives (embedded database, private Redis, the playground's generated key). */
  dataDir: string;
  /**
   * REDIS_URL when set (it must answer). Unset: the Redis at `defaultUrl` if one answers there, else a
   * private redis-server child with its data under `dataDir` (see db/embedded-redis.ts).
   */
  redis: { kind: 'url'; url: string } | { kind: 'embedded'; defaultUrl: string; dataDir: string; server: RedisServerLookup } | RedisClusterConfig;
  /** Namespace of every Redis key and BullMQ queue, so deployments can share a Redis. */
  redisPrefix: string;
  port: number;
  host: string;
  /** The URL senders and browsers reach Tacit at; default http://127.0.0.1:<port>. */
  publicUrl?: string;
  logLevel: string;
  heartbeatIntervalMs: number;
  /**
   * TACIT_HEARTBEAT_MODE: how beats are kept (heartbeat/scheduler.ts): `sweep`, one script call per
   * partition for many workspaces (the default: cheaper at every size measured), or `schedulers`,
   * one BullMQ job scheduler per workspace.
   */
  heartbeatMode: 'sweep' | 'schedulers';
  webhookBodyLimitBytes: number;
  slack: {
    botToken?: string;
    signingSecret?: string;
    clientId?: string;
    clientSecret?: string;
    stateSecret?: string;
    appToken?: string;
    apiUrl?: string;
    /** Slack's 2026 history-read limits for this app; backfill budgets by them. */
    historyTier: 'limited' | 'internal';
  };
  /** `shards`: DISCORD_SHARD_IDS / DISCORD_SHARD_COUNT; unset, one process connects the one shard (discord.js's default). */
  discord: { token?: string; applicationId?: string; apiUrl?: string; shards?: DiscordShards };
  /** GitHub REST API (GitHub Enterprise: https://<host>/api/v3); how often missed deliveries are recovered. */
  github: { apiUrl: string; reconcileIntervalMs: number };
  anthropic: { apiKey?: string; baseUrl?: string; model: string; triageModel: string; dailyTokenBudget: number; effort: ModelEffort; triageEffort: ModelEffort };
  secretKey?: string;
  adminToken?: string;
  /**
   * The local playground channel; on by default only when no Slack or Discord credentials are set
   * (TACIT_PLAYGROUND=on forces it). It brings loopback trust: requests from this machine, by a
   * loopback name, not relayed, need no admin token — a single-user development convenience.
   */
  playground: boolean;
  restoreCheckIntervalMs: number;
  /** TACIT_ROLES: what this process does (all by default); see `roles`. */
  roles: ReadonlySet<Role>;
  /** How long rows are kept, and how often the purge runs. */
  retention: { days: RetentionDays; intervalMs: number };
}

/**
 * What a process does, so work can be split between processes (every process answers /healthz,
 * /readyz and /metrics, restores Redis from Postgres when it was lost, and can queue any work):
 * - `http`: the public routes: webhooks, Slack events and installs, the dashboard and admin API, the playground;
 * - `heartbeat`: ticks, mention answers, investigations, memory dreams and the periodic maintenance;
 * - `delivery`: the outbox worker and its sweep;
 * - `actions`: executing approved actions.
 */
export const roles = ['http', 'heartbeat', 'delivery', 'actions'] as const;
export type Role = (typeof roles)[number];

function parseRoles(value: string, ctx: z.RefinementCtx): ReadonlySet<Role> {
  const chosen = value.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = chosen.filter((r) => !(roles as readonly string[]).includes(r));
  if (unknown.length > 0 || chosen.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${roles.join(', ')}${unknown.length > 0 ? ` (not ${unknown.join(', ')})` : ''}` });
    return z.NEVER;
  }
  return new Set(chosen as Role[]);
}

/**
 * REDIS_CLUSTER_NODES: a Redis Cluster (or Valkey cluster) reached through any of its nodes. The user,
 * password and TLS come from the first node given as a URL with them (every node shares them).
 */
export interface RedisClusterConfig {
  kind: 'cluster';
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

function parseClusterNodes(value: string, ctx: z.RefinementCtx): RedisClusterConfig {
  const cluster: RedisClusterConfig = { kind: 'cluster', nodes: [], tls: false };
  for (const entry of value.split(',').map((v) => v.trim()).filter(Boolean)) {
    const plain = /^([^\s:/]+):(\d{1,5})$/.exec(entry);
    if (plain?.[1] && plain[2]) {
      cluster.nodes.push({ host: plain[1], port: Number(plain[2]) });
      continue;
    }
    let u: URL | undefined;
    try {
      u = /^rediss?:\/\//.test(entry) ? new URL(entry) : undefined;
    } catch {
      u = undefined;
    }
    if (!u) {
      ctx.addIssue({ code: 'custom', message: `expected host:port or redis://host:port entries, comma-separated (not ${JSON.stringify(entry)})` });
      return z.NEVER;
    }
    cluster.nodes.push({ host: u.hostname, port: Number(u.port || 6379) });
    if (u.protocol === 'rediss:') cluster.tls = true;
    if (u.password && cluster.password === undefined) {
      cluster.password = decodeURIComponent(u.password);
      if (u.username) cluster.username = decodeURIComponent(u.username);
    }
  }
  if (cluster.nodes.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected at least one host:port' });
    return z.NEVER;
  }
  return cluster;
}

/**
 * Discord gateway sharding: Discord sends each guild's events to shard `(guild_id >> 22) % count`
 * only, so processes that split the ids between them each handle their own guilds, once.
 */
export interface DiscordShards {
  /** The shards this process connects, ascending. */
  ids: number[];
  /** The total over every process (what IDENTIFY sends as `shard: [id, count]`). */
  count: number;
}

function parseShardIds(value: string, ctx: z.RefinementCtx): number[] {
  const entries = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (entries.length === 0 || entries.some((v) => !/^\d{1,6}$/.test(v))) {
    ctx.addIssue({ code: 'custom', message: 'expected shard ids (0, 1, …), comma-separated, such as 0,1' });
    return z.NEVER;
  }
  return [...new Set(entries.map(Number))].sort((a, b) => a - b);
}

/** Both unset: undefined (one shard). A count alone: this process runs every shard. Ids need the count. */
function discordShards(ids: number[] | undefined, count: number | undefined): DiscordShards | undefined {
  if (count === undefined) {
    if (ids) throw new ConfigError('invalid Discord sharding: DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT, the total number of shards over every process');
    return undefined;
  }
  const outside = (ids ?? []).filter((id) => id >= count);
  if (outside.length > 0) {
    throw new ConfigError(`invalid DISCORD_SHARD_IDS: shard ${outside.join(', ')} is not below DISCORD_SHARD_COUNT=${count} (ids run from 0 to ${count - 1})`);
  }
  return { ids: ids ?? Array.from({ length: count }, (_, i) => i), count };
}

/** The redis-server the private Redis runs: the one TACIT_REDIS_SERVER names, or the first found in `dirs`. */
export type RedisServerLookup = { kind: 'path'; path: string } | { kind: 'search'; dirs: string[] };

/** Days each kind of row is kept; 0 keeps it forever. */
export type RetentionDays = { [K in keyof typeof defaults.retention]: number };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws ConfigError whose message is one line per bad variable. */
export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return `invalid ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const e = parsed.data;
  // Slack receives over HTTP (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN); it sends with one bot token or OAuth installs.
  const slackPartial = Boolean(e.SLACK_BOT_TOKEN) !== Boolean(e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN) && !e.SLACK_CLIENT_ID;
  if (slackPartial) {
    throw new ConfigError(
      'invalid Slack configuration: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) must be set together (or neither)',
    );
  }
  const slackOAuth = [e.SLACK_CLIENT_ID, e.SLACK_CLIENT_SECRET, e.SLACK_STATE_SECRET].filter(Boolean).length;
  if (slackOAuth > 0 && (slackOAuth < 3 || !(e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN))) {
    throw new ConfigError(
      'invalid Slack configuration: multi-workspace install needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) together',
    );
  }
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError('invalid Redis configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  const hasSlack = Boolean(e.SLACK_BOT_TOKEN || e.SLACK_CLIENT_ID);
  const hasDiscord = Boolean(e.DISCORD_TOKEN);
  return {
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'pglite', dataDir: e.TACIT_DATA_DIR ?? defaults.dataDir },
    dataDir: e.TACIT_DATA_DIR ?? defaults.dataDir,
    redis: e.REDIS_CLUSTER_NODES
      ? e.REDIS_CLUSTER_NODES
      : e.REDIS_URL
      ? { kind: 'url', url: e.REDIS_URL }
      : {
          kind: 'embedded',
          defaultUrl: e.TACIT_REDIS_DEFAULT_URL ?? defaults.redisUrl,
          dataDir: join(e.TACIT_DATA_DIR ?? defaults.dataDir, 'redis'),
          server: e.TACIT_REDIS_SERVER
            ? { kind: 'path', path: e.TACIT_REDIS_SERVER }
            : { kind: 'search', dirs: [...new Set([...(e.PATH ?? '').split(delimiter).filter(Boolean), ...defaults.redisServerDirs])] },
        },
    redisPrefix: e.TACIT_REDIS_PREFIX ?? 'tacit',
    port: e.PORT ?? defaults.port,
    host: e.HOST ?? '0.0.0.0',
    publicUrl: e.TACIT_PUBLIC_URL,
    logLevel: e.LOG_LEVEL ?? 'info',
    heartbeatIntervalMs: e.TACIT_HEARTBEAT_INTERVAL_MS ?? defaults.heartbeatIntervalMs,
    heartbeatMode: e.TACIT_HEARTBEAT_MODE ?? 'sweep',
    webhookBodyLimitBytes: defaults.webhookBodyLimitBytes,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      clientId: e.SLACK_CLIENT_ID,
      clientSecret: e.SLACK_CLIENT_SECRET,
      stateSecret: e.SLACK_STATE_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      historyTier: e.SLACK_HISTORY_TIER ?? 'limited',
    },
    discord: { token: e.DISCORD_TOKEN, applicationId: e.DISCORD_APPLICATION_ID, apiUrl: e.DISCORD_API_URL, shards: discordShards(e.DISCORD_SHARD_IDS, e.DISCORD_SHARD_COUNT) },
    github: { apiUrl: e.GITHUB_API_URL ?? 'https://api.github.com', reconcileIntervalMs: e.TACIT_GITHUB_RECONCILE_MS ?? 5 * 60_000 },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.TACIT_MODEL ?? defaults.model,
      triageModel: e.TACIT_TRIAGE_MODEL ?? defaults.triageModel,
      dailyTokenBudget: e.TACIT_DAILY_TOKEN_BUDGET ?? 2_000_000,
      effort: e.TACIT_EFFORT ?? defaults.effort,
      triageEffort: e.TACIT_TRIAGE_EFFORT ?? defaults.triageEffort,
    },
    secretKey: e.TACIT_SECRET_KEY,
    adminToken: e.TACIT_ADMIN_TOKEN,
    playground: e.TACIT_PLAYGROUND ? e.TACIT_PLAYGROUND === 'on' : !hasSlack && !hasDiscord,
    restoreCheckIntervalMs: e.TACIT_RESTORE_CHECK_MS ?? defaults.restoreCheckIntervalMs,
    roles: e.TACIT_ROLES ?? new Set(roles),
    retention: {
      days: {
        chatTextDays: e.TACIT_RETAIN_CHAT_DAYS ?? defaults.retention.chatTextDays,
        eventDays: e.TACIT_RETAIN_EVENTS_DAYS ?? defaults.retention.eventDays,
        decisionDays: e.TACIT_RETAIN_DECISIONS_DAYS ?? defaults.retention.decisionDays,
        outboxDays: e.TACIT_RETAIN_OUTBOX_DAYS ?? defaults.retention.outboxDays,
        quarantineDays: e.TACIT_RETAIN_QUARANTINE_DAYS ?? defaults.retention.quarantineDays,
        playgroundMessageDays: e.TACIT_RETAIN_PLAYGROUND_DAYS ?? defaults.retention.playgroundMessageDays,
      },
      intervalMs: e.TACIT_RETENTION_INTERVAL_MS ?? defaults.retentionIntervalMs,
    },
  };
}
