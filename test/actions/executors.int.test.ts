// Each built-in executor against its fake, through its real client (Octokit, fetch): it does what it
// says, verify sees the world afterwards, findDone recognises its own earlier work by the approval id,
// and failures are sorted into permanent (no retry can help) and transient (retry later).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationSchemas, type Integration, type IntegrationKind } from '../../src/actions/integrations.js';
import { ActionNotSentError, actionsFor, builtinActions, describeAction, integrationFor, PermanentActionError, type AnyAction, type ExecuteContext } from '../../src/actions/registry.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';

const WS = 'executors:test';

/** An integration as `loadIntegrations` hands it over: settings and secrets parsed by their kind's schema. */
function integration(kind: IntegrationKind, name: string, settings: unknown, secrets: unknown): Integration {
  const schema = integrationSchemas[kind];
  return {
    id: `int_${kind}_${name}`, workspaceId: WS, kind, name,
    settings: schema.settings.parse(settings) as Record<string, unknown>,
    secrets: schema.secrets.parse(secrets) as Record<string, unknown>,
  };
}

function actionNamed(integrations: Integration[], name: string): { action: AnyAction; integration: Integration } {
  const action = actionsFor(integrations).find((a) => a.name === name);
  if (!action) throw new Error(`no action ${name} for these integrations`);
  const found = integrationFor(action, integrations);
  if (!found) throw new Error(`no integration for ${name}`);
  return { action, integration: found };
}

function context(integration: Integration, approvalId: string): ExecuteContext {
  return { approvalId, integration, signal: AbortSignal.timeout(10_000) };
}

/** Parses like the worker does, so defaults and validation apply as in production. */
function params(action: AnyAction, input: unknown): Record<string, unknown> {
  return action.params.parse(input) as Record<string, unknown>;
}

