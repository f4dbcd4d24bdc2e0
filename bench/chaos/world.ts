// One scenario's world: a fresh Postgres database, a private Redis prefix (or a private redis-server),
// the local Slack as the chat side, and a real Tacit process between them with its alert sources.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type Post } from '../../test/fakes/slack.js';
import { admin } from '../../test/support/database.js';
import { databaseUrl, redisUrl as sharedRedisUrl } from '../../test/support/env.js';
import { dropPrefix } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';
import type { CreatedSource } from '../../test/support/sources.js';
import { freePort, TacitProcess } from './processes.js';

export const SIGNING_SECRET = 'chaos-slack-signing-secret-0123456789';
const ADMIN_TOKEN = `chaos-admin-${randomBytes(12).toString('hex')}`;
export const TEAM = DEFAULT_TEAM.teamId;
export const WORKSPACE_ID = `slack:${TEAM}`;
/** A workspace admin: settings such as the budget change only at an admin's word. */
const USER = 'U0ALICE';
const POSTS_PER_CHANNEL_PER_HOUR = 1000;
export const GRAFANA_TIMESTAMP_HEADER = 'x-grafana-alerting-timestamp';

export const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
export const logDir = join(tmpdir(), `tacit-chaos-${runId}`);

export type AlertKind = 'alertmanager' | 'grafana' | 'pagerduty' | 'sentry' | 'generic';
export type SourceKind = AlertKind | 'github';

export interface WorldOptions {
  name: string;
  /** Slack channels, each with its own Alertmanager source (posts are paced per channel). */
  channels?: number;
  /** One source of each kind, in the first channel (the fuzz and forgery rows). */
  allKinds?: boolean;
  /** A private redis-server instead of a prefix on the shared one. */
  redisUrl?: string;
  /** Rewrites Tacit's DATABASE_URL (through the pg proxy). */
  databaseUrl?: (url: string) => string;
  heartbeatIntervalMs?: number;
  /**
   * Off: every incident gets its own card and summary even when many open together (the default
   * folds five or more into one storm card). No command sets this, so the operator writes the setting.
   */
  storms?: boolean;
}

export interface World {
  name: string;
  tacit: TacitProcess;
  slack: FakeSlack;
  /** The runner's own connection to the scenario database, for checking outcomes. */
  db: pg.Pool;
  /** Slack channel ids (C…) in order; `sources[i]` is channel i's Alertmanager source. */
  channels: string[];
  sources: CreatedSource[];
  /** One source per kind, when `allKinds` was asked for. */
  byKind: Partial<Record<SourceKind, CreatedSource>>;
  heartbeatIntervalMs: number;
  close(): Promise<void>;
}


/** Worlds not closed yet: an interrupted run (Ctrl-C) still stops its Tacit and drops its database. */
const open = new Set<() => Promise<void>>();

