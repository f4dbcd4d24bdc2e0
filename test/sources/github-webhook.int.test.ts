// GitHub webhooks through HTTP: signatures on the raw body, one event per delivery id, ping
// answered, and incidents that list the repo changes shortly before they started.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { githubHeaders, post } from '../support/sign.js';
import { createSourceViaApi, type CreatedSource } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789';

describe('POST /hooks/github/:sourceId', () => {
  let tacit: TestTacit;
  let github: CreatedSource;
  let direct: pg.Client;
  const repoEvents = async () =>
    Number((await direct.query(`select count(*) as n from events where source_id = $1`, [github.id])).rows[0].n);

  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: SECRET_KEY } });
    github = await createSourceViaApi(tacit.url, { kind: 'github' });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
  });

  it('gives a GitHub source a signing secret and the URL to paste, once', () => {
    expect(github.url).toBe(`${tacit.url}/hooks/github/${github.id}`);
    expect(github.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(github.token).toBeUndefined();
    expect(github.instructions).toContain(github.secret);
  });

  it('answers ping', async () => {
    const body = fixture('github/ping.json').toString();
    const res = await post(github.url, body, githubHeaders(github.secret ?? '', body, 'ping'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'pong' });
  });

  it('rejects a forged or missing signature with 401 and stores nothing', async () => {
    const body = fixture('github/push.json').toString();
    const forged = await post(github.url, body, githubHeaders('not-the-secret', body, 'push'));
    expect(forged.status).toBe(401);
    const { 'x-hub-signature-256': _dropped, ...unsigned } = githubHeaders(github.secret ?? '', body, 'push');
    expect((await post(github.url, body, unsigned)).status).toBe(401);
    // A valid signature over different bytes (re-serialised JSON) is still forged.
    const reserialised = JSON.stringify(JSON.parse(body));
    expect((await post(github.url, reserialised, githubHeaders(github.secret ?? '', body, 'push'))).status).toBe(401);
    expect(await repoEvents()).toBe(0);
  });

  it('stores a replayed delivery once', async () => {
    const body = fixture('github/push.json').toString();
    const headers = githubHeaders(github.secret ?? '', body, 'push', 'a1b2c3d4-0000-4000-8000-000000000001');
    expect(await (await post(github.url, body, headers)).json()).toMatchObject({ inserted: 1 });
    expect(await (await post(github.url, body, headers)).json()).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(await repoEvents()).toBe(1);
  });

  it('does not accept a GitHub delivery on the alert route, or an alert on the GitHub route', async () => {
    const body = fixture('github/push.json').toString();
    expect((await post(`${tacit.url}/hooks/alerts/${github.id}`, body, githubHeaders(github.secret ?? '', body, 'push'))).status).toBe(404);
    const source = tacit.playgroundSource;
    expect((await postAlert(tacit.url.replace(/$/, ''), source?.id ?? '', source?.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    expect((await post(`${tacit.url}/hooks/github/${source?.id}`, '{}', githubHeaders('x', '{}', 'push'))).status).toBe(404);
  });

  it('lists a merged PR and a deployment from 5 minutes before an incident as its suspects', async () => {
    const start = new Date(Date.now() - 60_000);
    const minutesBefore = (m: number) => new Date(start.getTime() - m * 60_000).toISOString();
    const pr = JSON.parse(fixture('github/pull_request.closed.json').toString());
    pr.pull_request.merged_at = minutesBefore(5);
    pr.pull_request.title = 'Retry payment captures on timeout';
    const deploy = JSON.parse(fixture('github/deployment_status.created.json').toString());
    deploy.deployment_status.created_at = minutesBefore(4);
    const old = JSON.parse(fixture('github/pull_request.closed.json').toString());
    old.pull_request.merged_at = minutesBefore(90); // outside the 30-minute window
    old.pull_request.title = 'An old change that cannot be the cause';
    for (const [event, json] of [['pull_request', pr], ['deployment_status', deploy], ['pull_request', old]] as const) {
      const body = JSON.stringify(json);
      expect((await post(github.url, body, githubHeaders(github.secret ?? '', body, event))).status).toBe(200);
    }

    const alert = JSON.parse(fixture('alertmanager/firing.json').toString());
    alert.groupKey = '{}:{alertname="CheckoutLatency"}';
    alert.alerts[0].fingerprint = 'suspects-test';
    alert.alerts[0].startsAt = start.toISOString();
    alert.alerts[0].annotations.summary = 'Checkout latency above 2s';
    const source = tacit.playgroundSource;
    expect((await postAlert(tacit.url, source?.id ?? '', source?.token, JSON.stringify(alert))).status).toBe(200);

    const summary = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.threadId && m.text.includes('Checkout latency above 2s')),
      { what: 'the incident summary' },
    );
    expect(summary.text).toContain('Changed shortly before it started');
    expect(summary.text).toContain('PR #2 merged: Retry payment captures on timeout (5 min before)');
    expect(summary.text).toMatch(/Codertocat\/Hello-World: deploy.*production.*\(4 min before\)/);
    expect(summary.text).not.toContain('An old change');
  });
});

describe('a failed workflow on the default branch', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: SECRET_KEY } });
  });
  afterAll(() => tacit?.cleanup());

  it('is announced in the channel at once; the same failure on a feature branch is not', async () => {
    const github = await createSourceViaApi(tacit.url, { kind: 'github' });
    const run = JSON.parse(fixture('github/workflow_run.completed.json').toString());
    run.workflow_run.conclusion = 'failure';
    const feature = structuredClone(run);
    feature.workflow_run.head_branch = 'feature/retry';
    feature.workflow_run.head_sha = 'f'.repeat(40);
    for (const body of [JSON.stringify(feature), JSON.stringify(run)]) {
      expect((await post(github.url, body, githubHeaders(github.secret ?? '', body, 'workflow_run'))).status).toBe(200);
    }
    const notice = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.text.startsWith('*CI failed on master*')), {
      what: 'the CI notice',
    });
    expect(notice.threadId).toBeNull();
    expect(notice.text).toContain('octo-org/octo-repo');
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'more ticks' });
    const notices = (await channelMessages(tacit.url)).filter((m) => m.author.isBot && m.text.includes('CI failed'));
    expect(notices).toHaveLength(1);
  });
});
