// Three Tacit processes on one Postgres and one Redis under a mixed load — alerts across 200
// workspaces, mentions in the playground, approvals clicked there — and one of them killed with
// SIGKILL mid-way: nothing accepted is lost, nothing is posted or executed twice, and the survivors
// take over the dead one's ticks within one beat of its tick locks running out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { PLAYGROUND_CHANNEL, PLAYGROUND_WORKSPACE_ID } from '../../src/chat/playground/types.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { fixture } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { Balancer, spawnTacit, stopTacit, type TacitProcess } from '../support/tacit-process.js';
import { waitFor } from '../support/wait.js';
import { countLocks, watchTakeover, type TakeoverReport } from './takeover.js';

const WORKSPACES = 200;
const GROUPS_PER_WORKSPACE = 2;
const MENTIONS = 24;
const APPROVALS = 6;
const INTERVAL_MS = 1_000;
/** signals.ts: a killed holder's tick lock runs out after at most this. */
const LOCK_TTL_MS = 15_000;
const ws = (i: number) => `playground:mp${i}`;
const channel = (i: number) => `playground:mp${i}-ops`;
const json = { 'content-type': 'application/json' };

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

function alertGroup(alertname: string, fingerprint: string): string {
  const alert = structuredClone(JSON.parse(fixture('alertmanager/firing.json').toString()));
  alert.groupKey = `{}:{alertname="${alertname}"}`;
  alert.groupLabels = { alertname };
  alert.commonLabels = { ...alert.commonLabels, alertname };
  alert.commonAnnotations = { ...alert.commonAnnotations, summary: `${alertname} is firing.` };
  alert.alerts = [{ ...alert.alerts[0], fingerprint, labels: { ...alert.alerts[0].labels, alertname }, annotations: { ...alert.alerts[0].annotations, summary: `${alertname} is firing.` }, startsAt: new Date().toISOString() }];
  return JSON.stringify(alert);
}

