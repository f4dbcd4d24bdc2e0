// The HTTP trust boundary (issue 16): nothing is trusted for the peer address alone. A foreign Host
// (DNS rebinding) or Origin gets 403, a proxy on this machine makes nothing local, browsers need the
// session's CSRF token, the dashboard login is a real session, and Slack refuses future-dated requests.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/http/sessions.js';
import { DEFAULT_TEAM, slackSignature, startFakeSlack, type FakeSlack } from '../fakes/slack.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

const ADMIN_TOKEN = 'security-admin-token-0123456789';
const SIGNING_SECRET = 'slack-signing-secret-for-the-http-boundary';
const REBIND_HOST = 'rebind.attacker.example';

interface Answer { status: number; headers: IncomingHttpHeaders; text: string }

/** A raw HTTP request: fetch would not let a test choose the Host header. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const errorOf = (a: Answer): string => (JSON.parse(a.text) as { error: string }).error;

/** A TCP forwarder on this machine (like socat or a proxy with no X-Forwarded-For): Tacit sees a loopback peer. */
async function startForwarder(targetPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The playground page's session: its cookie and the CSRF token it embeds. */
async function pageSession(port: number, host: string): Promise<{ cookie: string; csrf: string }> {
  const page = await send(port, 'GET', '/playground', { host, accept: 'text/html' });
  expect(page.status).toBe(200);
  const cookie = String(page.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
  const csrf = /<meta name="tacit-csrf" content="([^"]+)">/.exec(page.text)?.[1] ?? '';
  expect(cookie).toMatch(/^tacit_session=/);
  expect(csrf).not.toBe('');
  return { cookie, csrf };
}

