// Redis is a cache of schedules, never their only copy: Tacit runs on a private redis-server that is
// killed (kill -9) while alerts arrive and comes back empty; the schedules are restored from Postgres,
// /readyz says so while it happens, and every alert acknowledged before, during and after the outage
// becomes its card.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';
import { canConnect, freePort } from '../support/net.js';
import { restoreMarker } from '../../src/heartbeat/restore.js';

/** A redis-server of our own (never the shared one): no persistence, so a restart comes back empty. */
class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    await waitFor(() => canConnect(this.port), { what: `redis-server on ${this.port}` });
  }

  kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }
}



const base = JSON.parse(fixture('alertmanager/firing.json').toString()) as {
  groupKey: string;
  alerts: { fingerprint: string; startsAt: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  commonLabels: Record<string, string>;
  groupLabels: Record<string, string>;
};

let started = 0;

/**
 * One alert group of its own; warnings are not urgent, so only a scheduled beat turns them into cards.
 * Each starts ten minutes after the one before: unrelated incidents, not a storm opening together.
 */
function alert(tag: string, severity: 'critical' | 'warning'): string {
  const body = structuredClone(base);
  body.groupKey = `{}:{alertname="${tag}"}`;
  const first = body.alerts[0];
  if (first) {
    first.fingerprint = `fp-${tag}`;
    first.startsAt = new Date(Date.parse(first.startsAt) + 10 * 60_000 * started++).toISOString();
    first.labels = { ...first.labels, alertname: tag, severity };
    first.annotations = { ...first.annotations, summary: `${tag} is failing` };
  }
  body.commonLabels = { ...body.commonLabels, alertname: tag, severity };
  body.groupLabels = { ...body.groupLabels, alertname: tag };
  return JSON.stringify(body);
}

describe('Redis killed and restarted empty', () => {
  let redis: PrivateRedis;
  let tacit: TestTacit;
  let probe: Redis;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    tacit = await startTestTacit({ env: { REDIS_URL: redis.url, TACIT_HEARTBEAT_INTERVAL_MS: '500', TACIT_RESTORE_CHECK_MS: '250' } });
    probe = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    probe.on('error', () => undefined);
  }, 30_000);

  afterAll(async () => {
    probe?.disconnect();
    await tacit?.cleanup();
    await redis?.kill();
  });

  it('restores every schedule from Postgres and turns every acknowledged alert into its card', async () => {
    const source = tacit.playgroundSource;
    if (!source) throw new Error('the playground source is missing');
    /** Alerts answered 2xx: each must become a card. */
    const acknowledged: string[] = [];
    /** Alerts answered 503: a sender retries them later. */
    const retry: [string, 'critical' | 'warning'][] = [];
    const send = async (tag: string, severity: 'critical' | 'warning') => {
      const res = await postAlert(tacit.url, source.id, source.token, alert(tag, severity));
      expect([200, 503]).toContain(res.status);
      if (res.status === 200) acknowledged.push(tag);
      else retry.push([tag, severity]);
      return res.status;
    };
    const cardsFor = async (tags: string[]) => {
      const cards = (await channelMessages(tacit.url)).filter((m) => m.author.isBot && !m.threadId);
      return tags.every((tag) => cards.some((m) => blockTexts(m).includes(tag)));
    };

    await send('Before1', 'critical');
    await send('Before2', 'warning');
    await waitFor(() => cardsFor(['Before1', 'Before2']), { what: 'cards before the outage', timeoutMs: 15_000 });

    await redis.kill();
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(503);
    // Alerts keep coming while Redis is away: committed to Postgres, so answered 200, never lost.
    expect(await send('During1', 'critical')).toBe(200);
    expect(await send('During2', 'warning')).toBe(200);

    // Redis comes back empty. Another process "holds" the restore at first: /readyz must say so.
    await redis.start();
    await probe.set(`${tacit.prefix}:restore-lock`, 'another-process', 'PX', 60_000);
    const restoring = await waitFor(async () => {
      const res = await fetch(`${tacit.url}/readyz`);
      const body = (await res.json()) as { detail?: string };
      return res.status === 503 && body.detail === 'restoring schedules' ? body : undefined;
    }, { what: '/readyz to report the restore', timeoutMs: 15_000 });
    expect(restoring).toMatchObject({ redis: true, schedules: false });
    await send('During3', 'warning');
    // The other process died: its lock expires and this one restores.
    await probe.del(`${tacit.prefix}:restore-lock`);
    const back = Date.now();
    await waitFor(async () => (await fetch(`${tacit.url}/readyz`)).status === 200, { what: '/readyz back to 200', timeoutMs: 15_000 });
    expect(await probe.exists(restoreMarker(tacit.prefix))).toBe(1);

    await send('After1', 'critical');
    await send('After2', 'warning');
    // What a sender does with a 503: send again.
    for (const [tag, severity] of retry.splice(0)) expect(await send(tag, severity)).toBe(200);

    await waitFor(async () => (await tacit.signals.counters()).ticks > 0, { what: 'ticking again', timeoutMs: 60_000 });
    const tickingAfterMs = Date.now() - back;
    await waitFor(() => cardsFor(acknowledged), { what: `cards for ${acknowledged.join(', ')}`, timeoutMs: 30_000 });
    const cardsAfterMs = Date.now() - back;
    expect(tickingAfterMs).toBeLessThan(60_000);
    expect(acknowledged).toEqual(expect.arrayContaining(['Before1', 'Before2', 'During1', 'During2', 'During3', 'After1', 'After2']));
    // Each alert exactly one card.
    const cards = (await channelMessages(tacit.url)).filter((m) => m.author.isBot && !m.threadId);
    for (const tag of acknowledged) expect(cards.filter((m) => blockTexts(m).includes(tag)).length, tag).toBe(1);
    // Beats without news: only the restored scheduler makes these (wakes come only with news).
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 4, { what: 'scheduled beats', timeoutMs: 10_000 });
    expect(await tacit.heartbeat.isScheduled('playground:local')).toBe(true);
    console.info(`redis restore: ticking ${tickingAfterMs} ms and every card ${cardsAfterMs} ms after the restore could start`);
  }, 60_000);
});
