// Retention: the purge removes only what is older than each table's window, in bounded batches, and
// never an unconsumed event or a pending outbox row; the same on PostgreSQL and on embedded PGlite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults, type RetentionDays } from '../../src/config.js';
import { connectPglite, connectPostgres, type Database } from '../../src/db/client.js';
import { purgeExpired, tableSizes } from '../../src/db/retention.js';
import { approvalAudit, decisions, events, feedback, outbox, playgroundMessages, quarantine, workspaces } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DAY = 86_400_000;
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY);
const ws = 'playground:retention';

async function seed(db: Database['db']): Promise<void> {
  await db.insert(workspaces).values({ id: ws, platform: 'playground', name: 'retention' });
  const event = (key: string, kind: string, days: number, tickId: string | null) => ({
    workspaceId: ws, kind, dedupeKey: key, occurredAt: ago(days), receivedAt: ago(days), tickId,
    payload: kind === 'alert' ? { kind: 'alert' } : { kind, text: 'hello' },
  });
  await db.insert(events).values([
    event('chat-old-consumed', 'chat.message', 40, 'tick_1'),
    event('chat-old-unconsumed', 'chat.mention', 40, null),
    event('chat-recent', 'chat.message', 10, 'tick_1'),
    event('alert-old-consumed', 'alert', 40, 'tick_1'),
    event('alert-old-unconsumed', 'alert', 40, null),
    event('alert-recent', 'alert', 10, 'tick_1'),
  ]);
  const decision = (id: string, days: number) => ({
    id, workspaceId: ws, tickId: 'tick_1', trigger: 'wake', brain: 'rules', outcome: 'spoke' as const, reasons: [], eventIds: [], createdAt: ago(days),
  });
  await db.insert(decisions).values([decision('dec_old', 100), decision('dec_recent', 10)]);
  // Feedback is about decisions: it goes with them.
  await db.insert(feedback).values([
    { workspaceId: ws, decisionId: 'dec_old', person: 'u', verdict: 'helpful', at: ago(100) },
    { workspaceId: ws, decisionId: 'dec_recent', person: 'u', verdict: 'not_helpful', at: ago(10) },
  ]);
  const row = (id: string, status: 'pending' | 'sent' | 'skipped' | 'dead', days: number) => ({
    id, workspaceId: ws, idempotencyKey: id, kind: 'post' as const, channelId: 'playground:c', anchor: { type: 'channel' }, message: { text: id }, status, createdAt: ago(days),
  });
  await db.insert(outbox).values([
    row('out_old_sent', 'sent', 40), row('out_old_skipped', 'skipped', 40), row('out_old_pending', 'pending', 40),
    row('out_old_dead', 'dead', 40), row('out_recent_sent', 'sent', 10),
  ]);
  await db.insert(quarantine).values([
    { workspaceId: ws, sourceId: 's', reason: 'old', body: Buffer.from('x'), receivedAt: ago(20) },
    { workspaceId: ws, sourceId: 's', reason: 'recent', body: Buffer.from('y'), receivedAt: ago(1) },
  ]);
  await db.insert(playgroundMessages).values([
    { id: 'pm_old', channelId: 'playground:c', authorId: 'u', authorName: 'U', text: 'old', createdAt: ago(40) },
    { id: 'pm_recent', channelId: 'playground:c', authorId: 'u', authorName: 'U', text: 'recent', createdAt: ago(1) },
  ]);
  await db.insert(approvalAudit).values({ approvalId: 'apr_old', workspaceId: ws, kind: 'requested', actor: 'tacit', at: ago(400) });
}

const databases: [string, () => Promise<{ database: Database; drop(): Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const test: TestDatabase = await createTestDatabase();
    const database = connectPostgres({ url: test.url });
    return { database, drop: async () => { await database.close(); await test.drop(); } };
  }],
  ['PGlite', async () => {
    const database = await connectPglite('memory://');
    await database.migrate();
    return { database, drop: () => database.close() };
  }],
];

describe.each(databases)('retention on %s', (_name, open) => {
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ database, drop } = await open());
    await seed(database.db);
  }, 60_000);
  afterAll(async () => {
    await drop?.();
  });

  it('purges only rows older than their window, never unconsumed events, pending or dead outbox rows, or the audit', async () => {
    const removed = await purgeExpired(database.db, { ...defaults.retention }, { now });
    expect(removed).toEqual({ chatTextDays: 1, eventDays: 1, decisionDays: 1, outboxDays: 2, quarantineDays: 1, playgroundMessageDays: 1 });
    const { db } = database;
    expect((await db.select({ k: events.dedupeKey }).from(events)).map((r) => r.k).sort()).toEqual(
      ['alert-old-unconsumed', 'alert-recent', 'chat-old-unconsumed', 'chat-recent'],
    );
    expect((await db.select({ id: decisions.id }).from(decisions)).map((r) => r.id)).toEqual(['dec_recent']);
    expect((await db.select({ id: feedback.decisionId }).from(feedback)).map((r) => r.id)).toEqual(['dec_recent']);
    expect((await db.select({ id: outbox.id }).from(outbox)).map((r) => r.id).sort()).toEqual(['out_old_dead', 'out_old_pending', 'out_recent_sent']);
    expect((await db.select({ r: quarantine.reason }).from(quarantine)).map((r) => r.r)).toEqual(['recent']);
    expect((await db.select({ id: playgroundMessages.id }).from(playgroundMessages)).map((r) => r.id)).toEqual(['pm_recent']);
    expect(await db.select().from(approvalAudit)).toHaveLength(1);
    // A second run finds nothing more.
    expect(Object.values(await purgeExpired(database.db, { ...defaults.retention }, { now })).every((n) => n === 0)).toBe(true);
  });

  it('deletes in bounded batches and keeps a table forever when its window is 0', async () => {
    const { db } = database;
    await db.insert(events).values(Array.from({ length: 25 }, (_, i) => ({
      workspaceId: ws, kind: 'alert', dedupeKey: `bulk-${i}`, occurredAt: ago(50), receivedAt: ago(50), tickId: 'tick_2', payload: { kind: 'alert' },
    })));
    const keepEvents: RetentionDays = { ...defaults.retention, eventDays: 0 };
    expect((await purgeExpired(db, keepEvents, { now })).eventDays).toBeUndefined();
    const bulk = async () => (await db.select({ k: events.dedupeKey }).from(events)).filter((r) => r.k.startsWith('bulk-')).length;
    expect(await bulk()).toBe(25);

    expect((await purgeExpired(db, { ...defaults.retention }, { now, batchRows: 10, maxBatches: 2 })).eventDays).toBe(20);
    expect(await bulk()).toBe(5);
    expect((await purgeExpired(db, { ...defaults.retention }, { now, batchRows: 10, maxBatches: 2 })).eventDays).toBe(5);
    expect(await bulk()).toBe(0);
  });

  it('measures table sizes for the dashboard', async () => {
    const sizes = await tableSizes(database.db);
    const eventsSize = sizes.find((s) => s.table === 'events');
    expect(eventsSize?.bytes).toBeGreaterThan(0);
    expect(eventsSize?.rows).toBeGreaterThanOrEqual(0);
    expect(sizes.map((s) => s.table)).toEqual(expect.arrayContaining(['events', 'outbox', 'decisions', 'quarantine', 'playground_messages']));
  });
});
