// The heartbeat timeline's compact ring (heartbeat/timeline.ts), through the real claim and count
// scripts on a manual clock: the last hour minute by minute, older minutes dropped, news kept sparse.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackMinute } from '../../src/http/dashboard/chart.js';
import { HeartbeatSignals, workspaceKey } from '../../src/heartbeat/signals.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';

const T0 = Date.parse('2026-12-01T09:00:00Z');
const at = (minute: number, second = 0) => new Date(T0 + minute * 60_000 + second * 1_000);

describe('the heartbeat timeline', () => {
  let redis: Redis;
  let prefix: string;
  let signals: HeartbeatSignals;
  let n = 0;
  const workspace = () => `playground:timeline-${n++}`;

  beforeAll(() => {
    redis = new Redis(redisUrl);
    prefix = testPrefix();
    signals = new HeartbeatSignals(redis, prefix);
  });
  afterAll(async () => {
    redis?.disconnect();
    await dropPrefix(prefix);
  });

  /** One scheduled beat: claims, and when claimed, counts the outcome and releases like a tick. */
  async function beat(ws: string, when: Date, outcome?: 'quiet' | 'spoke'): Promise<void> {
    const claim = await signals.claim(ws, when);
    if (claim.kind !== 'claimed') return;
    if (outcome === 'spoke') await signals.count(ws, { woken: 1, spoke: 1, model_calls: 1 }, when);
    else await signals.count(ws, { woken: 1, quiet: 1, model_calls: 1 }, when);
    await signals.release(ws, claim, true);
  }

  it('counts every tick of the last hour per minute, and quiet ticks apart from the ones that spoke', async () => {
    const ws = workspace();
    for (let s = 0; s < 60; s += 10) await beat(ws, at(0, s));
    await signals.markDirty(ws);
    await beat(ws, at(1, 5), 'spoke');
    await beat(ws, at(1, 15));
    await signals.markDirty(ws);
    await beat(ws, at(1, 25), 'quiet');
    expect(await signals.timeline(ws, at(1, 59))).toEqual([
      { minute: T0 / 60_000, ticks: 6, quiet: 6 },
      { minute: T0 / 60_000 + 1, ticks: 3, quiet: 2, woken: 2, spoke: 1, model_calls: 2 },
    ]);
    // The dashboard's bars: one spoke, one woken and stayed quiet, one plain quiet.
    const [, minute1] = await signals.timeline(ws, at(1, 59));
    expect(minute1 && stackMinute(minute1)).toEqual({ quiet: 1, woken: 1, spoke: 1, acted: 0, vetoed: 0 });
  });

  it('keeps only the hour up to now: minutes fall out as the ring turns, and a gap leaves nothing stale', async () => {
    const ws = workspace();
    for (let m = 0; m < 90; m++) await beat(ws, at(m));
    const hour = await signals.timeline(ws, at(89, 30));
    expect(hour.map((p) => p.minute - T0 / 60_000)).toEqual(Array.from({ length: 60 }, (_, i) => 30 + i));
    expect(hour.every((p) => p.ticks === 1)).toBe(true);
    // Asked about a later time, only the minutes still inside that hour are shown.
    expect(await signals.timeline(ws, at(140))).toHaveLength(9);
    // Back after 45 minutes away: the ring's slots for the skipped minutes were cleared, not left from an hour ago.
    await beat(ws, at(135));
    expect((await signals.timeline(ws, at(135))).map((p) => p.minute - T0 / 60_000)).toEqual([...Array.from({ length: 14 }, (_, i) => 76 + i), 135]);
    // A write older than the ring (a late tick from a slow clock) is dropped, not counted into a live slot.
    await beat(ws, at(20));
    expect((await signals.timeline(ws, at(135))).reduce((sum, p) => sum + (p.ticks ?? 0), 0)).toBe(15);
  });

  it('counts up to 4,095 ticks a minute, in every slot of the ring, and no further', async () => {
    const ws = workspace();
    const many = (minute: number, n: number) => Promise.all(Array.from({ length: n }, (_, i) => signals.claim(ws, at(minute, i % 60))));
    await many(0, 5);
    await many(1, 300);
    await many(2, 4_100);
    await many(3, 7);
    expect((await signals.timeline(ws, at(3, 59))).map((p) => p.ticks)).toEqual([5, 300, 4_095, 7]);
  });

  it('keeps news for at most the hour it is shown, and lets Redis drop it after an hour without news', async () => {
    const ws = workspace();
    for (let m = 0; m < 120; m += 5) {
      await signals.markDirty(ws);
      await beat(ws, at(m), 'spoke');
    }
    const news = await redis.hgetall(workspaceKey(prefix, ws, 'news'));
    expect(Object.keys(news).length).toBeLessThanOrEqual(13);
    expect(Object.keys(news).every((minute) => Number(minute) > T0 / 60_000 + 115 - 60)).toBe(true);
    const ttl = await redis.pttl(workspaceKey(prefix, ws, 'news'));
    expect(ttl).toBeGreaterThan(60 * 60_000);
    expect(ttl).toBeLessThanOrEqual(61 * 60_000);
    // The state hash holds the ring in values short enough to stay a compact listpack.
    expect(await redis.object('ENCODING', workspaceKey(prefix, ws))).toBe('listpack');
  });

  it('does not show a tick that found the workspace busy as quiet', async () => {
    const ws = workspace();
    await signals.markDirty(ws);
    const claim = await signals.claim(ws, at(0, 1));
    expect(claim.kind).toBe('claimed');
    expect(await signals.claim(ws, at(0, 2))).toEqual({ kind: 'busy' });
    // Two ticks: the busy one, and the claimed one (quiet until it reports otherwise).
    const [minute] = await signals.timeline(ws, at(0, 30));
    expect(minute).toMatchObject({ ticks: 2, busy: 1, quiet: 1 });
    expect((await signals.counters(ws)).busy).toBe(1);
  });
});
