// Benchmark: an alert storm — thousands of Alertmanager alerts, each its own group (so each its own
// incident), posted as authenticated webhooks into a few channels of one Slack workspace, through the
// real Slack adapter against the local fake Slack with Slack's per-channel posting limit enforced
// (about one chat.postMessage per second per channel, short bursts; beyond it 429 + Retry-After).
// Runs twice in the same process: storms on (the default policy) and off (settings `{"storm": null}`),
// and prints, per run, posts per alert, 429s per 1,000 Slack requests, time until the outbox is
// drained (or the cap), and whether every incident is represented in Slack: its own card, or a line in
// its storm's alert file. Options: --alerts 2000 --channels 3 --cap 70 (s per run) --burst 3 --senders 32.
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/client.js';
import { channels, incidents, outbox, workspaces } from '../src/db/schema.js';
import { createSecretBox } from '../src/db/secret-box.js';
import { createLogger } from '../src/log.js';
import { startTacit } from '../src/main.js';
import { STORM_SETTLED_MS } from '../src/core/storms.js';
import { createSource } from '../src/sources/sources.js';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack.js';
import { createBenchDatabase } from './database.js';
import { alertGroupBody } from './alerts.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TEAM = 'T0STORM';
/** The outbox counts as drained once nothing is pending and nothing new was queued for this long. */
const QUIET_MS = 5_000;

interface Options {
  alerts: number;
  channels: number;
  capSeconds: number;
  burst: number;
  senders: number;
  /** The workspace's postsPerChannelPerHour; absent keeps Tacit's default (20). */
  budget?: number;
}
interface RunResult {
  accepted: number;
  incidents: number;
  storms: number;
  posts: number;
  updates: number;
  files: number;
  requests: number;
  throttled: number;
  /** From the first webhook to the drained outbox; null when the cap came first. */
  drainMs: number | null;
  sendMs: number;
  outbox: Record<string, number>;
  ownCard: number;
  inStormFile: number;
  /** Members whose storm card was posted (and counts them) but whose line is not in its alert file. */
  cardOnly: number;
  missing: number;
  /** What the storm cards say now: "Alert storm: N incidents" summed over storms. */
  stormCardCount: number;
}

/** Alert i of the storm: its own alertname and group, so its own incident; one cluster for all (one database down). */
function alertBody(i: number): string {
  const name = `StormAlert${i}`;
  const severity = i % 4 === 0 ? 'critical' : 'warning';
  return alertGroupBody(name, { service: `svc-${i}`, severity }, { service: `svc-${i}` }, `{}/{cluster="prod-eu-1"}:{alertname="${name}"}`);
}

