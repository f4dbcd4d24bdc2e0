// Two Tacit processes on one Redis and one database: never two ticks of one workspace at once, and
// each scheduled tick processed once between them.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { fixture } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { spawnTacit, stopTacit, type TacitProcess } from '../support/tacit-process.js';
import { post } from '../support/sign.js';
import { waitFor } from '../support/wait.js';

const WORKSPACES = 4;
const INTERVAL_MS = 300;

describe('two Tacit processes', () => {
  let db: TestDatabase;
  let direct: pg.Client;
  const prefix = testPrefix();
  const children: TacitProcess[] = [];
  const urls: string[] = [];
  const sources: { url: string; token: string }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    for (let i = 0; i < WORKSPACES; i++) {
      await direct.query(`insert into workspaces (id, platform, name) values ($1, 'playground', $1)`, [`playground:w${i}`]);
      await direct.query(`insert into channels (id, workspace_id, name) values ($1, $2, 'ops')`, [`playground:w${i}-ops`, `playground:w${i}`]);
    }
    const env = {
      DATABASE_URL: db.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), LOG_LEVEL: 'info',
    };
    for (let p = 0; p < 2; p++) {
      const proc = await spawnTacit(env, `process ${p}`, 30_000);
      children.push(proc);
      urls.push(proc.url);
    }
    for (let i = 0; i < WORKSPACES; i++) {
      const res = await fetch(`${urls[0]}/api/sources`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workspaceId: `playground:w${i}`, channelId: `playground:w${i}-ops`, kind: 'alertmanager' }),
      });
      const created = (await res.json()) as { id: string; token: string };
      sources.push({ url: `/hooks/alerts/${created.id}`, token: created.token });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => stopTacit(c)));
    await direct?.end();
    await dropPrefix(prefix);
    await db?.drop();
  });

  it('never runs two ticks of one workspace at once, and consumes every event exactly once', async () => {
    const base = JSON.parse(fixture('alertmanager/firing.json').toString());
    const sends: Promise<Response>[] = [];
    for (let k = 0; k < 6; k++) {
      for (let i = 0; i < WORKSPACES; i++) {
        const alert = structuredClone(base);
        alert.groupKey = `{}:{alertname="A${k}"}`;
        alert.alerts[0].fingerprint = `fp-${k}`;
        alert.alerts[0].annotations.summary = `Alert ${k}`;
        // Alternate between the processes, as a load balancer would.
        const target = `${urls[(i + k) % 2]}${sources[i]?.url}`;
        sends.push(post(target, JSON.stringify(alert), { 'content-type': 'application/json', authorization: `Bearer ${sources[i]?.token}` }));
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const res of await Promise.all(sends)) expect(res.status).toBe(200);

    await waitFor(async () => Number((await direct.query(`select count(*) as n from events where tick_id is null`)).rows[0].n) === 0, {
      what: 'every event consumed', timeoutMs: 20_000,
    });
    await waitFor(async () => Number((await direct.query(`select count(*) as n from outbox where status = 'pending'`)).rows[0].n) === 0, {
      what: 'delivery to settle', timeoutMs: 20_000,
    });
    // Two ticks of one workspace running at once would both read the same unconsumed events.
    const doubled = await direct.query(
      `select e.value as event_id, count(*) from decisions d, jsonb_array_elements(d.event_ids) e group by e.value having count(*) > 1`,
    );
    expect(doubled.rows).toEqual([]);
    // Six groups opening at once in a workspace also form a storm (its own incident row): count the groups.
    expect(Number((await direct.query(`select count(*) as n from incidents where kind = 'alert'`)).rows[0].n)).toBe(6 * WORKSPACES);
    const cards = await direct.query(`select incident_id, count(*) as n from outbox where purpose = 'card' group by incident_id having count(*) > 1`);
    expect(cards.rows).toEqual([]);
  }, 60_000);

  it('processes each scheduled tick once between them', async () => {
    // Ticks each process ran (its own tick histogram), summed: exact at any moment, where the
    // deployment-wide tacit_ticks_total reaches Redis from each process once a second.
    const counters = async () => {
      let sum = 0;
      for (const url of urls) {
        const text = await (await fetch(`${url}/metrics`)).text();
        for (const m of text.matchAll(/^tacit_tick_duration_seconds_count\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
      }
      return sum;
    };
    const before = await counters();
    const windowMs = 3_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const ticks = (await counters()) - before;
    const scheduled = (WORKSPACES * windowMs) / INTERVAL_MS; // 40
    // Each scheduled tick processed by both processes would give ~2x.
    expect(ticks).toBeGreaterThanOrEqual(scheduled * 0.6);
    expect(ticks).toBeLessThanOrEqual(scheduled * 1.4);
  });
});
