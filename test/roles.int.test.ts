// Processes split by role (TACIT_ROLES): one process takes the webhooks (http), another ticks and
// delivers (heartbeat,delivery,actions), on one database and one Redis. An alert sent to the first
// becomes its card, ticked and posted by the second; neither does the other's work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { redisUrl } from './support/env.js';
import { blockTexts, channelMessages, fixture, postAlert } from './support/playground.js';
import { dropPrefix, testPrefix } from './support/redis.js';
import { spawnTacit, stopTacit, type TacitProcess } from './support/tacit-process.js';
import { waitFor } from './support/wait.js';

/** Ticks this process ran (its own tick-duration histogram, all outcomes). */
async function ticksRun(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^tacit_tick_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('processes split by role', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  const children: TacitProcess[] = [];
  let front = '';
  let back = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: '300', TACIT_PLAYGROUND: 'on', LOG_LEVEL: 'info',
    };
    const started = async (roles: string) => {
      const proc = await spawnTacit({ ...env, TACIT_ROLES: roles }, `the ${roles} process`, 60_000);
      children.push(proc);
      return proc.url;
    };
    front = await started('http');
    back = await started('heartbeat,delivery,actions');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => stopTacit(c)));
    await dropPrefix(prefix);
    await db?.drop();
  });

  it('takes the alert in one process and ticks and posts it in the other', { timeout: 60_000 }, async () => {
    // Both are ready (each restores, and answers the probes), whatever its role.
    expect((await fetch(`${front}/readyz`)).status).toBe(200);
    expect((await fetch(`${back}/readyz`)).status).toBe(200);

    const res = await fetch(`${front}/api/sources`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspaceId: 'playground:local', channelId: 'playground:incidents', kind: 'alertmanager' }),
    });
    expect(res.status).toBe(201);
    const source = (await res.json()) as { id: string; token: string };
    // The worker process serves no webhooks: a load balancer must send them to the http processes.
    expect((await postAlert(back, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(404);
    expect((await postAlert(front, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);

    await waitFor(async () => (await channelMessages(front)).find((m) => m.author.isBot && !m.threadId && /crash looping/i.test(blockTexts(m))), {
      what: 'the incident card, posted by the worker process', timeoutMs: 30_000,
    });
    expect(await ticksRun(back)).toBeGreaterThan(0);
    expect(await ticksRun(front)).toBe(0);
  });
});
