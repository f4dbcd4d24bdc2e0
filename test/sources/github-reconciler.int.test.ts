// GitHub never retries: a push delivered while Tacit's database was down (answered 503) is recovered
// by the reconciler through GitHub's hook delivery API, and stored once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { fixture } from '../support/playground.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('the GitHub delivery reconciler', () => {
  let tacit: TestTacit;
  let proxy: PgProxy;
  let github: FakeGithub;
  let direct: pg.Client;
  let sourceId: string;
  const stored = async () => Number((await direct.query('select count(*) as n from events where source_id = $1', [sourceId])).rows[0].n);

  beforeAll(async () => {
    proxy = await startPgProxy();
    const token = 'ghp_fakehookadmintoken';
    github = await startFakeGithub({ owner: 'Codertocat', repo: 'Hello-World', hookId: 42, token });
    tacit = await startTestTacit({
      databaseUrl: (url) => proxy.url(url),
      env: { TACIT_SECRET_KEY: 'reconciler-test-key-0123456789abcdef0123', GITHUB_API_URL: github.apiUrl },
    });
    const created = await createSourceViaApi(tacit.url, { kind: 'github', hookAccess: { repo: 'Codertocat/Hello-World', hookId: 42, token } });
    sourceId = created.id;
    github.setHook({ url: created.url, secret: created.secret ?? '' });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await proxy?.start().catch(() => undefined);
    await tacit?.cleanup();
    await github?.close();
    await proxy?.close();
  });

  it('redelivers what Tacit answered 503 to, and leaves delivered ones alone', async () => {
    const ok = await github.deliver('push', JSON.parse(fixture('github/push.json').toString()));
    expect(ok.status_code).toBe(200);

    await proxy.stop();
    const missed = await github.deliver('release', JSON.parse(fixture('github/release.published.json').toString()));
    expect(missed.status_code).toBe(503);
    await proxy.start();
    expect(await stored()).toBe(1);

    const results = await tacit.reconcileGithub();
    expect(results.find((r) => r.sourceId === sourceId)?.redelivered).toEqual([missed.guid]);
    await waitFor(async () => (await stored()) === 2, { what: 'the redelivered release to be stored' });
    // The scheduled run (started at boot, late on a loaded machine) may ask for it too: the redelivered
    // event is still stored once (delivery ids dedupe), which `stored() === 2` above and below shows.
    expect([...new Set(github.redeliveryRequests)]).toEqual([missed.id]);

    // Nothing left to recover: a second run asks for nothing.
    const again = await tacit.reconcileGithub();
    expect(again.find((r) => r.sourceId === sourceId)?.redelivered).toEqual([]);
    expect(await stored()).toBe(2);
  });

});
