// Intake edges for bodies that used to slip through: a generic JSON sender without a start-time
// mapping retrying the same body, and authenticated bodies PostgreSQL refuses to store (quarantined
// whole, even when written in several statements).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postAlert } from '../support/playground.js';
import { post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('intake of redeliveries and unstorable bodies', () => {
  let tacit: TestTacit;
  let direct: pg.Client;
  const count = async (table: 'events' | 'quarantine', sourceId: string) =>
    Number((await direct.query(`select count(*) as n from ${table} where source_id = $1`, [sourceId])).rows[0].n);

  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: 'redelivery-test-key-0123456789abcdef01234' } });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
  });

  it('stores 10 identical deliveries from a generic source without a start-time mapping as one event', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'generic', settings: { mapping: { fingerprint: 'id', status: 'state', title: 'name' } } });
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${source.token ?? ''}` };
    const body = JSON.stringify({ id: 'disk-db-1', state: 'firing', name: 'Disk almost full on db-1', host: 'db-1' });

    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await post(source.url, body, auth));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual([
      { status: 'accepted', inserted: 1, duplicates: 0 },
      ...Array(9).fill({ status: 'accepted', inserted: 0, duplicates: 1 }),
    ]);
    expect(await count('events', source.id)).toBe(1);

    // A different body is news: its resolution is stored.
    const resolved = await post(source.url, JSON.stringify({ id: 'disk-db-1', state: 'resolved', name: 'Disk almost full on db-1', host: 'db-1' }), auth);
    expect(await resolved.json()).toMatchObject({ inserted: 1 });
    expect(await count('events', source.id)).toBe(2);
  });

  it('quarantines an authenticated body whose values PostgreSQL refuses, with the reason, and answers 2xx', async () => {
    const source = tacit.playgroundSource;
    if (!source) throw new Error('playground source missing');
    // A lone UTF-16 surrogate is valid JSON text but not storable in jsonb.
    const body = JSON.stringify({
      version: '4', groupKey: '{}:{alertname="Odd"}', status: 'firing', receiver: 'tacit',
      alerts: [{ status: 'firing', labels: { alertname: 'Odd', note: '\ud800' }, startsAt: '2026-12-01T10:00:00Z' }],
    });
    const res = await postAlert(tacit.url, source.id, source.token, body);

    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'quarantined' });
    const { rows } = await direct.query(`select reason, kind from quarantine where source_id = $1 order by id desc limit 1`, [source.id]);
    expect(rows[0]).toMatchObject({ kind: 'body' });
    expect(rows[0].reason).toMatch(/^the database refused the values: .*\(SQLSTATE 22/);
    expect(await count('events', source.id)).toBe(0);
  });

  it('stores a 5,000-alert group written in several statements all or nothing: one bad alert quarantines the body', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
    const group = (bad: boolean) => JSON.stringify({
      version: '4', groupKey: `{}:{alertname="Big", bad="${bad}"}`, status: 'firing', receiver: 'tacit', commonLabels: { alertname: 'Big' },
      alerts: Array.from({ length: 5_000 }, (_, i) => ({
        status: 'firing', labels: { n: String(i), ...(bad && i === 4_321 ? { note: '\ud800' } : {}) }, startsAt: bad ? '2026-12-01T10:00:00Z' : '2026-12-01T11:00:00Z',
      })),
    });

    const refused = await postAlert(tacit.url, source.id, source.token ?? '', group(true));
    expect(refused.status).toBe(202);
    expect(await count('events', source.id)).toBe(0);
    expect(await count('quarantine', source.id)).toBe(1);

    const stored = await postAlert(tacit.url, source.id, source.token ?? '', group(false));
    expect(await stored.json()).toMatchObject({ status: 'accepted', inserted: 5_000, duplicates: 0 });
    expect(await count('events', source.id)).toBe(5_000);
  });
});