describe('three Tacit processes, one killed with SIGKILL', () => {
  let db: TestDatabase;
  let direct: pg.Client;
  let redis: Redis;
  let alertmanager: FakeAlertmanager;
  let lb: Balancer;
  const prefix = testPrefix();
  const dataDir = mkdtempSync(join(tmpdir(), 'tacit-three-'));
  const procs: TacitProcess[] = [];
  const sources = new Map<string, { id: string; token: string }>();

  const count = async (sql: string, params: unknown[] = []) => Number((await direct.query(sql, params)).rows[0]?.n ?? 0);

  beforeAll(async () => {
    [db, alertmanager] = await Promise.all([createTestDatabase(), startFakeAlertmanager()]);
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    redis = new Redis(redisUrl);
    for (let i = 0; i < WORKSPACES; i++) {
      await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', $1)`, [ws(i)]);
      await direct.query(`insert into channels (id, workspace_id, name) values ($1, $2, 'ops')`, [channel(i), ws(i)]);
    }
    const env = {
      DATABASE_URL: db.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', TACIT_DATA_DIR: dataDir,
      TACIT_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), LOG_LEVEL: 'info', TACIT_PLAYGROUND: 'on',
      TACIT_SECRET_KEY: 'three-processes-test-secret-key-0123456789',
    };
    // All at once, as a Deployment's replicas start (migrations take turns under an advisory lock).
    const started = Date.now();
    procs.push(...(await Promise.all([0, 1, 2].map((n) => spawnTacit(env, `process ${n}`)))));
    const ready = Date.now();
    lb = new Balancer(procs);
    const api = async (method: string, path: string, body: unknown) => {
      const { res } = await lb.fetch(path, { method, headers: json, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: string; token: string }>;
    };
    const targets = [...Array.from({ length: WORKSPACES }, (_, i) => ({ workspaceId: ws(i), channelId: channel(i) })), { workspaceId: PLAYGROUND_WORKSPACE_ID, channelId: PLAYGROUND_CHANNEL.id }];
    await pool(targets, 16, async (t) => {
      sources.set(t.workspaceId, await api('POST', '/api/sources', { ...t, kind: 'alertmanager' }));
      // Groups opening within seconds would be one alert storm (one card): storms are not what this is about.
      await api('PUT', `/api/workspaces/${t.workspaceId}/storm`, { storm: null });
    });
    await api('PUT', `/api/workspaces/${PLAYGROUND_WORKSPACE_ID}/integrations/alertmanager/default`, { settings: { url: alertmanager.url } });
    console.log(`set-up: three processes started in ${ready - started} ms; ${targets.length} sources and storm settings in ${Date.now() - ready} ms`);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => stopTacit(p)));
    redis?.disconnect();
    await direct?.end();
    await alertmanager?.close();
    await dropPrefix(prefix);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Posts an alert group until some process accepts it (a dead one's requests go to the next). */
  async function fire(workspaceId: string, alertname: string): Promise<void> {
    const source = sources.get(workspaceId);
    if (!source) throw new Error(`no source for ${workspaceId}`);
    const headers = { ...json, authorization: `Bearer ${source.token}` };
    const { res } = await lb.fetch(`/hooks/alerts/${source.id}`, { method: 'POST', headers, body: alertGroup(alertname, `fp-${workspaceId}-${alertname}`) });
    if (res.status !== 200) throw new Error(`alert ${alertname} in ${workspaceId}: ${res.status} ${await res.text()}`);
  }

  /** A person's message in the playground channel; `retried` when a process died under an earlier attempt. */
  async function say(userId: string, text: string, threadId?: string): Promise<{ id: string; retried: boolean }> {
    const { res, attempts } = await lb.fetch('/playground/api/messages', {
      method: 'POST', headers: json, body: JSON.stringify({ userId, channelId: PLAYGROUND_CHANNEL.id, text, threadId }),
    });
    if (res.status !== 201) throw new Error(`say: ${res.status} ${await res.text()}`);
    return { id: ((await res.json()) as { id: string }).id, retried: attempts > 1 };
  }

  type Row = { id: string; thread_id: string | null; text: string; blocks: unknown[] };
  const botMessage = (where: string, params: unknown[]) =>
    waitFor(async () => (await direct.query<Row>(`select id, thread_id, text, blocks from playground_messages where is_bot and ${where} limit 1`, params)).rows[0], {
      what: `a bot message where ${where} (${params.join(', ')})`, timeoutMs: 60_000, intervalMs: 200,
    }).catch(async (err: Error) => {
      // What the outbox holds for that thread, and what the processes said about it: enough to see where it stuck.
      const thread = String(params[0] ?? '');
      const rows = (await direct.query(`select id, purpose, status, attempts, last_error, created_at from outbox where anchor->>'threadId' = $1 or purpose = 'approval' order by created_at`, [thread])).rows;
      const said = procs.flatMap((p, i) => p.output().split('\n').filter((l) => l.includes(thread) || rows.some((r) => l.includes(String(r.id)))).slice(-20).map((l) => `process ${i}: ${l.slice(0, 400)}`));
      throw new Error(`${err.message}\noutbox: ${JSON.stringify(rows)}\n${said.join('\n')}`);
    });

  /** Alert, card, "@tacit silence this", approval card, Approve by alice. Returns the approval id. */
  async function approvalFlow(n: number): Promise<string> {
    const alertname = `Approve${n}`;
    await fire(PLAYGROUND_WORKSPACE_ID, alertname);
    const card = await botMessage(`channel_id = $1 and thread_id is null and text like 'Firing%' and blocks::text like $2`, [PLAYGROUND_CHANNEL.id, `%${alertname}%`]);
    await say('bob', '@tacit silence this for 30m', card.id);
    const asked = await botMessage(`thread_id = $1 and text like 'Approval needed%'`, [card.id]);
    // The Approve button carries `apr_…:<parameters hash>`, as the page sends it back.
    const buttons = asked.blocks.find((b): b is { kind: 'actions'; buttons: { value: string }[] } => (b as { kind?: string }).kind === 'actions');
    const value = buttons?.buttons[0]?.value ?? '';
    const approvalId = value.split(':')[0] ?? '';
    const { res } = await lb.fetch('/playground/api/actions', {
      method: 'POST', headers: json, body: JSON.stringify({ userId: 'alice', messageId: asked.id, actionId: APPROVE_ACTION_ID, value }),
    });
    if (!res.ok) throw new Error(`approve ${approvalId}: ${res.status} ${await res.text()}`);
    return approvalId;
  }

  interface Load {
    acked: number;
    mentions: { id: string; retried: boolean }[];
    approved: string[];
    killedAt: number;
    /** How far the load had come at the kill. */
    atKill: string;
    takeover: TakeoverReport;
  }

  /** Alerts, mentions and approvals at once; SIGKILL to process 2 mid-way, while ticks are in flight. */
  async function runLoad(doomed: TacitProcess): Promise<Load> {
    const load = { acked: 0, mentions: [] as Load['mentions'], approved: [] as string[], killedAt: 0, atKill: '' };
    let takeover: Promise<TakeoverReport> | undefined;
    const alerts = pool(Array.from({ length: GROUPS_PER_WORKSPACE * WORKSPACES }, (_, n) => n), 6, async (n) => {
      await fire(ws(n % WORKSPACES), `Group${Math.floor(n / WORKSPACES)}`);
      load.acked++;
    });
    const talk = (async () => {
      for (let m = 0; m < MENTIONS; m++) {
        load.mentions.push(await say('bob', `@tacit what is going on? (${m})`));
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    })();
    const approve = pool(Array.from({ length: APPROVALS }, (_, n) => n), 2, async (n) => {
      load.approved.push(await approvalFlow(n));
    });
    const kill = (async () => {
      await waitFor(() => load.acked >= (WORKSPACES * GROUPS_PER_WORKSPACE) / 3 && load.approved.length >= 2, { what: 'a third of the alerts and two approvals', timeoutMs: 60_000 });
      await waitFor(async () => (await countLocks(redis, prefix)) >= 6, { what: 'ticks in flight', timeoutMs: 5_000, intervalMs: 10 }).catch(() => undefined);
      doomed.child.kill('SIGKILL');
      load.killedAt = Date.now();
      load.atKill = `${load.acked} of ${WORKSPACES * GROUPS_PER_WORKSPACE} alert groups, ${load.mentions.length} of ${MENTIONS} mentions, ${load.approved.length} of ${APPROVALS} approvals`;
      takeover = watchTakeover(redis, prefix);
    })();
    await Promise.all([alerts, talk, approve, kill]);
    return { ...load, takeover: await (takeover ?? Promise.reject(new Error('the process was never killed'))) };
  }

  /** Waits until every event is consumed, every incident carded, every answer and execution done. */
  async function settle(load: Load, groups: number): Promise<void> {
    const until = (what: string, probe: () => Promise<boolean>, timeoutMs = 70_000) => waitFor(probe, { what, timeoutMs, intervalMs: 250 });
    await until('every event consumed', async () => (await count(`select count(*) as n from events where tick_id is null`)) === 0);
    await until(`${groups} cards posted`, async () => (await count(`select count(*) as n from incidents where kind = 'alert' and parent_message is not null`)) === groups);
    await until('every approved action executed', async () =>
      (await count(`select count(*) as n from approvals where status in ('pending', 'approved')`)) === 0 && (await count(`select count(*) as n from approvals`)) >= APPROVALS,
    ).catch(async (err: Error) => {
      const rows = (await direct.query(`select id, status, decided_at from approvals order by id`)).rows;
      throw new Error(`${err.message}; approvals: ${JSON.stringify(rows)}; killed at ${new Date(load.killedAt).toISOString()}`);
    });
    // A mention whose answer was under way in the killed process comes back when BullMQ finds its job
    // stalled: once its 10 s job lock has run out.
    await until('every mention answered', async () =>
      (await count(`select count(distinct thread_id) as n from playground_messages where is_bot and thread_id = any($1)`, [load.mentions.map((m) => m.id)])) === load.mentions.length, 75_000);
    await until('delivery to settle', async () => (await count(`select count(*) as n from outbox where status = 'pending'`)) === 0);
    // Negative assertions only after three more beats.
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
  }

  /** What Postgres, the stand-in Alertmanager and the processes' logs say happened. */
  async function tally(load: Load) {
    const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await direct.query<T>(sql, params)).rows;
    const answers = await q<{ thread_id: string; n: string }>(
      `select thread_id, count(*) as n from playground_messages where is_bot and thread_id = any($1) and text not like 'Approval needed%' group by thread_id`, [load.mentions.map((m) => m.id)],
    );
    const answered = new Map(answers.map((a) => [a.thread_id, Number(a.n)]));
    const logged = (msg: string) => procs.map((p) => p.output().split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length);
    return {
      carded: await count(`select count(*) as n from incidents where kind = 'alert' and parent_message is not null`),
      cardsNotOne: await q(`select incident_id, count(*) as n from outbox where purpose = 'card' group by incident_id having count(*) <> 1`),
      cardMessages: await count(`select count(*) as n from playground_messages m join outbox o on o.idempotency_key = m.idempotency_key where o.purpose = 'card' and m.thread_id is null`),
      // The same text twice under one parent (or twice at the top of one channel) would be a post made twice.
      duplicatePosts: await q(
        `select channel_id, thread_id, text, count(*) from playground_messages where is_bot and channel_id not like 'playground:dm-%' group by channel_id, thread_id, text having count(*) > 1`,
      ),
      notAnsweredOnce: load.mentions.map((m) => m.id).filter((id) => answered.get(id) !== 1),
      approvals: await q<{ id: string; status: string; executions: string }>(
        `select a.id, a.status, (select count(*) from approval_audit x where x.approval_id = a.id and x.kind = 'executed') as executions from approvals a`,
      ),
      deadOutbox: await count(`select count(*) as n from outbox where status = 'dead'`),
      repliesSent: await count(`select count(*) as n from outbox where purpose = 'reply' and status = 'sent'`),
      decided: logged('tick decided'),
      replied: logged('answered a mention'),
      delivered: logged('delivered'),
      // Take-over: from the dead holder's lock running out to a survivor's claim (the next beat it ran).
      takeovers: load.takeover.orphaned.map((o) => ({
        freedToClaim: (o.claimedAt ?? o.committedAt) - o.lockFreedAt, claimToCommit: o.claimedAt ? o.committedAt - o.claimedAt : 0,
        killToCommit: o.committedAt - load.killedAt, lateness: o.queueLatenessMs,
      })),
    };
  }

  function print(load: Load, t: Awaited<ReturnType<typeof tally>>, groups: number): void {
    const span = (f: (x: (typeof t.takeovers)[number]) => number) => {
      const v = t.takeovers.map(f).sort((x, y) => x - y);
      return v.length ? `${v[0]}–${v[v.length - 1]} ms (median ${v[Math.floor(v.length / 2)]})` : 'n/a';
    };
    const executed = t.approvals.filter((a) => a.status === 'executed').length;
    console.log(`three processes, one killed with SIGKILL after ${load.atKill}:`);
    console.table({
      'alert groups accepted': { expected: groups, observed: load.acked + APPROVALS },
      'incidents with a card': { expected: groups, observed: t.carded },
      'card messages in the channels': { expected: groups, observed: t.cardMessages },
      'mentions accepted': { expected: MENTIONS, observed: load.mentions.length },
      'mentions answered once': { expected: MENTIONS, observed: load.mentions.length - t.notAnsweredOnce.length },
      'reply outbox rows sent': { expected: MENTIONS + APPROVALS, observed: t.repliesSent },
      'approvals clicked': { expected: APPROVALS, observed: load.approved.length },
      'approvals executed': { expected: APPROVALS, observed: executed },
      'executions in the audit trail': { expected: APPROVALS, observed: t.approvals.reduce((n, a) => n + Number(a.executions), 0) },
      'silences at Alertmanager': { expected: APPROVALS, observed: alertmanager.silences.length },
      'silence create requests': { expected: APPROVALS, observed: alertmanager.createRequests },
      'duplicate bot posts': { expected: 0, observed: t.duplicatePosts.length },
      'dead outbox rows': { expected: 0, observed: t.deadOutbox },
    });
    console.table(procs.map((p, i) => ({ process: i, killed: !p.alive(), 'ticks decided': t.decided[i], 'mentions answered': t.replied[i], 'messages delivered': t.delivered[i] })));
    console.log(
      `take-over: ${load.takeover.locksAtKill} tick locks held at the kill, ${load.takeover.orphaned.length} by the killed process (never renewed, ran out at their ${LOCK_TTL_MS} ms TTL). ` +
        `For those workspaces: lock ran out -> survivor claim ${span((x) => x.freedToClaim)}; claim -> commit ${span((x) => x.claimToCommit)}; ` +
        `kill -> commit ${span((x) => x.killToCommit)}; heartbeat queue lateness meanwhile ${span((x) => x.lateness)}; beat ${INTERVAL_MS} ms`,
    );
  }

  it('loses nothing, does nothing twice, and takes over the dead process\'s ticks within one beat', async () => {
    const doomed = procs[2];
    if (!doomed) throw new Error('three processes expected');
    const groups = WORKSPACES * GROUPS_PER_WORKSPACE + APPROVALS;
    const load = await runLoad(doomed);
    await settle(load, groups);
    const t = await tally(load);
    print(load, t, groups);

    // Nothing lost, nothing twice: one card per alert group, one answer per mention, one post per key.
    expect(t.cardsNotOne).toEqual([]);
    expect(t.cardMessages).toBe(groups);
    expect(t.duplicatePosts).toEqual([]);
    expect(t.notAnsweredOnce).toEqual([]);
    expect(t.deadOutbox).toBe(0);
    // Every approved action ran exactly once: in Postgres and at the stand-in.
    expect(load.approved).toHaveLength(APPROVALS);
    expect(t.approvals.filter((a) => load.approved.includes(a.id)).map((a) => [a.status, Number(a.executions)])).toEqual(load.approved.map(() => ['executed', 1]));
    expect(alertmanager.silences).toHaveLength(t.approvals.filter((a) => a.status === 'executed').length);
    expect(alertmanager.createRequests).toBe(alertmanager.silences.length);
    // Both survivors ticked.
    expect(t.decided[0] ?? 0).toBeGreaterThan(0);
    expect(t.decided[1] ?? 0).toBeGreaterThan(0);
    // The kill caught ticks in flight, and survivors claimed each of those workspaces at the first beat
    // they ran after its lock ran out: within one beat, plus however late the whole queue was running
    // then (capacity, shared by every workspace), plus the watcher's polling.
    expect(load.takeover.orphaned.length).toBeGreaterThan(0);
    for (const x of t.takeovers) expect(x.freedToClaim).toBeLessThanOrEqual(INTERVAL_MS + x.lateness + 250);
    // Not by BullMQ's stalled-job recovery (30 s lock, then a check): long before it could.
    for (const x of t.takeovers) expect(x.killToCommit).toBeLessThan(LOCK_TTL_MS + INTERVAL_MS + 10_000);
  }, 180_000);
});
