// Tacit killed with SIGKILL again and again while Slack is answering its posts: every incident's card
// and summary still reaches the channel exactly once and no outbox row is dead. Tacit runs as a real
// child process (`src/main.ts`), restarted after each kill on the same database and Redis prefix;
// Slack answers slowly, so each kill lands after Slack took a post and before Tacit recorded it.
//
// Size: KILL_DELIVERY_INCIDENTS (default 60) and KILL_DELIVERY_KILLS (default 4); the full
// run is KILL_DELIVERY_INCIDENTS=200 KILL_DELIVERY_KILLS=12.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type FakeTeam } from '../fakes/slack.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const INCIDENTS = Number(process.env.KILL_DELIVERY_INCIDENTS ?? 60);
const KILLS = Number(process.env.KILL_DELIVERY_KILLS ?? 4);
/** How long Slack takes to answer a post it has already accepted: the window each kill lands in. */
const ANSWER_MS = 400;
/** Slack paces posts per channel (about one a second): a few channels keep delivery going while kills land. */
const CHANNELS = 4;
const SIGNING_SECRET = 'slack-signing-secret-for-the-kill-test';
const WORKSPACE = `slack:${DEFAULT_TEAM.teamId}`;

const root = fileURLToPath(new URL('../..', import.meta.url));
const channelName = (i: number) => `C0INC${String(i % CHANNELS).padStart(2, '0')}`;
const TEAM: FakeTeam = { ...DEFAULT_TEAM, channels: Array.from({ length: CHANNELS }, (_, i) => ({ id: channelName(i), name: `incidents-${i}` })) };

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

/** `node --import tsx src/main.ts`, as an operator runs it, with its log kept (the last 200 kB). */
function startTacit(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: unknown) => void (log = (log + String(d)).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { process: child, exited, log: () => log };
}

