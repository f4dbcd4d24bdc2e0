// Benchmark: Alertmanager webhooks at a steady rate into one workspace, from 2xx (committed) to the
// incident's first thread reply — through the Slack adapter against the local fake Slack (real Bolt
// app and WebClient over loopback HTTP, the adapter's per-channel pacing on), and through the same
// Tacit with the playground adapter as the no-op baseline (it writes one row and answers at once: all
// of Tacit's path — intake, heartbeat tick, rules brain, policy, outbox, delivery — without a platform).
// Each alert is a new critical incident (a card, then a summary in its thread: two posts in its
// channel), spread round-robin over channels so that Slack's ~1 post/s per channel (bursts of 3) is
// respected: 50 alerts/s × 2 posts needs ≥100 channels. Options: --rate 50 --seconds 10 --channels 100.
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.js';
import { channels, incidents, outbox, workspaces } from '../src/db/schema.js';
import { createSecretBox } from '../src/db/secret-box.js';
import { createLogger } from '../src/log.js';
import { startTacit } from '../src/main.js';
import { createSource } from '../src/sources/sources.js';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack.js';
import { createBenchDatabase } from './database.js';
import { alertGroupBody } from './alerts.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TEAM = 'T0BENCH';

interface Options {
  rate: number;
  seconds: number;
  channels: number;
}
interface RunResult {
  sent: number;
  accepted: number;
  replied: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function alertBody(i: number): string {
  const name = `BenchAlert${i}`;
  return alertGroupBody(name, { severity: 'critical' }, { severity: 'critical' }, `{}/{severity="critical"}:{alertname="${name}"}`);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function run(kind: 'slack' | 'no-op', o: Options): Promise<RunResult> {
  const bench = await createBenchDatabase();
  const { database } = bench;
  const url = new URL(bench.url);
  const channelIds = Array.from({ length: o.channels }, (_, i) => `C0BENCH${String(i).padStart(4, '0')}`);
  const slack: FakeSlack | undefined =
    kind === 'slack' ? await startFakeSlack({ teams: [{ teamId: TEAM, botToken: 'xoxb-bench', botUserId: 'U0BENCHBOT', channels: channelIds.map((id) => ({ id, name: id.toLowerCase() })) }] }) : undefined;
  const secretKey = randomBytes(32).toString('hex');
  const prefix = `tacit-bench-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: url.toString(), REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TACIT_SECRET_KEY: secretKey,
    ...(slack ? { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: 'bench-signing-secret', SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' } : { TACIT_PLAYGROUND: 'on' }),
  });
  const tacit = await startTacit(config, { database, logger: createLogger('silent') });
  const { db } = database;
  const workspaceId = slack ? `slack:${TEAM}` : 'playground:bench';
  const chatIds = channelIds.map((c) => (slack ? `slack:${TEAM}/${c}` : `playground:${c.toLowerCase()}`));
  // Unrelated incidents opening many a second would be one alert storm: this measures each one's thread.
  await db.insert(workspaces).values({ id: workspaceId, platform: slack ? 'slack' : 'playground', name: 'bench', settings: { storm: null } });
  await db.insert(channels).values(chatIds.map((id) => ({ id, workspaceId, name: id })));
  await tacit.heartbeat.schedule(workspaceId, 10_000);
  const box = createSecretBox(secretKey);
  const hooks = await Promise.all(chatIds.map((channelId) => createSource(db, box, { workspaceId, channelId, kind: 'alertmanager' }, tacit.url)));

  // A steady rate: alert i leaves at t0 + i/rate, whatever the answers before it are doing.
  const total = o.rate * o.seconds;
  const accepted = new Map<number, number>();
  const t0 = Date.now() + 200;
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (i * 1000) / o.rate - Date.now())));
      const hook = hooks[i % hooks.length];
      if (!hook?.token) return;
      const res = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hook.token}` }, body: alertBody(i) });
      await res.arrayBuffer();
      if (res.ok) accepted.set(i, Date.now());
    }),
  );

  // The first thread reply of each incident: as the fake Slack received it, or (no-op) as the outbox recorded it sent.
  const latencies = new Map<number, number>();
  const deadline = Date.now() + 120_000;
  while (latencies.size < accepted.size && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const rows = await db.select({ id: incidents.id, groupKey: incidents.groupKey, parent: incidents.parentMessage }).from(incidents).where(eq(incidents.workspaceId, workspaceId));
    const byIncident = new Map(rows.map((r) => [r.id, r]));
    const replies = slack
      ? rows.flatMap((r) => {
          const post = r.parent ? slack.posts.find((p) => p.thread_ts === r.parent?.messageId) : undefined;
          return post ? [{ incidentId: r.id, at: post.receivedAt }] : [];
        })
      : (
          await db
            .select({ incidentId: outbox.incidentId, at: sql<Date>`min(${outbox.sentAt})` })
            .from(outbox)
            .where(and(inArray(outbox.status, ['sent']), sql`${outbox.anchor}->>'type' = 'incident_thread'`, eq(outbox.workspaceId, workspaceId)))
            .groupBy(outbox.incidentId)
        ).map((r) => ({ incidentId: r.incidentId ?? '', at: new Date(r.at).getTime() }));
    for (const { incidentId, at } of replies) {
      const i = Number(/BenchAlert(\d+)"/.exec(byIncident.get(incidentId)?.groupKey ?? '')?.[1] ?? NaN);
      const start = accepted.get(i);
      if (start !== undefined && !latencies.has(i)) latencies.set(i, at - start);
    }
  }

  // Where the time goes, per incident: webhook 2xx → the tick that opened it; its card queued → sent;
  // card sent → first thread reply sent (the reply waits for its parent).
  const stageRows = await db
    .select({
      groupKey: incidents.groupKey,
      opened: incidents.createdAt,
      cardQueued: sql<Date>`min(${outbox.createdAt}) filter (where ${outbox.anchor}->>'type' = 'incident_parent')`,
      cardSent: sql<Date>`min(${outbox.sentAt}) filter (where ${outbox.anchor}->>'type' = 'incident_parent')`,
      replySent: sql<Date>`min(${outbox.sentAt}) filter (where ${outbox.anchor}->>'type' = 'incident_thread')`,
    })
    .from(incidents)
    .innerJoin(outbox, eq(outbox.incidentId, incidents.id))
    .where(eq(incidents.workspaceId, workspaceId))
    .groupBy(incidents.id);
  const tickLag: number[] = [];
  const cardDelivery: number[] = [];
  const replyAfterCard: number[] = [];
  for (const r of stageRows) {
    const start = accepted.get(Number(/BenchAlert(\d+)"/.exec(r.groupKey)?.[1] ?? NaN));
    const t = (d: Date | null) => (d ? new Date(d).getTime() : NaN);
    if (start !== undefined) tickLag.push(t(r.opened) - start);
    cardDelivery.push(t(r.cardSent) - t(r.cardQueued));
    replyAfterCard.push(t(r.replySent) - t(r.cardSent));
  }
  const stages = Object.fromEntries(
    Object.entries({ tickLag, cardDelivery, replyAfterCard }).map(([k, v]) => {
      const sortedStage = v.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
      return [k, `${pct(sortedStage, 50)} / ${pct(sortedStage, 99)}`];
    }),
  );
  console.log(`${kind} stages p50 / p99 ms:`, stages);

  await tacit.stop();
  await slack?.close();
  await bench.drop();
  const sorted = [...latencies.values()].sort((a, b) => a - b);
  return { sent: total, accepted: accepted.size, replied: sorted.length, p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), maxMs: sorted.at(-1) ?? NaN };
}

export async function benchAlertToThread(args: string[] = []): Promise<void> {
  const opt = (flag: string, fallback: number) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const o: Options = { rate: opt('--rate', 50), seconds: opt('--seconds', 10), channels: opt('--channels', 100) };
  const slack = await run('slack', o);
  const noop = await run('no-op', o);
  console.log(`\nalert-to-thread: ${o.rate} Alertmanager alerts/s for ${o.seconds} s over ${o.channels} channels (rules brain), each a new`);
  console.log('critical incident; latency from the webhook 2xx to the first reply in the incident thread');
  console.table(
    [['slack (fake Slack over HTTP, paced)', slack], ['no-op (playground adapter)', noop]].map(([label, r]) => {
      const x = r as RunResult;
      return { adapter: label as string, sent: x.sent, accepted: x.accepted, 'thread replies': x.replied, 'p50 ms': Math.round(x.p50Ms), 'p99 ms': Math.round(x.p99Ms), 'max ms': Math.round(x.maxMs) };
    }),
  );
  console.log(`ratio slack/no-op: p50 ${(slack.p50Ms / noop.p50Ms).toFixed(2)}, p99 ${(slack.p99Ms / noop.p99Ms).toFixed(2)}`);
}