describe('playground mode: Host, Origin, proxies and CSRF', () => {
  let tacit: TestTacit;
  let host: string;
  let origin: string;
  const message = JSON.stringify({ userId: 'bob', channelId: 'playground:incidents', text: 'hello from the boundary test' });
  const click = JSON.stringify({ userId: 'alice', messageId: 'pm_none', actionId: 'approval.approve', value: 'x' });
  const source = JSON.stringify({ workspaceId: 'playground:local', channelId: 'playground:incidents', kind: 'alertmanager' });
  const approvers = JSON.stringify({ users: ['bob'] });
  const writes: [string, string, string][] = [
    ['POST', '/api/sources', source],
    ['PUT', '/api/workspaces/playground:local/approvers', approvers],
    ['POST', '/playground/api/messages', message],
    ['POST', '/playground/api/actions', click],
  ];

  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_ADMIN_TOKEN: ADMIN_TOKEN } });
    host = `127.0.0.1:${tacit.port}`;
    origin = `http://${host}`;
  });
  afterAll(() => tacit?.cleanup());

  it('answers 403 to a foreign Host (DNS rebinding) on every admin and playground route, reads included', async () => {
    for (const [method, path, body] of [...writes, ['GET', '/api/sources', undefined], ['GET', '/playground', undefined], ['GET', '/', undefined]] as const) {
      const res = await send(tacit.port, method, path, { host: `${REBIND_HOST}:${tacit.port}`, ...json }, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(errorOf(res)).toMatch(/Host "rebind\.attacker\.example:\d+" is not this Tacit's address.*DNS rebinding/);
    }
    // The wrong port is a foreign Host too: another service on this machine forwarding to Tacit.
    expect((await send(tacit.port, 'GET', '/api/sources', { host: '127.0.0.1:1' })).status).toBe(403);
  });

  it('answers 403 to a state-changing request from another origin, by Origin, by Referer, or an opaque "null" Origin', async () => {
    for (const [method, path, body] of writes) {
      const froms: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { referer: 'https://evil.example/page' }];
      for (const from of froms) {
        const res = await send(tacit.port, method, path, { host, ...json, ...from }, body);
        expect(res.status, `${method} ${path} ${JSON.stringify(from)}`).toBe(403);
        expect(errorOf(res)).toMatch(/cross-site request/);
      }
    }
    // Nothing got through: no new source, and the approvers are still the playground's own.
    const sources = await send(tacit.port, 'GET', '/api/sources', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect((JSON.parse(sources.text) as { sources: { id: string }[] }).sources.map((s) => s.id)).toEqual(['src_playground_alertmanager']);
    const db = new pg.Client({ connectionString: tacit.testDatabase.url });
    await db.connect();
    try {
      const { rows } = await db.query(`select settings -> 'approvers' -> 'users' as users from workspaces where id = 'playground:local'`);
      expect(rows[0]?.users).toEqual(['alice']);
    } finally {
      await db.end();
    }
  });

  it('trusts nothing that came through a forwarder on this machine without the admin token', async () => {
    const forwarder = await startForwarder(tacit.port);
    try {
      // The browser (or attacker) addressed the forwarder: its Host is the forwarder's, or a rebinding name.
      for (const forwardedHost of [`127.0.0.1:${forwarder.port}`, `${REBIND_HOST}:${forwarder.port}`, 'tacit.example.com']) {
        for (const [method, path, body] of [...writes, ['GET', '/api/sources', undefined], ['GET', '/playground', undefined]] as const) {
          const res = await send(forwarder.port, method, path, { host: forwardedHost, ...json }, body);
          expect([401, 403], `${method} ${path} via ${forwardedHost}`).toContain(res.status);
        }
      }
      const withToken = await send(forwarder.port, 'GET', '/api/sources', { host: `127.0.0.1:${forwarder.port}`, authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(withToken.status).toBe(200);
    } finally {
      await forwarder.close();
    }
  });

  it('requires the admin token when a proxy says it forwarded the request', async () => {
    const forwardings: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }];
    for (const forwarding of forwardings) {
      for (const [method, path, body] of [...writes, ['GET', '/playground/api/state', undefined]] as const) {
        const res = await send(tacit.port, method, path, { host, ...json, ...forwarding }, body);
        expect(res.status, `${method} ${path} ${JSON.stringify(forwarding)}`).toBe(401);
        expect(errorOf(res)).toMatch(/through a proxy.*TACIT_ADMIN_TOKEN/);
      }
      const withToken = await send(tacit.port, 'GET', '/playground/api/state', { host, authorization: `Bearer ${ADMIN_TOKEN}`, ...forwarding });
      expect(withToken.status).toBe(200);
    }
  });

  it('refuses a browser post without the page\'s CSRF token, and accepts it with the token', async () => {
    const { cookie, csrf } = await pageSession(tacit.port, host);
    const browser = { host, origin, cookie, ...json, 'sec-fetch-site': 'same-origin' };
    const without = await send(tacit.port, 'POST', '/playground/api/messages', browser, message);
    expect(without.status).toBe(403);
    expect(errorOf(without)).toMatch(/CSRF token/);
    const wrong = await send(tacit.port, 'POST', '/playground/api/messages', { ...browser, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` }, message);
    expect(wrong.status).toBe(403);
    const other = await pageSession(tacit.port, host);
    expect((await send(tacit.port, 'POST', '/playground/api/messages', { ...browser, 'x-csrf-token': other.csrf }, message)).status).toBe(403);
    const withToken = await send(tacit.port, 'POST', '/playground/api/messages', { ...browser, 'x-csrf-token': csrf }, message);
    expect(withToken.status).toBe(201);
    // A cross-site form post carries the cookie but comes from another origin: refused whatever it holds.
    const form = await send(tacit.port, 'POST', '/playground/api/sample-alert', { host, origin: 'https://evil.example', cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf }, 'status=firing');
    expect(form.status).toBe(403);
    // The same for the admin API reached from a page on this machine.
    expect((await send(tacit.port, 'PUT', '/api/workspaces/playground:local/approvers', browser, JSON.stringify({ users: ['alice'] }))).status).toBe(403);
    expect((await send(tacit.port, 'PUT', '/api/workspaces/playground:local/approvers', { ...browser, 'x-csrf-token': csrf }, JSON.stringify({ users: ['alice'] }))).status).toBe(200);
  });

  it('exempts bearer-token API clients from CSRF, and keeps local scripts (no cookie, no Origin) working in playground mode', async () => {
    const bearer = await send(tacit.port, 'PUT', '/api/workspaces/playground:local/approvers', { host: 'anything.example', authorization: `Bearer ${ADMIN_TOKEN}`, ...json }, JSON.stringify({ users: ['alice'] }));
    expect(bearer.status).toBe(200);
    const script = await send(tacit.port, 'POST', '/playground/api/messages', { host, ...json }, message);
    expect(script.status).toBe(201);
    expect((await send(tacit.port, 'GET', '/api/sources', { host: `localhost:${tacit.port}` })).status).toBe(200);
  });
});

describe('the dashboard login session (https public URL, Slack configured)', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  const publicHost = 'tacit.test';
  const site = { host: publicHost, origin: `https://${publicHost}` };

  beforeAll(async () => {
    slack = await startFakeSlack({ eventRetryDelaysMs: [] });
    tacit = await startTestTacit({
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_ADMIN_TOKEN: ADMIN_TOKEN, TACIT_PUBLIC_URL: `https://${publicHost}` },
    });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  const login = async (password: string, next = '/') =>
    send(tacit.port, 'POST', '/login', { ...site, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ password, next }).toString());

  it('has no playground once a platform is configured, and no loopback trust', async () => {
    expect(tacit.playground).toBeUndefined();
    expect((await send(tacit.port, 'GET', '/api/sources', { host: `127.0.0.1:${tacit.port}` })).status).toBe(403);
    expect((await send(tacit.port, 'GET', '/api/sources', site)).status).toBe(401);
  });

  it('sends a browser to the login form, refuses a wrong token, and sets a Secure, HttpOnly, SameSite session cookie for 12 h', async () => {
    const anonymous = await send(tacit.port, 'GET', '/', { ...site, accept: 'text/html' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/login?next=%2F');
    const form = await send(tacit.port, 'GET', '/login?next=%2F', site);
    expect(form.text).toContain('name="password"');

    const wrong = await login('not-the-admin-token-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const ok = await login(ADMIN_TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
    const cookie = String(ok.headers['set-cookie']?.[0]);
    expect(cookie).toMatch(/^__Host-tacit_session=[A-Za-z0-9_-]{43}; /);
    const flags = cookie.split('; ').slice(1);
    expect(flags).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure', 'Max-Age=43200']));
    expect(flags.some((f) => /^Domain=/i.test(f))).toBe(false);

    const id = cookie.split(';')[0]?.split('=')[1] ?? '';
    const keys = await tacit.redis.keys(`${tacit.prefix}:http:session:*`);
    expect(keys).toHaveLength(1);
    const ttlMs = await tacit.redis.pttl(keys[0] ?? '');
    expect(ttlMs).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttlMs).toBeLessThanOrEqual(12 * 3600_000);
    // Stored under a hash: the cookie value itself is nowhere in Redis.
    expect(keys[0]).not.toContain(id);

    const dashboard = await send(tacit.port, 'GET', '/', { ...site, cookie: cookie.split(';')[0] ?? '' });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('data-testid="logout"');
  });

  it('ends a session after 12 hours, when the admin token changes, and at logout (on the server: the old cookie stops working)', async () => {
    const ok = await login(ADMIN_TOKEN);
    const cookie = String(ok.headers['set-cookie']?.[0]).split(';')[0] ?? '';
    const id = cookie.split('=')[1];
    const now = new SessionStore(tacit.redis, tacit.prefix, { now: () => new Date() });
    expect(await now.find(id, ADMIN_TOKEN)).toMatchObject({ kind: 'admin' });
    const later = new SessionStore(tacit.redis, tacit.prefix, { now: () => new Date(Date.now() + 12 * 3600_000 + 1) });
    expect(await later.find(id, ADMIN_TOKEN)).toBeNull();
    expect(await now.find(id, 'a-rotated-admin-token-0123456789')).toBeNull();

    const page = await send(tacit.port, 'GET', '/', { ...site, cookie });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const forged = await send(tacit.port, 'POST', '/logout', { ...site, cookie, 'content-type': 'application/x-www-form-urlencoded' }, '_csrf=wrong');
    expect(forged.status).toBe(403);
    const out = await send(tacit.port, 'POST', '/logout', { ...site, cookie, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ _csrf: csrf }).toString());
    expect(out.status).toBe(303);
    expect(String(out.headers['set-cookie']?.[0])).toMatch(/^__Host-tacit_session=; .*Max-Age=0/);
    expect((await send(tacit.port, 'GET', '/api/sources', { ...site, cookie })).status).toBe(401);
    expect((await send(tacit.port, 'GET', '/', { ...site, cookie, accept: 'text/html' })).status).toBe(303);
  });

  it('refuses a login posted from another site, and never redirects off-site after login', async () => {
    const crossSite = await send(tacit.port, 'POST', '/login', { host: publicHost, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, `password=${ADMIN_TOKEN}`);
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) expect((await login(ADMIN_TOKEN, next)).headers.location).toBe('/');
    expect((await login(ADMIN_TOKEN, '/api/dashboard')).headers.location).toBe('/api/dashboard');
  });

  it('with a session, the admin API needs the CSRF token to change anything', async () => {
    const cookie = String((await login(ADMIN_TOKEN)).headers['set-cookie']?.[0]).split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await send(tacit.port, 'GET', '/', { ...site, cookie })).text)?.[1] ?? '';
    const body = JSON.stringify({ workspaceId: `slack:${DEFAULT_TEAM.teamId}`, channelId: 'slack:x/C1', kind: 'alertmanager' });
    expect((await send(tacit.port, 'POST', '/api/sources', { ...site, cookie, ...json }, body)).status).toBe(403);
    expect((await send(tacit.port, 'POST', '/api/sources', { ...site, cookie, ...json, 'x-csrf-token': csrf }, body)).status).not.toBe(403);
    expect((await send(tacit.port, 'GET', '/api/sources', { ...site, cookie })).status).toBe(200);
  });

  it('refuses a correctly signed Slack request dated an hour (or just over five minutes) in the future, or an hour old, with 401', async () => {
    const body = JSON.stringify(slack.eventEnvelope({ type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: 'hi', ts: '1700000000.000300' }));
    for (const offsetSeconds of [3600, 330, -3600]) {
      const timestamp = String(Math.floor(Date.now() / 1000) + offsetSeconds);
      const res = await fetch(`${tacit.url}/slack/events`, {
        method: 'POST', body,
        headers: { ...json, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body) },
      });
      expect(res.status, `${offsetSeconds} s`).toBe(401);
      expect(await res.text()).toMatch(offsetSeconds > 0 ? /in the future/ : /old/);
    }
  });
});
