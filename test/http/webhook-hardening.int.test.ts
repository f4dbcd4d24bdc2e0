// Bodies that are authentic but awkward are never answered 4xx/5xx by accident: NUL characters,
// impossible times, a secret Tacit cannot decrypt (503, so the sender keeps retrying). And the admin
// API does not trust requests relayed by a local proxy.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/playground.js';
import { githubHeaders, post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('webhook hardening', () => {
  let tacit: TestTacit;
  let direct: pg.Client;
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: 'hardening-test-key-0123456789abcdef0123' } });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
  });

  it('stores an alert whose annotation contains a NUL character, without failing its neighbours', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${source.token}` };
    const nul = JSON.parse(fixture('alertmanager/firing.json').toString());
    nul.alerts[0].annotations.description = 'stack trace\u0000with a NUL';
    nul.alerts[0].fingerprint = 'nul-1';
    const fine = JSON.parse(fixture('alertmanager/firing.json').toString());
    fine.alerts[0].fingerprint = 'fine-1';
    const [a, b] = await Promise.all([post(source.url, JSON.stringify(nul), auth), post(source.url, JSON.stringify(fine), auth)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const { rows } = await direct.query(`select payload->'annotations'->>'description' as d from events where dedupe_key like '%nul-1%'`);
    expect(rows[0].d).toBe('stack trace\uFFFDwith a NUL');
  });

  it('accepts a resolved alert with an unreadable endsAt, timing it at receipt', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
    const body = JSON.parse(fixture('alertmanager/resolved.json').toString());
    body.alerts[0].endsAt = 'not-a-time';
    const res = await post(source.url, JSON.stringify(body), { 'content-type': 'application/json', authorization: `Bearer ${source.token}` });
    expect(res.status).toBe(200);
  });

  it('answers 503, not 401, when the stored signing secret cannot be decrypted', async () => {
    const github = await createSourceViaApi(tacit.url, { kind: 'github' });
    await direct.query(`update sources set secret_encrypted = 'v1.AAAA.AAAA.AAAA' where id = $1`, [github.id]);
    const body = fixture('github/push.json').toString();
    const res = await post(github.url, body, githubHeaders(github.secret ?? '', body, 'push'));
    expect(res.status).toBe(503);
  });

  it('does not treat a request relayed by a local reverse proxy as local', async () => {
    const res = await fetch(`${tacit.url}/api/sources`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(401);
    expect((await fetch(`${tacit.url}/playground`, { headers: { forwarded: 'for=203.0.113.9' } })).status).toBe(401);
  });
});
