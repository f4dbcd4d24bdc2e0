// Dreaming by rules, through a whole Tacit without Claude: duplicates merged, relative dates made
// absolute, contradicted entries retired, the index brought within its bounds, one dream at a time.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PLAYGROUND_WORKSPACE_ID } from '../../src/chat/playground/types.js';
import { events, memories, memoryDreams } from '../../src/db/schema.js';
import { defaultDreamOptions, dueWorkspaces } from '../../src/memory/dreamer.js';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/log.js';
import { Memory } from '../../src/memory/index.js';
import { say } from '../support/playground.js';
import { dropPrefix } from '../support/redis.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const ws = PLAYGROUND_WORKSPACE_ID;

describe('dreaming by rules', () => {
  let tacit: TestTacit;
  const db = () => tacit.database.db;
  const rows = () => db().select().from(memories).where(eq(memories.workspaceId, ws));
  const insert = (entries: { id: string; topic: string; hint: string; body?: string; sourceRefs?: string[]; createdAt?: Date }[]) =>
    db().insert(memories).values(entries.map((e) => ({
      workspaceId: ws, body: `body of ${e.id}`, sourceRefs: [`event:${e.id}`], status: 'active' as const, createdAt: new Date('2026-11-27T09:00:00Z'), updatedAt: new Date(), ...e,
    })));

  beforeAll(async () => {
    tacit = await startTestTacit();
  });
  afterAll(() => tacit?.cleanup());
  beforeEach(async () => {
    await db().delete(memories);
    await db().delete(memoryDreams);
  });

  it('merges duplicates, makes relative dates absolute and retires what newer events contradict', async () => {
    await insert([
      { id: 'mem_00000000a1', topic: 'checkout', hint: 'payment retries fix checkout 5xx', sourceRefs: ['event:1'], createdAt: new Date('2026-11-20T09:00:00Z') },
      { id: 'mem_00000000a2', topic: 'Checkout', hint: 'Payment retries fix checkout 5xx!', sourceRefs: ['event:2'] },
      { id: 'mem_00000000b1', topic: 'deploys', hint: 'the deploy broke yesterday', body: 'It broke this morning after the config push.' },
      { id: 'mem_00000000c1', topic: 'database', hint: 'replica lag during the incident', sourceRefs: ['incident:inc_gone'] },
      { id: 'mem_00000000d1', topic: 'runbooks', hint: 'the cache runbook is out of date' },
    ]);

    const result = await tacit.memory.dreamNow(ws);

    expect(result).toMatchObject({ outcome: 'applied', engine: 'rules', before: 5, after: 3 });
    const byId = new Map((await rows()).map((r) => [r.id, r]));
    expect(byId.get('mem_00000000a1')).toMatchObject({ status: 'superseded', supersededBy: 'mem_00000000a2' });
    expect(byId.get('mem_00000000a2')).toMatchObject({ status: 'active', sourceRefs: ['event:2', 'event:1'] });
    expect(byId.get('mem_00000000b1')).toMatchObject({ hint: 'the deploy broke on 2026-11-26', body: 'It broke on the morning of 2026-11-27 after the config push.' });
    expect(byId.get('mem_00000000c1')).toMatchObject({ status: 'superseded', staleReason: 'contradicted by newer events: incident inc_gone does not exist' });
    const [logged] = await db().select().from(memoryDreams).where(eq(memoryDreams.workspaceId, ws));
    expect(logged).toMatchObject({ outcome: 'applied', engine: 'rules', before: 5, after: 3 });

    expect(await tacit.memory.dreamNow(ws)).toMatchObject({ outcome: 'noop' });
  });

  it('brings an overfull index back within 200 lines and 25 KB, a quarter at most per dream', async () => {
    const long = 'x'.repeat(150);
    await insert(Array.from({ length: 250 }, (_, i) => ({
      id: `mem_${String(i).padStart(10, '0')}`, topic: `topic ${i}`, hint: `distinct hint number ${i} ${long}`, createdAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000),
    })));
    expect((await tacit.memory.index(ws, new Date())).omitted).toBeGreaterThan(0);

    const first = await tacit.memory.dreamNow(ws);
    expect(first).toMatchObject({ outcome: 'applied', before: 250 });
    expect(first.after).toBeGreaterThanOrEqual(188); // no more than a quarter dropped
    await tacit.memory.dreamNow(ws);

    const index = await tacit.memory.index(ws, new Date());
    expect(index.omitted).toBe(0);
    expect(index.text.split('\n').length).toBeLessThanOrEqual(200);
    expect(Buffer.byteLength(index.text)).toBeLessThanOrEqual(25 * 1024);
    // The newest entries are the ones kept.
    expect(index.text).toContain('mem_0000000249');
    expect(index.text).not.toContain('mem_0000000000 ');
  });

  it('runs one dream per workspace at a time', async () => {
    await insert(Array.from({ length: 50 }, (_, i) => ({ id: `mem_${String(i).padStart(10, 'b')}`, topic: `t${i}`, hint: `h${i}` })));
    const results = await Promise.all([tacit.memory.dreamNow(ws), tacit.memory.dreamNow(ws)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['busy', 'noop']);
  });

  it('is due after enough new entries while the workspace is idle, and not again the same day', async () => {
    const now = new Date();
    const options = { ...defaultDreamOptions, idleMs: 0 };
    await insert(Array.from({ length: 4 }, (_, i) => ({ id: `mem_${String(i).padStart(10, 'c')}`, topic: `t${i}`, hint: `h${i}`, createdAt: now })));
    expect(await dueWorkspaces(db(), now, options)).not.toContain(ws);
    await insert([{ id: 'mem_cccccccccz', topic: 'five', hint: 'fifth', createdAt: now }]);
    expect(await dueWorkspaces(db(), now, options)).toContain(ws);
    await say(tacit.url, 'bob', 'anyone around?');
    await waitFor(async () => (await db().select().from(events).where(eq(events.workspaceId, ws))).length > 0, { what: 'the chat event' });
    expect(await dueWorkspaces(db(), now, { ...options, idleMs: 60_000 })).not.toContain(ws); // not idle: someone just wrote

    await tacit.memory.dreamNow(ws);
    await insert(Array.from({ length: 5 }, (_, i) => ({ id: `mem_${String(i).padStart(10, 'd')}`, topic: `n${i}`, hint: `n${i}`, createdAt: new Date(now.getTime() + 1000) })));
    expect(await dueWorkspaces(db(), new Date(now.getTime() + 2000), options)).not.toContain(ws);
    expect(await dueWorkspaces(db(), new Date(now.getTime() + 25 * 3_600_000), options)).toContain(ws);
  });

  it('dreams on its own when the sweep finds the workspace due', async () => {
    await insert(Array.from({ length: 3 }, (_, i) => ({ id: `mem_${String(i).padStart(10, 'e')}`, topic: 'same', hint: 'the same hint', createdAt: new Date() })));
    const memory = new Memory({
      db: db(), connection: tacit.redis, prefix: `${tacit.prefix}:sweep`, clock: systemClock, log: createLogger('silent'), brain: new RulesBrain(),
      options: { sweepEveryMs: 200, dream: { ...defaultDreamOptions, idleMs: 0, minNewEntries: 3 } },
    });
    memory.start();
    try {
      const [logged] = await waitFor(async () => {
        const dreams = await db().select().from(memoryDreams).where(eq(memoryDreams.workspaceId, ws));
        return dreams.length > 0 ? dreams : undefined;
      }, { what: 'a dream by the sweep' });
      expect(logged).toMatchObject({ outcome: 'applied', engine: 'rules', before: 3, after: 1 });
    } finally {
      await memory.close();
      await dropPrefix(`${tacit.prefix}:sweep`);
    }
  });
});
