// Redis per workspace at steady state: after an hour (and more) of beats every 10 s on a manual clock,
// with an occasional woken tick, every key the heartbeat keeps is measured with MEMORY USAGE. The
// beats run as production runs them by default: the sweep's script per partition ticks the clean
// workspaces, and the dirty ones are claimed and released at their slot like a tick job. Indexes
// that grow with the workspaces (the partitions' beats) are shared out over the workspaces
// measured, keys of bounded size over the deployment size of the goal.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEAT_PARTITIONS } from '../../src/heartbeat/beats.js';
import { HeartbeatSignals } from '../../src/heartbeat/signals.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix } from '../support/redis.js';

const WORKSPACES = 200;
const INTERVAL_MS = 10_000;
/** Past the first hour: the timeline must have stopped growing (every slot of its ring written once). */
const HOURS = 1.1;
const BUDGET_BYTES = 2_048;
/** The deployment size the goal is set for (issue 21: at 10,000 workspaces). */
const SCALE = 10_000;
const FIXED_SIZE = new Set([':counters']);

/** Simulates `hours` of beats for `workspaceIds` on a manual clock, through the real sweep, claim and release. */
async function simulateBeats(signals: HeartbeatSignals, workspaceIds: string[], startMs: number, hours: number): Promise<number> {
  const beats = Math.round((hours * 3_600_000) / INTERVAL_MS);
  let ticks = 0;
  for (let b = 0; b < beats; b++) {
    // Each sweep takes every workspace's beat of the 10 s before it (each workspace's phase differs).
    const now = new Date(startMs + (b + 1) * INTERVAL_MS - 1);
    // Every workspace has news now and then: a woken tick (a model call) that stays quiet, sometimes one that speaks.
    await Promise.all(workspaceIds.map((id, i) => ((b + i) % 97 === 0 ? signals.markDirty(id) : undefined)));
    for (let p = 0; p < BEAT_PARTITIONS; p++) {
      const swept = await signals.sweep(p, now.getTime(), now, 10_000);
      ticks += swept.quiet;
      await Promise.all(swept.due.map(async ({ workspaceId, slot }) => {
        const claim = await signals.claim(workspaceId, now, slot); // the tick job the sweep queues
        if (claim.kind !== 'claimed') return;
        ticks++;
        const spoke = (b + workspaceIds.indexOf(workspaceId)) % 3 === 0;
        await signals.count(workspaceId, { woken: 1, spoke: spoke ? 1 : 0, quiet: spoke ? 0 : 1, model_calls: 1, tokens: 1_200, cost_micro_usd: 4_100 }, now);
        await signals.release(workspaceId, claim, true);
      }));
    }
  }
  return ticks;
}

/** MEMORY USAGE of every key under `prefix`, summed, and by kind of key (workspace ids and numbers replaced by `*`). */
async function prefixBytes(redis: Redis, prefix: string): Promise<{ bytes: number; keys: number; byKind: Map<string, number> }> {
  let bytes = 0;
  let keys = 0;
  const byKind = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    ((await pipeline.exec()) ?? []).forEach(([, usage], i) => {
      const kind = (batch[i] ?? '').slice(prefix.length).replace(/TMEM\d+/g, '*').replace(/\{p\d+\}/g, '{p*}').replace(/\d{4,}/g, '#');
      byKind.set(kind, (byKind.get(kind) ?? 0) + Number(usage ?? 0));
      bytes += Number(usage ?? 0);
    });
    keys += batch.length;
  } while (cursor !== '0');
  return { bytes, keys, byKind };
}

describe('Redis memory per workspace', () => {
  let redis: Redis;
  let prefix: string;
  let signals: HeartbeatSignals;
  const ids = Array.from({ length: WORKSPACES }, (_, i) => `slack:TMEM${String(i).padStart(5, '0')}`);

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    // As long as the default prefix (`tacit`): key names are part of what is measured.
    prefix = `m${randomBytes(2).toString('hex')}`;
    signals = new HeartbeatSignals(redis, prefix);
  });
  afterAll(async () => {
    await signals?.close();
    redis?.disconnect();
    await dropPrefix(prefix);
  });

  it(`stays within ${BUDGET_BYTES} bytes per workspace at ${SCALE.toLocaleString('en')} workspaces after ${HOURS} hours of 10 s beats`, { timeout: 120_000 }, async () => {
    const start = Date.parse('2026-12-01T08:00:00Z');
    await Promise.all(ids.map((id) => signals.plan(id, INTERVAL_MS, start)));
    const ticks = await simulateBeats(signals, ids, start, HOURS);
    // Each workspace beat once every 10 s, no more, no less.
    expect(ticks).toBe(WORKSPACES * Math.round((HOURS * 3_600_000) / INTERVAL_MS));
    const { bytes, keys, byKind } = await prefixBytes(redis, prefix);
    // Keys of a bounded size whatever the number of workspaces (the capped event stream, queue
    // metadata, global counters) are shared out over the deployment size the goal is set for.
    const fixed = [...byKind].filter(([kind]) => FIXED_SIZE.has(kind)).reduce((sum, [, v]) => sum + v, 0);
    const perWorkspace = Math.round((bytes - fixed) / WORKSPACES + fixed / SCALE);
    const kinds = [...byKind].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${FIXED_SIZE.has(k) ? `${v} in all` : Math.round(v / WORKSPACES)}`).join(', ');
    console.log(`redis memory: ${perWorkspace} bytes per workspace at ${SCALE} workspaces (${keys} keys for ${WORKSPACES} workspaces after ${HOURS} h; ${kinds})`);
    expect(perWorkspace).toBeLessThanOrEqual(BUDGET_BYTES);

    // The dashboard still sees the last hour, minute by minute, news included.
    const timeline = await signals.timeline(ids[0] ?? '', new Date(start + HOURS * 3_600_000 - 1));
    expect(timeline).toHaveLength(60);
    expect(timeline.every((p) => p.ticks === 6)).toBe(true);
    expect(timeline.every((p) => p.quiet === 6 - (p.spoke ?? 0))).toBe(true);
    expect(timeline.filter((p) => p.woken).length).toBeGreaterThan(0);
  });
});
