// The investigation job against a real database and the evidence stand-ins: one investigation per
// occurrence whatever the retries, evidence rows and the waking event committed together, secrets
// in fetched data redacted, and nothing at all without an evidence source.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putIntegration } from '../../src/actions/integrations.js';
import { defaults, type RetentionDays } from '../../src/config.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { purgeExpired } from '../../src/db/retention.js';
import { events, evidence, incidents, workspaces } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/db/secret-box.js';
import { renderMetricChart } from '../../src/investigate/chart.js';
import { investigate, type InvestigateDeps } from '../../src/investigate/investigate.js';
import { createLogger } from '../../src/log.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki.js';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const box = createSecretBox('investigate-int-test-secret-key-0123456789');

describe('the investigation job', () => {
  let testDb: TestDatabase;
  let database: Database;
  let prom: FakePrometheus;
  let loki: FakeLoki;
  const woken: string[] = [];
  const deps = (): InvestigateDeps => ({ db: database.db, secrets: box, log: createLogger('silent'), now: () => new Date(), renderChart: renderMetricChart, wake: async (ws) => void woken.push(ws) });
  const startedAt = new Date(Date.now() - 60_000);
  const incident = (id: string, ws: string) => ({
    id, workspaceId: ws, channelId: 'c1', groupKey: id, status: 'firing' as const, severity: 'critical', title: `Errors ${id}`, startedAt,
    alerts: { fp1: { status: 'firing', title: 'x', severity: 'critical', labels: { service: 'api' }, annotations: {}, startsAt: startedAt.toISOString(), endsAt: null, links: [{ label: 'source', url: 'http://p/graph?g0.expr=rate(errors%5B5m%5D)+%3E+1' }] } },
  });

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
    prom = await startFakePrometheus({ authorization: 'Bearer p' });
    loki = await startFakeLoki({ authorization: 'Bearer l' });
    prom.setSeries('rate(errors[5m])', [{ labels: {}, value: (t) => (t < startedAt.getTime() ? 0 : 4) }]);
    loki.push({ job: 'api' }, [[startedAt.getTime() + 1_000, 'error: login failed password=hunter2hunter2 for db']]);
    await database.db.insert(workspaces).values([{ id: 'ws_inv', platform: 'playground', name: 'w' }, { id: 'ws_none', platform: 'playground', name: 'n' }]);
    await putIntegration(database.db, box, 'ws_inv', 'prometheus', 'default', { settings: { url: prom.url }, secrets: { authorization: 'Bearer p' } });
    await putIntegration(database.db, box, 'ws_inv', 'loki', 'default', { settings: { url: loki.url, query: '{job="{{service}}"} |= "error"' }, secrets: { authorization: 'Bearer l' } });
    await database.db.insert(incidents).values([incident('inc_a', 'ws_inv'), incident('inc_b', 'ws_none')]);
  });
  afterAll(async () => {
    await Promise.all([prom?.close(), loki?.close()]);
    await database?.close();
    await testDb?.drop();
  });

  it('runs once per occurrence: the same job again, or a later version, is skipped', async () => {
    const first = await investigate(deps(), { workspaceId: 'ws_inv', incidentId: 'inc_a', version: 1, decisionId: 'dec_1' });
    expect(first.kind).toBe('done');
    expect((await investigate(deps(), { workspaceId: 'ws_inv', incidentId: 'inc_a', version: 1, decisionId: 'dec_1' })).kind).toBe('skipped');
    const later = await investigate(deps(), { workspaceId: 'ws_inv', incidentId: 'inc_a', version: 2, decisionId: 'dec_2' });
    expect(later).toEqual({ kind: 'skipped', reason: 'this occurrence is investigated already' });
    const rows = await database.db.select().from(evidence).where(eq(evidence.incidentId, 'inc_a'));
    expect(rows.map((r) => r.source).sort()).toEqual(['chart', 'history', 'loki', 'prometheus']);
    expect(rows.every((r) => r.decisionId === 'dec_1')).toBe(true);
    const announced = await database.db.select().from(events).where(eq(events.kind, 'incident.investigated'));
    expect(announced).toHaveLength(1);
    expect(woken).toEqual(['ws_inv']);
    const [row] = await database.db.select({ investigation: incidents.investigation }).from(incidents).where(eq(incidents.id, 'inc_a'));
    expect(row?.investigation).toMatchObject({ id: 'inv_inc_a_v1', status: 'done', version: 1, occurrence: startedAt.toISOString() });
  });

  it('redacts secrets in what it fetched before storing it', async () => {
    const [logs] = await database.db.select().from(evidence).where(eq(evidence.source, 'loki'));
    expect(JSON.stringify(logs?.result)).not.toContain('hunter2hunter2');
    expect(JSON.stringify(logs?.result)).toContain('[redacted:password]');
  });

  it('is purged with the decisions it explains', async () => {
    const days: RetentionDays = { ...defaults.retention, chatTextDays: 0, eventDays: 0, outboxDays: 0, quarantineDays: 0, playgroundMessageDays: 0, decisionDays: 1 };
    await purgeExpired(database.db, days, { now: new Date(Date.now() + 2 * 86_400_000) });
    expect(await database.db.select().from(evidence)).toHaveLength(0);
  });

  it('investigates nothing in a workspace without Prometheus or Loki', async () => {
    expect(await investigate(deps(), { workspaceId: 'ws_none', incidentId: 'inc_b', version: 1, decisionId: null })).toEqual({ kind: 'skipped', reason: 'no evidence source configured' });
    expect(await database.db.select().from(evidence).where(eq(evidence.incidentId, 'inc_b'))).toHaveLength(0);
  });
});