export async function closeOpenWorlds(): Promise<void> {
  for (const close of [...open]) await close().catch(() => undefined);
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  mkdirSync(logDir, { recursive: true });
  const dbName = `tacit_chaos_${randomBytes(6).toString('hex')}`;
  // An empty database: Tacit runs its migrations at start, as in production.
  await admin((c) => c.query(`create database ${dbName}`));
  const url = databaseUrl(dbName);
  const prefix = `tacit-chaos-${randomBytes(5).toString('hex')}`;
  const channels = Array.from({ length: opts.channels ?? 1 }, (_, i) => `C0CHAOS${String(i).padStart(3, '0')}`);
  const slack = await startFakeSlack({
    teams: [{ ...DEFAULT_TEAM, channels: channels.map((id) => ({ id, name: id.toLowerCase() })), users: [{ id: USER, name: 'alice', role: 'admin' }] }],
  });
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1_000;
  const tacit = new TacitProcess(
    {
      DATABASE_URL: opts.databaseUrl ? opts.databaseUrl(url) : url,
      REDIS_URL: opts.redisUrl ?? sharedRedisUrl,
      TACIT_REDIS_PREFIX: prefix,
      TACIT_HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs),
      SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      TACIT_PLAYGROUND: 'off',
      TACIT_ADMIN_TOKEN: ADMIN_TOKEN,
      TACIT_SECRET_KEY: `chaos-secret-key-${randomBytes(16).toString('hex')}`,
    },
    await freePort(),
    join(logDir, `${opts.name}.log`),
  );
  const db = new pg.Pool({ connectionString: url, max: 4 });
  // An idle connection dropped under us (the database restarted) is the next query's problem, not a crash.
  db.on('error', (err) => process.stderr.write(`chaos: ${opts.name}: checking connection lost: ${err.message}\n`));
  const close = async () => {
    open.delete(close);
    await tacit.close();
    await slack.close();
    await db.end();
    if (!opts.redisUrl) await dropPrefix(prefix);
    await admin((c) => c.query(`drop database if exists ${dbName} with (force)`));
  };
  open.add(close);
  try {
    await tacit.start();
    // A slash command in each channel makes the workspace and the channel known, as a person would.
    for (const channel of channels) {
      const res = await slack.sendSlashCommand(`${tacit.url}/slack/events`, SIGNING_SECRET, { text: 'status', user_id: USER, channel_id: channel });
      if (res.status !== 200) throw new Error(`/tacit status in ${channel}: ${res.status} ${res.body}`);
    }
    // Slack is answered before the command runs: wait until the channels are recorded.
    await waitFor(
      async () => (await db.query<{ n: number }>(`select count(*)::int as n from channels where id = any($1)`, [channels.map((c) => `${WORKSPACE_ID}/${c}`)])).rows[0]?.n === channels.length,
      { timeoutMs: 20_000, what: 'the channels to be recorded' },
    );
    // The suite measures delivery, not restraint: raise the hourly budget (critical cards ignore it,
    // but warnings and summaries over it would wait an hour and look lost).
    const budget = await slack.sendSlashCommand(`${tacit.url}/slack/events`, SIGNING_SECRET, { text: `budget ${POSTS_PER_CHANNEL_PER_HOUR}`, user_id: USER, channel_id: channels[0] ?? '' });
    if (budget.status !== 200) throw new Error(`/tacit budget: ${budget.status} ${budget.body}`);
    await waitFor(
      async () => (await db.query<{ n: string | null }>(`select settings->>'postsPerChannelPerHour' as n from workspaces where id = $1`, [WORKSPACE_ID])).rows[0]?.n === String(POSTS_PER_CHANNEL_PER_HOUR),
      { timeoutMs: 20_000, what: `/tacit budget ${POSTS_PER_CHANNEL_PER_HOUR} to take effect` },
    );
    if (opts.storms === false) await db.query(`update workspaces set settings = settings || '{"storm": null}'::jsonb where id = $1`, [WORKSPACE_ID]);
    const sources: CreatedSource[] = [];
    for (const channel of channels) sources.push(await createSource(tacit.url, 'alertmanager', channel));
    const byKind: World['byKind'] = {};
    if (opts.allKinds) {
      const first = channels[0] ?? '';
      for (const kind of ['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic', 'github'] as const) {
        byKind[kind] = await createSource(tacit.url, kind, first);
      }
    }
    return { name: opts.name, tacit, slack, db, channels, sources, byKind, heartbeatIntervalMs, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** Through the admin API, as an operator would (Sentry and PagerDuty with their own signing secret). */
async function createSource(baseUrl: string, kind: SourceKind, channel: string): Promise<CreatedSource> {
  const secret = kind === 'sentry' || kind === 'pagerduty' ? randomBytes(16).toString('hex') : undefined;
  // Grafana signs with a timestamp here, so stale timestamps can be forged against it too.
  const settings = kind === 'grafana' ? { signature: true, timestampHeader: GRAFANA_TIMESTAMP_HEADER } : {};
  const res = await fetch(`${baseUrl}/api/sources`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ kind, workspaceId: WORKSPACE_ID, channelId: `${WORKSPACE_ID}/${channel}`, settings, ...(secret ? { secret } : {}) }),
  });
  if (res.status !== 201) throw new Error(`create ${kind} source: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as CreatedSource;
  return { ...created, secret: created.secret ?? secret };
}

/** Top-level posts (cards) on the chat side whose text starts with `Firing: <title> (`. */
export function cardsFor(slack: FakeSlack, title: string): Post[] {
  const head = `Firing: ${title} (`;
  return slack.posts.filter((p) => !p.thread_ts && (p.text ?? '').startsWith(head));
}

/** Posts accepted more than once under one outbox idempotency key. */
export function duplicatePosts(slack: FakeSlack): number {
  const seen = new Map<string, number>();
  for (const p of slack.posts) {
    const key = (p.metadata?.event_payload as { idempotency_key?: string } | undefined)?.idempotency_key;
    if (key) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.values()].reduce((n, c) => n + c - 1, 0);
}

/** Events not consumed by a tick and not quarantined: the workspace has not moved past them. */
export async function unconsumedEvents(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from events e where e.tick_id is null and not exists (select 1 from quarantine q where q.event_id = e.id)`,
  );
  return rows[0]?.n ?? 0;
}

export async function outboxByStatus(db: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(`select status, count(*)::int as n from outbox group by status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function count(db: pg.Pool, table: 'events' | 'quarantine'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]?.n ?? 0;
}