/** Sends every alert as fast as `senders` concurrent clients can; returns how many were answered 2xx. */
async function sendStorm(hooks: { url: string; token?: string }[], o: Options): Promise<number> {
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: o.senders }, async () => {
      while (next < o.alerts) {
        const i = next++;
        const hook = hooks[i % hooks.length];
        if (!hook?.token) continue;
        const res = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hook.token}` }, body: alertBody(i) });
        await res.arrayBuffer();
        if (res.ok) accepted++;
      }
    }),
  );
  return accepted;
}

async function outboxByStatus(database: Database, workspaceId: string): Promise<Record<string, number>> {
  const rows = await database.db.select({ status: outbox.status, n: count() }).from(outbox).where(eq(outbox.workspaceId, workspaceId)).groupBy(outbox.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Polls until every alert is an incident, nothing is pending and nothing new was queued for QUIET_MS, or the deadline. */
async function waitForDrain(database: Database, workspaceId: string, accepted: number, t0: number, deadline: number, notBefore = 0): Promise<number | null> {
  let quietSince: number | null = null;
  let lastTotal = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const byStatus = await outboxByStatus(database, workspaceId);
    const [{ n } = { n: 0 }] = await database.db.select({ n: count() }).from(incidents).where(eq(incidents.workspaceId, workspaceId));
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const settled = (byStatus.pending ?? 0) === 0 && n >= accepted && total === lastTotal;
    lastTotal = total;
    if (!settled) quietSince = null;
    else if (quietSince === null) quietSince = Date.now();
    else if (Date.now() - quietSince >= QUIET_MS && Date.now() >= notBefore) return quietSince - t0;
  }
  return null;
}

/**
 * Every alert incident as Slack shows it: its own card (a top-level post the fake accepted), or a line
 * in the latest alert file in its storm card's thread (the card itself lists six and counts the rest).
 */
async function representation(database: Database, slack: FakeSlack, workspaceId: string) {
  const rows = await database.db
    .select({ id: incidents.id, kind: incidents.kind, stormId: incidents.stormId, card: incidents.parentMessage })
    .from(incidents)
    .where(eq(incidents.workspaceId, workspaceId));
  const topLevel = new Set(slack.posts.filter((p) => !p.thread_ts).map((p) => p.ts));
  const cardOf = new Map(rows.map((r) => [r.id, r.card && topLevel.has(r.card.messageId) ? r.card.messageId : null]));
  const fileOf = new Map<string, string>();
  for (const f of slack.files) if (f.thread_ts && f.ts) fileOf.set(f.thread_ts, f.content.toString('utf8'));
  let [ownCard, inStormFile, cardOnly, missing] = [0, 0, 0, 0];
  for (const r of rows.filter((x) => x.kind !== 'storm')) {
    const stormCard = r.stormId ? cardOf.get(r.stormId) : null;
    if (cardOf.get(r.id)) ownCard++;
    else if (stormCard && fileOf.get(stormCard)?.includes(r.id)) inStormFile++;
    else if (stormCard) cardOnly++;
    else missing++;
  }
  // The storm card as it stands in the channel now (edits applied).
  const stormCards = rows.filter((r) => r.kind === 'storm' && r.card).map((r) => slack.history(r.card?.channelId.split('/').pop() ?? '').find((m) => m.ts === r.card?.messageId));
  const stormCardCount = stormCards.reduce((sum, m) => sum + Number((/Alert storm: ([\d,]+) incidents/.exec(m?.text ?? '')?.[1] ?? '0').replace(/,/g, '')), 0);
  return { ownCard, inStormFile, cardOnly, missing, stormCardCount, storms: rows.filter((r) => r.kind === 'storm').length, incidents: rows.length };
}

async function run(storms: boolean, o: Options): Promise<RunResult> {
  const bench = await createBenchDatabase();
  const { database } = bench;
  const url = new URL(bench.url);
  const channelIds = Array.from({ length: o.channels }, (_, i) => `C0STORM${String(i).padStart(3, '0')}`);
  const slack = await startFakeSlack({
    teams: [{ teamId: TEAM, botToken: 'xoxb-storm', botUserId: 'U0STORMBOT', channels: channelIds.map((id) => ({ id, name: id.toLowerCase() })) }],
    channelPostLimit: { intervalMs: 1_000, burst: o.burst },
  });
  const secretKey = randomBytes(32).toString('hex');
  const config = loadConfig({
    DATABASE_URL: url.toString(), REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: `tacit-bench-${randomBytes(4).toString('hex')}`, PORT: '0', HOST: '127.0.0.1',
    LOG_LEVEL: 'silent', TACIT_SECRET_KEY: secretKey, SLACK_BOT_TOKEN: 'xoxb-storm', SLACK_SIGNING_SECRET: 'storm-signing-secret', SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off',
  });
  const tacit = await startTacit(config, { database, logger: createLogger('silent') });
  const workspaceId = `slack:${TEAM}`;
  const chatIds = channelIds.map((c) => `slack:${TEAM}/${c}`);
  await database.db.insert(workspaces).values({ id: workspaceId, platform: 'slack', name: 'storm bench', settings: { ...(storms ? {} : { storm: null }), ...(o.budget === undefined ? {} : { postsPerChannelPerHour: o.budget }) } });
  await database.db.insert(channels).values(chatIds.map((id) => ({ id, workspaceId, name: id })));
  await tacit.heartbeat.schedule(workspaceId, 10_000);
  const box = createSecretBox(secretKey);
  const hooks = await Promise.all(chatIds.map((channelId) => createSource(database.db, box, { workspaceId, channelId, kind: 'alertmanager' }, tacit.url)));

  const t0 = Date.now();
  const accepted = await sendStorm(hooks, o);
  const sendMs = Date.now() - t0;
  // A storm's whole member list follows once it has had no new member for a while (core/storms), at
  // the first 10-second beat after that.
  const notBefore = storms ? Date.now() + STORM_SETTLED_MS + 12_000 : 0;
  const drainMs = await waitForDrain(database, workspaceId, accepted, t0, t0 + o.capSeconds * 1000, notBefore);
  const outboxNow = await outboxByStatus(database, workspaceId);
  const shown = await representation(database, slack, workspaceId);
  const result: RunResult = {
    accepted, sendMs, drainMs, outbox: outboxNow, ...shown,
    posts: slack.posts.length, updates: slack.updates.length, files: slack.files.filter((f) => f.ts).length,
    requests: slack.calls(), throttled: slack.throttled(),
  };

  await tacit.stop();
  await slack.close();
  await bench.drop();
  return result;
}

export async function benchStorm(args: string[] = []): Promise<void> {
  const opt = (flag: string, fallback: number) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const o: Options = { alerts: opt('--alerts', 2000), channels: opt('--channels', 3), capSeconds: opt('--cap', 70), burst: opt('--burst', 3), senders: opt('--senders', 32) };
  if (args.includes('--budget')) o.budget = opt('--budget', 20);
  const on = await run(true, o);
  const off = await run(false, o);
  console.log(`\nstorm: ${o.alerts} Alertmanager alerts (each its own group) from ${o.senders} senders into ${o.channels} channels of one Slack`);
  console.log(`workspace, through the Slack adapter against the fake Slack (chat.postMessage: 1/s per channel, bursts of ${o.burst}, else 429);`);
  console.log(`measured until the outbox is drained (nothing pending, nothing new for ${QUIET_MS / 1000} s) or ${o.capSeconds} s; posts per channel per hour: ${o.budget ?? 'default (20)'}`);
  const row = (label: string, r: RunResult) => ({
    storms: label,
    'alerts sent / 2xx': `${o.alerts} / ${r.accepted}`,
    'send s': (r.sendMs / 1000).toFixed(1),
    incidents: `${r.incidents} (${r.storms} storm)`,
    'posts+updates+files': `${r.posts}+${r.updates}+${r.files}`,
    'per alert': ((r.posts + r.updates + r.files) / Math.max(1, r.accepted)).toFixed(3),
    'slack requests': r.requests,
    '429 per 1,000': ((r.throttled / Math.max(1, r.requests)) * 1000).toFixed(1),
    'drained s': r.drainMs === null ? `no (cap ${o.capSeconds})` : (r.drainMs / 1000).toFixed(1),
    'outbox sent/pending/skipped/dead': ['sent', 'pending', 'skipped', 'dead'].map((s) => r.outbox[s] ?? 0).join('/'),
    'own card / in storm file / storm card only / not shown': `${r.ownCard} / ${r.inStormFile} / ${r.cardOnly} / ${r.missing}`,
    'storm cards say': r.storms > 0 ? r.stormCardCount : '-',
  });
  console.table([row('on (default policy)', on), row('off ({"storm": null})', off)]);
  const pendingOff = off.outbox.pending ?? 0;
  if (off.drainMs === null && pendingOff > 0) {
    console.log(`storms off: ${pendingOff} posts still pending at the cap; at 1 post/s per channel that is ≥ ${Math.ceil(pendingOff / o.channels)} s more`);
  }
}