describe('GitHub executors', () => {
  const token = 'ghp_executor_test_token';
  let github: FakeGithub;
  let integrations: Integration[];

  beforeAll(async () => {
    github = await startFakeGithub({ owner: 'acme', repo: 'shop', hookId: 1, token });
    integrations = [integration('github', 'default', { apiUrl: github.apiUrl }, { token })];
  });
  afterAll(async () => {
    await github?.close();
  });

  it('re-runs the failed jobs of a workflow run and verifies the next attempt started', async () => {
    github.runs.set(77, { id: 77, run_attempt: 1, status: 'completed', conclusion: 'failure' });
    const { action, integration: gh } = actionNamed(integrations, 'github.rerun_workflow');
    const p = params(action, { repo: 'acme/shop', runId: 77 });
    const ctx = context(gh, 'apr_rerun');

    const result = await action.execute(ctx, p);
    expect(result.data).toEqual({ attemptBefore: 1 });
    expect(github.rerunRequests).toEqual([77]);
    expect(github.runs.get(77)?.run_attempt).toBe(2);
    const verification = await action.verify(ctx, p, result);
    expect(verification).toMatchObject({ ok: true });
    expect(verification.detail).toContain('attempt 2');
  });

  it('finds a rerun that started after the approval (a retry after a crash does not rerun again), but not an older one', async () => {
    github.runs.set(79, { id: 79, run_attempt: 1, status: 'completed', conclusion: 'failure' });
    const { action, integration: gh } = actionNamed(integrations, 'github.rerun_workflow');
    const p = params(action, { repo: 'acme/shop', runId: 79 });
    const approvedAt = new Date(Date.now() - 1_000);
    const ctx = { ...context(gh, 'apr_rerun_retry'), approvedAt };
    expect(await action.findDone?.(ctx, p)).toBeNull();
    await action.execute(ctx, p);
    expect(await action.findDone?.(ctx, p)).toMatchObject({ data: { attemptBefore: 1 } });
    // An attempt that started before this approval belongs to someone else.
    expect(await action.findDone?.({ ...ctx, approvedAt: new Date(Date.now() + 60_000) }, p)).toBeNull();
  });

  it('does not verify a rerun when the run is still on the same attempt', async () => {
    github.runs.set(78, { id: 78, run_attempt: 3, status: 'completed', conclusion: 'failure' });
    const { action, integration: gh } = actionNamed(integrations, 'github.rerun_workflow');
    const p = params(action, { repo: 'acme/shop', runId: 78 });
    const verification = await action.verify(context(gh, 'apr_rerun_same'), p, { summary: '', data: { attemptBefore: 3 } });
    expect(verification).toMatchObject({ ok: false });
  });

  it('refuses, permanently, to rerun a run GitHub does not know', async () => {
    const { action, integration: gh } = actionNamed(integrations, 'github.rerun_workflow');
    const before = github.rerunRequests.length;
    await expect(action.execute(context(gh, 'apr_rerun_unknown'), params(action, { repo: 'acme/shop', runId: 999_999 }))).rejects.toThrow(PermanentActionError);
    expect(github.rerunRequests).toHaveLength(before);
  });

  it('fails permanently with a token GitHub rejects', async () => {
    const bad = [integration('github', 'default', { apiUrl: github.apiUrl }, { token: 'ghp_wrong' })];
    const { action, integration: gh } = actionNamed(bad, 'github.open_issue');
    const before = github.issues.length;
    await expect(action.execute(context(gh, 'apr_bad_token'), params(action, { repo: 'acme/shop', title: 'Nope' }))).rejects.toThrow(/401/);
    await expect(action.execute(context(gh, 'apr_bad_token'), params(action, { repo: 'acme/shop', title: 'Nope' }))).rejects.toThrow(PermanentActionError);
    expect(github.issues).toHaveLength(before);
  });

  it('opens an issue that carries the approval id, verifies it, and finds it again only for the same approval', async () => {
    const { action, integration: gh } = actionNamed(integrations, 'github.open_issue');
    const p = params(action, { repo: 'acme/shop', title: 'Checkout latency above SLO', body: 'p99 is 3 s since 10:02.' });
    const ctx = context(gh, 'apr_issue_1');

    // Nothing done yet for this approval.
    expect(await action.findDone?.(ctx, p)).toBeNull();
    const result = await action.execute(ctx, p);
    const created = github.issues.find((i) => i.number === result.data.number);
    expect(created?.title).toBe('Checkout latency above SLO');
    expect(created?.body).toContain('p99 is 3 s since 10:02.');
    expect(created?.body).toContain('apr_issue_1');
    expect(result.data.url).toBe(created?.html_url);
    expect(await action.verify(ctx, p, result)).toMatchObject({ ok: true });

    const again = await action.findDone?.(ctx, p);
    expect(again?.data.number).toBe(result.data.number);
    expect(await action.findDone?.(context(gh, 'apr_issue_2'), p)).toBeNull();
    // An approval id that merely starts like this one is another approval.
    expect(await action.findDone?.(context(gh, 'apr_issue'), p)).toBeNull();
  });

  it('does not verify an issue whose title differs from what was approved', async () => {
    const { action, integration: gh } = actionNamed(integrations, 'github.open_issue');
    const ctx = context(gh, 'apr_issue_title');
    const result = await action.execute(ctx, params(action, { repo: 'acme/shop', title: 'Original' }));
    expect(await action.verify(ctx, params(action, { repo: 'acme/shop', title: 'Something else' }), result)).toMatchObject({ ok: false });
  });

  it('comments on an issue with the approval id, verifies it, and finds it again only for the same approval', async () => {
    const issue = await (async () => {
      const { action, integration: gh } = actionNamed(integrations, 'github.open_issue');
      return (await action.execute(context(gh, 'apr_for_comment'), params(action, { repo: 'acme/shop', title: 'Flaky deploy' }))).data.number;
    })();
    const { action, integration: gh } = actionNamed(integrations, 'github.comment');
    const p = params(action, { repo: 'acme/shop', number: issue, body: 'Rolled back to v41; watching.' });
    const ctx = context(gh, 'apr_comment_1');

    expect(await action.findDone?.(ctx, p)).toBeNull();
    const result = await action.execute(ctx, p);
    const created = github.comments.find((c) => c.id === result.data.commentId);
    expect(created?.issue_number).toBe(issue);
    expect(created?.body).toContain('Rolled back to v41; watching.');
    expect(created?.body).toContain('apr_comment_1');
    expect(await action.verify(ctx, p, result)).toMatchObject({ ok: true });
    // The comment exists but belongs to another approval: not verified for that one.
    expect(await action.verify(context(gh, 'apr_comment_2'), p, result)).toMatchObject({ ok: false });

    expect((await action.findDone?.(ctx, p))?.data.commentId).toBe(result.data.commentId);
    expect(await action.findDone?.(context(gh, 'apr_comment_2'), p)).toBeNull();
    expect(github.comments.filter((c) => c.body.includes('apr_comment_1'))).toHaveLength(1);
  });

  it('rejects parameters that are not a repository or a number', () => {
    const { action } = actionNamed(integrations, 'github.comment');
    expect(action.params.safeParse({ repo: 'not a repo', number: 1, body: 'x' }).success).toBe(false);
    expect(action.params.safeParse({ repo: 'acme/shop', number: -1, body: 'x' }).success).toBe(false);
    expect(action.params.safeParse({ repo: 'acme/shop', number: 1, body: '   ' }).success).toBe(false);
  });
});

