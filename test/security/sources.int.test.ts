// Sources can be listed, rotated and revoked from chat (`/tacit sources|rotate|revoke`) and through the
// admin API, and a change holds at once in every process: two Tacits share one database and Redis,
// both have the source cached, and the old token is refused by both as soon as the answer came back.
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { tacitCommand } from '../support/commands.js';
import { redisUrl } from '../support/env.js';
import { fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

const ADMIN_TOKEN = 'admin-token-for-source-tests-0123456789';
const SECRET_KEY = 'source-tests-secret-key-0123456789abcdef';
const firing = fixture('alertmanager/firing.json');

/** The credentials in a private answer (connect or rotate). */
function credentials(answer: string): { id: string; token: string } {
  const url = /URL: (\S+)/.exec(answer)?.[1] ?? '';
  return { id: url.split('/').pop() ?? '', token: /Token: (\S+)/.exec(answer)?.[1] ?? '' };
}

describe('sources: list, rotate and revoke, at once in every process', () => {
  let first: TestTacit;
  let second: Tacit;
  /** POSTs the alert with this token to both processes: their statuses. */
  const both = async (id: string, token: string) =>
    Promise.all([first.url, second.url].map(async (base) => {
      const { status } = await postAlert(base, id, token, firing);
      return status >= 200 && status < 300 ? 'accepted' : status; // a generic source without a mapping quarantines (202)
    }));
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${first.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...init.headers } });

  beforeAll(async () => {
    first = await startTestTacit({ env: { TACIT_ADMIN_TOKEN: ADMIN_TOKEN, TACIT_SECRET_KEY: SECRET_KEY } });
    const config = loadConfig({
      DATABASE_URL: first.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: first.prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_PLAYGROUND: 'off', TACIT_SECRET_KEY: SECRET_KEY, TACIT_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    second = await startTacit(config, { logger: createLogger(config.logLevel), sweepIntervalMs: 1_000 });
  }, 60_000);
  afterAll(async () => {
    await second?.stop();
    await first?.cleanup();
  });

  it('revokes a source from chat: its token gets 401 at once from both processes, and the list says so', async () => {
    const source = credentials(await tacitCommand(first.url, 'alice', '/tacit connect alertmanager'));
    expect(await both(source.id, source.token)).toEqual(['accepted', 'accepted']); // both have it cached now

    expect(await tacitCommand(first.url, 'bob', `/tacit revoke ${source.id}`)).toMatch(/Only workspace admins/);
    expect(await both(source.id, source.token)).toEqual(['accepted', 'accepted']);

    expect(await tacitCommand(first.url, 'alice', `/tacit revoke ${source.id}`)).toMatch(new RegExp(`^Revoked alertmanager source \`${source.id}\``));
    expect(await both(source.id, source.token)).toEqual([401, 401]);
    const listed = await tacitCommand(first.url, 'bob', '/tacit sources');
    expect(listed).toMatch(new RegExp(`\`${source.id}\` alertmanager → #incidents · created .* · \\*revoked\\*`));
    expect(await tacitCommand(first.url, 'alice', `/tacit revoke ${source.id}`)).toMatch(/was revoked; connect a new one/);
    expect(await tacitCommand(first.url, 'alice', `/tacit rotate ${source.id}`)).toMatch(/was revoked/);
  });

  it('rotates a source from chat: the old token gets 401 at once from both processes, the new one is accepted', async () => {
    const before = credentials(await tacitCommand(first.url, 'alice', '/tacit connect generic'));
    expect(await both(before.id, before.token)).toEqual(['accepted', 'accepted']);
    expect(await tacitCommand(first.url, 'bob', `/tacit rotate ${before.id}`)).toMatch(/Only workspace admins/);

    const answer = await tacitCommand(first.url, 'alice', `/tacit rotate ${before.id}`);
    expect(answer).toMatch(/old ones no longer work/);
    const after = credentials(answer);
    expect(after.id).toBe(before.id);
    expect(after.token).toMatch(/^tct_/);
    expect(after.token).not.toBe(before.token);
    expect(await both(before.id, before.token)).toEqual([401, 401]);
    expect(await both(after.id, after.token)).toEqual(['accepted', 'accepted']);
    expect(await tacitCommand(first.url, 'bob', '/tacit sources')).toMatch(new RegExp(`\`${before.id}\` generic → #incidents · created .* · rotated `));
  });

  it('rotates and revokes through the admin API, audited, with the same effect in every process', async () => {
    const created = await api('/api/sources', { method: 'POST', body: JSON.stringify({ workspaceId: 'playground:local', channelId: 'playground:incidents', kind: 'alertmanager' }) });
    expect(created.status).toBe(201);
    const source = (await created.json()) as { id: string; token: string };
    expect(await both(source.id, source.token)).toEqual(['accepted', 'accepted']);

    const rotated = await api(`/api/sources/${source.id}/rotate`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json()) as { id: string; token: string };
    expect(await both(source.id, source.token)).toEqual([401, 401]);
    expect(await both(source.id, fresh.token)).toEqual(['accepted', 'accepted']);

    expect((await api(`/api/sources/${source.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await both(source.id, fresh.token)).toEqual([401, 401]);
    expect((await api(`/api/sources/${source.id}/revoke`, { method: 'POST' })).status).toBe(409);
    expect((await api('/api/sources/src_nosuch/rotate', { method: 'POST' })).status).toBe(404);

    const list = (await (await api('/api/sources?workspaceId=playground:local')).json()) as { sources: { id: string; rotatedAt: string | null; revokedAt: string | null }[] };
    expect(list.sources.find((s) => s.id === source.id)).toMatchObject({ rotatedAt: expect.any(String), revokedAt: expect.any(String) });
    expect(JSON.stringify(list)).not.toMatch(/tokenHash|secret/i);
    const rows = await first.database.db
      .select({ actor: auditLog.actor, action: auditLog.action, outcome: auditLog.outcome })
      .from(auditLog)
      .where(sql`${auditLog.detail}->>'sourceId' = ${source.id}`)
      .orderBy(asc(auditLog.id));
    expect(rows).toEqual([{ actor: 'admin-api', action: 'rotate', outcome: 'allowed' }, { actor: 'admin-api', action: 'revoke', outcome: 'allowed' }]);
  });
});
