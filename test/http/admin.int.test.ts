// The admin API outside playground mode: only with TACIT_ADMIN_TOKEN, even from this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('admin API access', () => {
  let tacit: TestTacit;
  const adminToken = 'admin-token-for-tests-0123456789';
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: adminToken } });
  });
  afterAll(() => tacit?.cleanup());

  it('refuses requests without the admin token, and says how to authenticate', async () => {
    const res = await fetch(`${tacit.url}/api/sources`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/TACIT_ADMIN_TOKEN/);
    expect((await fetch(`${tacit.url}/api/sources`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
  });

  it('answers with the admin token, and validates what it is given', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    expect((await fetch(`${tacit.url}/api/sources`, { headers: auth })).status).toBe(200);
    const bad = await fetch(`${tacit.url}/api/sources`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ workspaceId: 'w', kind: 'nagios', channelId: 'c' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/kind/);
  });

  it('refuses a bad storm policy, or one for an unknown workspace', async () => {
    const put = (body: unknown) => fetch(`${tacit.url}/api/workspaces/slack:TNONE/storm`, {
      method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect((await put({ storm: { windowMs: 10, threshold: 5 } })).status).toBe(400);
    expect((await put({ storm: { windowMs: 60_000, threshold: 1 } })).status).toBe(400);
    expect((await put({ storm: null })).status).toBe(404);
    expect((await put({ storm: { windowMs: 60_000, threshold: 8 } })).status).toBe(404);
  });

  it('has no playground when it is turned off', async () => {
    expect((await fetch(`${tacit.url}/playground`)).status).toBe(404);
  });
});