describe('PagerDuty executors', () => {
  const token = 'pd_executor_test_token';
  let pagerduty: FakePagerduty;
  let integrations: Integration[];

  beforeAll(async () => {
    pagerduty = await startFakePagerduty({ token });
    integrations = [integration('pagerduty', 'default', { apiUrl: pagerduty.apiUrl, fromEmail: 'oncall@example.com' }, { token })];
  });
  afterAll(async () => {
    await pagerduty?.close();
  });

  it('acknowledges an incident, sending the From header, and verifies it', async () => {
    pagerduty.incidents.set('Q1ACK0001', { id: 'Q1ACK0001', status: 'triggered' });
    const { action, integration: pd } = actionNamed(integrations, 'pagerduty.acknowledge');
    const p = params(action, { pagerdutyIncidentId: 'Q1ACK0001' });
    const ctx = context(pd, 'apr_pd_ack');

    const result = await action.execute(ctx, p);
    expect(pagerduty.incidents.get('Q1ACK0001')?.status).toBe('acknowledged');
    expect(pagerduty.updates.filter((u) => u.id === 'Q1ACK0001')).toEqual([{ id: 'Q1ACK0001', status: 'acknowledged', from: 'oncall@example.com' }]);
    expect(await action.verify(ctx, p, result)).toMatchObject({ ok: true, detail: expect.stringContaining('acknowledged') });
  });

  it('resolves an incident and verifies it; an acknowledgement counts as done once resolved', async () => {
    pagerduty.incidents.set('Q1RES0001', { id: 'Q1RES0001', status: 'acknowledged' });
    const resolve = actionNamed(integrations, 'pagerduty.resolve');
    const p = params(resolve.action, { pagerdutyIncidentId: 'Q1RES0001' });
    const ctx = context(resolve.integration, 'apr_pd_resolve');

    const result = await resolve.action.execute(ctx, p);
    expect(pagerduty.incidents.get('Q1RES0001')?.status).toBe('resolved');
    expect(pagerduty.updates.find((u) => u.id === 'Q1RES0001')?.from).toBe('oncall@example.com');
    expect(await resolve.action.verify(ctx, p, result)).toMatchObject({ ok: true });

    const ack = actionNamed(integrations, 'pagerduty.acknowledge');
    expect(await ack.action.verify(ctx, p, result)).toMatchObject({ ok: true });
  });

  it('does not verify a resolve while the incident is still open', async () => {
    pagerduty.incidents.set('Q1OPEN001', { id: 'Q1OPEN001', status: 'triggered' });
    const { action, integration: pd } = actionNamed(integrations, 'pagerduty.resolve');
    const p = params(action, { pagerdutyIncidentId: 'Q1OPEN001' });
    expect(await action.verify(context(pd, 'apr_pd_open'), p, { summary: '', data: {} })).toMatchObject({ ok: false });
  });

  it('fails permanently with a token PagerDuty rejects (401), changing nothing', async () => {
    pagerduty.incidents.set('Q1AUTH001', { id: 'Q1AUTH001', status: 'triggered' });
    const bad = [integration('pagerduty', 'default', { apiUrl: pagerduty.apiUrl, fromEmail: 'oncall@example.com' }, { token: 'wrong' })];
    const { action, integration: pd } = actionNamed(bad, 'pagerduty.acknowledge');
    const p = params(action, { pagerdutyIncidentId: 'Q1AUTH001' });
    const attempt = action.execute(context(pd, 'apr_pd_auth'), p);
    await expect(attempt).rejects.toThrow(PermanentActionError);
    await expect(attempt).rejects.toThrow(/401/);
    expect(pagerduty.incidents.get('Q1AUTH001')?.status).toBe('triggered');
  });

  it('fails permanently for an incident PagerDuty does not know', async () => {
    const { action, integration: pd } = actionNamed(integrations, 'pagerduty.resolve');
    const attempt = action.execute(context(pd, 'apr_pd_unknown'), params(action, { pagerdutyIncidentId: 'QNOSUCH01' }));
    await expect(attempt).rejects.toThrow(PermanentActionError);
    await expect(attempt).rejects.toThrow(/404/);
  });

  it('rejects an incident id that is not one', () => {
    const { action } = actionNamed(integrations, 'pagerduty.acknowledge');
    expect(action.params.safeParse({ pagerdutyIncidentId: '../users/PXYZ' }).success).toBe(false);
  });
});

