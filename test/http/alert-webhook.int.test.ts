// The alert webhook's edge rules: 2xx only after commit, 503 when the database cannot commit, 401 for
// bad credentials, 404 for unknown sources, 413 over 1 MiB, quarantine (and 2xx) for unparseable bodies.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, postAlert } from '../support/playground.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('POST /hooks/alerts/:sourceId', () => {
  let tacit: TestTacit;
  let proxy: PgProxy;
  let direct: pg.Client;
  let source: { id: string; token: string };

  const count = async (table: 'events' | 'quarantine') =>
    Number((await direct.query(`select count(*) as n from ${table} where source_id = $1`, [source.id])).rows[0].n);

  beforeAll(async () => {
    proxy = await startPgProxy();
    tacit = await startTestTacit({ databaseUrl: (url) => proxy.url(url) });
    if (!tacit.playgroundSource) throw new Error('playground source missing');
    source = tacit.playgroundSource;
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await proxy?.start().catch(() => undefined);
    await tacit?.cleanup();
    await proxy?.close();
  });

  it('rejects a missing or wrong bearer token with 401 and stores nothing', async () => {
    const missing = await postAlert(tacit.url, source.id, undefined, fixture('alertmanager/firing.json'));
    expect(missing.status).toBe(401);
    const wrong = await postAlert(tacit.url, source.id, 'tct_not-the-token', fixture('alertmanager/firing.json'));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/bearer token/);
    expect(await count('events')).toBe(0);
    expect(await count('quarantine')).toBe(0);
  });

  it('answers 404 for an unknown source', async () => {
    const res = await postAlert(tacit.url, 'src_nope', source.token, fixture('alertmanager/firing.json'));
    expect(res.status).toBe(404);
  });

  it('answers 413 for a body over 1 MiB, without storing it', async () => {
    const huge = JSON.stringify({ version: '4', padding: 'x'.repeat(1024 * 1024) });
    const res = await postAlert(tacit.url, source.id, source.token, huge);
    expect(res.status).toBe(413);
    expect(await count('quarantine')).toBe(0);
  });

  it('quarantines an authenticated body that is not JSON, keeping its raw bytes, and answers 2xx', async () => {
    const res = await postAlert(tacit.url, source.id, source.token, '{"version": "4", oops');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'quarantined' });
    const row = (await direct.query('select reason, body from quarantine where source_id = $1', [source.id])).rows[0];
    expect(row.reason).toMatch(/not JSON/);
    expect(Buffer.from(row.body).toString()).toBe('{"version": "4", oops');
  });

  it('quarantines JSON that is not an Alertmanager payload, naming what is wrong', async () => {
    const res = await postAlert(tacit.url, source.id, source.token, JSON.stringify({ version: '4', alerts: 'none' }));
    expect(res.status).toBe(202);
    const { rows } = await direct.query('select reason from quarantine where source_id = $1 order by id desc limit 1', [source.id]);
    expect(rows[0].reason).toMatch(/not an Alertmanager v4 payload: .*alerts/);
    expect(await count('events')).toBe(0);
  });

  it('answers 503 while the database is down, then stores the retried delivery exactly once', async () => {
    await proxy.stop();
    const down = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(await count('events')).toBe(0);

    await proxy.start();
    const retried = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'));
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ inserted: 1, duplicates: 0 });
    const again = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'));
    expect(await again.json()).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(await count('events')).toBe(1);
  });
});