/** Incidents as a tick leaves them: each with its card and its summary queued in the outbox. */
async function seedIncidents(pool: pg.Pool): Promise<void> {
  await pool.query(`insert into workspaces (id, platform, name) values ($1, 'slack', 'ops')`, [WORKSPACE]);
  for (let i = 0; i < INCIDENTS; i++) {
    const id = `inc_kill_${i}`;
    const channel = `${WORKSPACE}/${channelName(i)}`;
    await pool.query(
      `insert into incidents (id, workspace_id, channel_id, group_key, status, severity, title, alerts, started_at, announced_at)
       values ($1, $2, $3, $4, 'firing', 'critical', $5, '{}', now(), now())`,
      [id, WORKSPACE, channel, `kill-test:${i}`, `Node ${i} down`],
    );
    await pool.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, incident_id, incident_version, message, purpose, proactive) values
       ($1, $3, $4, 'post', $6, '{"type":"incident_parent"}', $8, 1, $9, 'card', true),
       ($2, $3, $5, 'post', $6, '{"type":"incident_thread"}', $8, 1, $7, 'summary', true)`,
      [`out_card_${i}`, `out_summary_${i}`, WORKSPACE, `incident:${id}:parent`, `incident:${id}:summary:firing`, channel,
        { text: `Node ${i} is down; summary` }, id, { text: `Firing: Node ${i} down` }],
    );
  }
}

const keyOf = (metadata: unknown): string | undefined =>
  ((metadata as { event_payload?: { idempotency_key?: string } } | undefined)?.event_payload?.idempotency_key);

describe('delivery through repeated kill -9 while Slack is answering', () => {
  let slack: FakeSlack | undefined;
  let db: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  let current: Child | undefined;
  const prefix = testPrefix();

  afterAll(async () => {
    current?.process.kill('SIGKILL');
    await current?.exited;
    await pool?.end();
    await dropPrefix(prefix);
    await db?.drop();
    await slack?.close();
  });

  it(`posts every card and summary of ${INCIDENTS} incidents exactly once through ${KILLS} kills, with no dead letters`, async () => {
    slack = await startFakeSlack({ teams: [TEAM] });
    slack.slowAnswers('chat.postMessage', ANSWER_MS);
    slack.slowAnswers('conversations.history', ANSWER_MS);
    slack.slowAnswers('conversations.replies', ANSWER_MS);
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
    await seedIncidents(pool);
    const env = {
      DATABASE_URL: db.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info',
      SLACK_BOT_TOKEN: TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off',
    };
    const fake = slack;
    const db_ = pool;
    const total = INCIDENTS * 2;
    const start = async () => {
      current = startTacit(env);
      const child = current;
      await waitFor(() => child.log().includes('tacit started') || child.process.exitCode !== null, { what: 'Tacit started', timeoutMs: 60_000 });
      if (child.process.exitCode !== null) throw new Error(`Tacit exited at start:\n${child.log()}`);
    };

    /** Kills at an acceptance that left the post Slack took unrecorded: they landed in the answer window. */
    let inWindow = 0;
    let atAcceptance = 0;
    await start();
    for (let k = 1; k <= KILLS; k++) {
      const acceptance = k < KILLS || KILLS === 1;
      if (acceptance) {
        // Kills spread over the run: each waits for its share of posts, then for the next one Slack takes.
        await waitFor(() => fake.posts.length >= Math.floor((k * total) / (KILLS + 1)), { what: `posts before kill ${k}`, timeoutMs: 120_000 });
        await fake.accepted('chat.postMessage');
      } else {
        // The last kill waits until a job an earlier kill orphaned runs again (its lock expired) and
        // kills it while Slack answers its lookup: that job stalls a second time.
        await waitFor(async () => (await db_.query(`select 1 from outbox where status = 'pending' and attempts >= 2 limit 1`)).rowCount, {
          what: 'a retried job running before the last kill', timeoutMs: 120_000, intervalMs: 20,
        });
      }
      current?.process.kill('SIGKILL');
      await current?.exited;
      // The post Slack just took is not recorded as sent: the crash hit between acceptance and record.
      if (acceptance) {
        atAcceptance++;
        const last = keyOf(fake.posts.at(-1)?.metadata);
        const { rows } = await db_.query(`select 1 from outbox where status = 'pending' and idempotency_key = $1`, [last]);
        if (rows.length === 1) inWindow++;
      }
      await start();
    }

    // Jobs of a killed process come back once their lock expires (BullMQ: 30 s) and the stalled check runs.
    await waitFor(async () => (await db_.query(`select 1 from outbox where status = 'pending' limit 1`)).rowCount === 0, {
      what: 'every outbox row delivered', timeoutMs: 180_000, intervalMs: 500,
    });

    const { rows: statuses } = await db_.query<{ status: string; n: number }>(`select status, count(*)::int as n from outbox group by status`);
    expect(statuses).toEqual([{ status: 'sent', n: total }]);
    expect(inWindow).toBe(atAcceptance);

    const byKey = new Map<string, number>();
    for (const p of fake.posts) {
      const key = keyOf(p.metadata) ?? 'none';
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    const twice = [...byKey].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    expect(fake.posts).toHaveLength(total);

    // Each summary is in its card's thread, and each row records the message Slack has.
    const { rows: sent } = await db_.query<{ idempotency_key: string; sent_message: { messageId: string } }>(`select idempotency_key, sent_message from outbox`);
    const tsOf = new Map(fake.posts.map((p) => [keyOf(p.metadata), p]));
    for (const row of sent) expect(tsOf.get(row.idempotency_key)?.ts).toBe(row.sent_message.messageId);
    for (let i = 0; i < INCIDENTS; i++) {
      const card = tsOf.get(`incident:inc_kill_${i}:parent`);
      expect(tsOf.get(`incident:inc_kill_${i}:summary:firing`)?.thread_ts).toBe(card?.ts);
    }
  }, 600_000);
});