describe('Alertmanager expire_silence', () => {
  let alertmanager: FakeAlertmanager;
  let integrations: Integration[];

  beforeAll(async () => {
    alertmanager = await startFakeAlertmanager();
    integrations = [integration('alertmanager', 'default', { url: alertmanager.url }, {})];
  });
  afterAll(async () => {
    await alertmanager?.close();
  });

  it('expires a silence and verifies it is expired', async () => {
    const silence = actionNamed(integrations, 'alertmanager.silence');
    const sp = params(silence.action, { matchers: [{ name: 'alertname', value: 'DiskFull' }], durationMinutes: 30 });
    const created = await silence.action.execute(context(silence.integration, 'apr_am_silence'), sp);
    const silenceId = String(created.data.silenceId);
    expect(alertmanager.silences.find((s) => s.id === silenceId)?.status.state).toBe('active');

    const { action, integration: am } = actionNamed(integrations, 'alertmanager.expire_silence');
    const p = params(action, { silenceId });
    const ctx = context(am, 'apr_am_expire');
    // Before it is expired, verify says so.
    expect(await action.verify(ctx, p, { summary: '', data: { silenceId } })).toMatchObject({ ok: false });
    const result = await action.execute(ctx, p);
    expect(alertmanager.silences.find((s) => s.id === silenceId)?.status.state).toBe('expired');
    expect(await action.verify(ctx, p, result)).toMatchObject({ ok: true, detail: expect.stringContaining('expired') });
  });

  it('expires an already expired silence again without error (a retry after a crash)', async () => {
    const silence = actionNamed(integrations, 'alertmanager.silence');
    const created = await silence.action.execute(context(silence.integration, 'apr_am_twice'), params(silence.action, { matchers: [{ name: 'alertname', value: 'Twice' }], durationMinutes: 10 }));
    const { action, integration: am } = actionNamed(integrations, 'alertmanager.expire_silence');
    const p = params(action, { silenceId: String(created.data.silenceId) });
    await action.execute(context(am, 'apr_am_twice_expire'), p);
    const again = await action.execute(context(am, 'apr_am_twice_expire'), p);
    expect(await action.verify(context(am, 'apr_am_twice_expire'), p, again)).toMatchObject({ ok: true });
  });

  it('fails permanently for a silence Alertmanager does not know', async () => {
    const { action, integration: am } = actionNamed(integrations, 'alertmanager.expire_silence');
    const p = params(action, { silenceId: '00000000-0000-0000-0000-000000000000' });
    await expect(action.execute(context(am, 'apr_am_unknown'), p)).rejects.toThrow(PermanentActionError);
  });

  it('sends the configured Authorization header', async () => {
    alertmanager.requireAuthorization('Basic c2VjcmV0');
    try {
      const without = actionNamed(integrations, 'alertmanager.silence');
      const sp = params(without.action, { matchers: [{ name: 'alertname', value: 'Auth' }], durationMinutes: 5 });
      await expect(without.action.execute(context(without.integration, 'apr_am_noauth'), sp)).rejects.toThrow(PermanentActionError);
      const withAuth = [integration('alertmanager', 'default', { url: alertmanager.url }, { authorization: 'Basic c2VjcmV0' })];
      const { action, integration: am } = actionNamed(withAuth, 'alertmanager.silence');
      const result = await action.execute(context(am, 'apr_am_auth'), sp);
      expect(alertmanager.silences.some((s) => s.id === result.data.silenceId)).toBe(true);
    } finally {
      alertmanager.requireAuthorization(undefined);
    }
  });
});

interface RunbookRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('runbook executor', () => {
  let server: Server;
  let base: string;
  let answer = 200;
  const received: RunbookRequest[] = [];
  const runbookUrl = () => `${base}/hooks/restart?env=prod`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: answer < 300 }));
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const runbook = (name = 'restart-service') => {
    const integrations = [
      integration('runbook', name, {
        description: 'Restart a service through the deploy tool.',
        method: 'POST',
        url: runbookUrl(),
        params: ['service'],
        bodyTemplate: '{"service":"{{service}}"}',
      }, { headers: { authorization: 'Bearer x' } }),
    ];
    return actionNamed(integrations, `runbook.${name}`);
  };

  it('is offered by name, with its declared parameters and its risk', () => {
    const { action } = runbook();
    const info = describeAction(action);
    expect(info).toMatchObject({ name: 'runbook.restart-service', risk: 'write' });
    expect(info.description).toContain('Restart a service');
    expect(info.paramsSchema).toMatchObject({ properties: { service: { type: 'string' } }, required: ['service'], additionalProperties: false });
  });

  it('calls exactly the configured URL with its secret header, the approval id and the filled body', async () => {
    answer = 200;
    const { action, integration: rb } = runbook();
    const ctx = context(rb, 'apr_runbook_1');
    const p = params(action, { service: 'checkout' });
    const result = await action.execute(ctx, p);
    const req = received.at(-1);
    expect(req?.method).toBe('POST');
    expect(`${base}${req?.url}`).toBe(runbookUrl());
    expect(req?.headers.authorization).toBe('Bearer x');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-tacit-approval']).toBe('apr_runbook_1');
    expect(req?.headers['idempotency-key']).toBe('apr_runbook_1');
    expect(JSON.parse(req?.body ?? '')).toEqual({ service: 'checkout' });
    expect(result.data).toEqual({ status: 200 });
    expect(await action.verify(ctx, p, result)).toMatchObject({ ok: true });
  });

  it('JSON-escapes a parameter so it cannot break out of its string', async () => {
    answer = 200;
    const { action, integration: rb } = runbook();
    const hostile = 'checkout", "admin": true, "x": "\nline two\r\t\\ \u0000 {{service}} \u2028end';
    await action.execute(context(rb, 'apr_runbook_escape'), params(action, { service: hostile }));
    const body = received.at(-1)?.body ?? '';
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['service']);
    expect(parsed.service).toBe(hostile);
  });

  it('rejects parameters the runbook does not declare, and missing ones', () => {
    const { action } = runbook();
    expect(action.params.safeParse({ service: 'checkout', url: 'http://evil.example' }).success).toBe(false);
    expect(action.params.safeParse({}).success).toBe(false);
    expect(action.params.safeParse({ service: 42 }).success).toBe(false);
    expect(action.params.safeParse({ service: 'checkout' }).success).toBe(true);
  });

  it('treats a 500 from the runbook as transient and a 404 as permanent', async () => {
    const { action, integration: rb } = runbook();
    const p = params(action, { service: 'checkout' });

    answer = 500;
    const transient = await action.execute(context(rb, 'apr_runbook_500'), p).then(() => null, (err: unknown) => err);
    expect(transient).toBeInstanceOf(Error);
    expect(transient).not.toBeInstanceOf(PermanentActionError);
    expect((transient as Error).message).toContain('answered 500');

    answer = 404;
    await expect(action.execute(context(rb, 'apr_runbook_404'), p)).rejects.toThrow(PermanentActionError);
    answer = 200;
  });

  it('is declared idempotent only when its settings say so', () => {
    expect(runbook().action.idempotent).toBe(false);
    const declared = [integration('runbook', 'flush', { description: 'b', url: `${base}/flush`, idempotent: true }, {})];
    expect(actionsFor(declared)[0]?.idempotent).toBe(true);
  });

  it('sorts a refused connection (nothing sent) apart from an answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const integrations = [integration('runbook', 'gone', { description: 'g', url: `http://127.0.0.1:${port}/x` }, {})];
    const { action, integration: rb } = actionNamed(integrations, 'runbook.gone');
    await expect(action.execute(context(rb, 'apr_runbook_gone'), {})).rejects.toThrow(ActionNotSentError);
  });

  it('only exists for the runbook integration of its own name', () => {
    const two = [
      integration('runbook', 'restart-service', { description: 'a', url: runbookUrl(), params: ['service'] }, {}),
      integration('runbook', 'flush-cache', { description: 'b', url: `${base}/flush` }, {}),
    ];
    const names = actionsFor(two).map((a) => a.name);
    expect(names).toEqual(['runbook.restart-service', 'runbook.flush-cache']);
    const flush = actionsFor(two).find((a) => a.name === 'runbook.flush-cache');
    expect(flush && integrationFor(flush, two)?.name).toBe('flush-cache');
  });
});

describe('which built-in actions may be repeated after an attempt that may have acted', () => {
  it('lets each repeat only by finding its own earlier effect or by being idempotent', () => {
    const repeat = Object.fromEntries(builtinActions.map((a) => [a.name, a.findDone ? 'finds its earlier effect' : a.idempotent ? 'idempotent' : 'never']));
    expect(repeat).toEqual({
      'github.rerun_workflow': 'finds its earlier effect',
      'github.open_issue': 'finds its earlier effect',
      'github.comment': 'finds its earlier effect',
      'alertmanager.silence': 'finds its earlier effect',
      'alertmanager.expire_silence': 'idempotent',
      'pagerduty.acknowledge': 'idempotent',
      'pagerduty.resolve': 'idempotent',
    });
  });
});
