// Integrations and approvers through the admin API of a running Tacit: settings are validated per
// kind, secrets go in encrypted and never come out; then a user story: Claude proposes opening a
// GitHub issue for a new incident, alice approves it in the playground, and exactly one issue appears.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { channelMessages, fixture } from '../support/playground.js';
import { scriptOpenedIncidents } from '../support/scenario-claude.js';
import { post } from '../support/sign.js';
import { createSourceViaApi, type CreatedSource } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';
import { api, approvalIdOf, click } from './support.js';

const WS = 'playground:local';
const GITHUB_TOKEN = 'ghp_integration_test_token_9f8e7d6c5b4a';


const errorOf = async (res: Response): Promise<string> => ((await res.json()) as { error?: string }).error ?? '';

describe('integrations and approvers through the admin API', () => {
  let tacit: TestTacit;
  let claude: FakeAnthropic;
  let github: FakeGithub;
  let db: pg.Client;
  let source: CreatedSource;

  beforeAll(async () => {
    github = await startFakeGithub({ owner: 'acme', repo: 'shop', hookId: 1, token: GITHUB_TOKEN });
    claude = await startFakeAnthropic();
    // For each new incident: a summary, and a proposal to open an issue about it.
    scriptOpenedIncidents(claude, (id, alertname) => [
      { type: 'tool_use', name: 'post_summary', input: { incidentId: id, text: `New incident ${alertname}.` } },
      {
        type: 'tool_use',
        name: 'propose_action',
        input: {
          action: 'github.open_issue', incidentId: id, reason: 'Track the follow-up in the repository.',
          params: { repo: 'acme/shop', title: `Follow up on ${alertname}`, body: `${alertname} fired; find the cause.` },
        },
      },
    ]);
    tacit = await startTestTacit({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: claude.url, TACIT_SECRET_KEY: 'integration-tests-secret-key-0123456789abcdef' } });
    db = new pg.Client({ connectionString: tacit.testDatabase.url });
    await db.connect();
    source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
  });
  afterAll(async () => {
    await db?.end();
    await tacit?.cleanup();
    await claude?.close();
    await github?.close();
  });

  const integrationsPath = (rest = '') => `/api/workspaces/${encodeURIComponent(WS)}/integrations${rest}`;

  it('rejects an unknown kind', async () => {
    const res = await api(tacit.url, 'PUT', integrationsPath('/jenkins/default'), { settings: { url: 'http://jenkins.local' } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/kind must be/);
  });

  it('rejects settings that do not validate, naming the field', async () => {
    const res = await api(tacit.url, 'PUT', integrationsPath('/alertmanager/default'), { settings: { url: 'not a url' } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/settings: url: /);

    const pd = await api(tacit.url, 'PUT', integrationsPath('/pagerduty/default'), { settings: { fromEmail: 'oncall@example.com', apiUrl: 'ftp://pagerduty' }, secrets: { token: 't' } });
    expect(pd.status).toBe(400);
    expect(await errorOf(pd)).toMatch(/apiUrl/);

    // fetch cannot send a GET with a body, so such a runbook is refused when configured, not when run.
    const getWithBody = await api(tacit.url, 'PUT', integrationsPath('/runbook/status-check'), { settings: { description: 'Check', method: 'GET', url: 'http://deploy.local/status', bodyTemplate: '{}' } });
    expect(getWithBody.status).toBe(400);
    expect(await errorOf(getWithBody)).toMatch(/settings: bodyTemplate: /);

    const missingSecret = await api(tacit.url, 'PUT', integrationsPath('/github/default'), { settings: {} });
    expect(missingSecret.status).toBe(400);
    expect(await errorOf(missingSecret)).toMatch(/secrets: token/);
  });

  it('rejects a runbook name with capitals, and a second name for a single-integration kind', async () => {
    const settings = { description: 'Restart a service', url: 'http://deploy.local/restart' };
    const caps = await api(tacit.url, 'PUT', integrationsPath('/runbook/Restart-Service'), { settings });
    expect(caps.status).toBe(400);
    expect(await errorOf(caps)).toMatch(/lowercase/);
    const named = await api(tacit.url, 'PUT', integrationsPath('/github/other'), { settings: {}, secrets: { token: 't' } });
    expect(named.status).toBe(400);
    expect(await errorOf(named)).toMatch(/"default"/);
  });

  it('answers 404 for a workspace that does not exist', async () => {
    const res = await api(tacit.url, 'PUT', '/api/workspaces/nowhere:none/integrations/alertmanager/default', { settings: { url: 'http://am.local:9093' } });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toContain('nowhere:none');
  });

  it('stores secrets encrypted, lists integrations without them, and deletes', async () => {
    const secretHeader = 'Bearer runbook-secret-6c1d0a9b8e7f';
    const put = await api(tacit.url, 'PUT', integrationsPath('/runbook/restart-service'), {
      settings: { description: 'Restart a service', method: 'POST', url: 'http://deploy.local/restart', params: ['service'], bodyTemplate: '{"service":"{{service}}"}' },
      secrets: { headers: { authorization: secretHeader } },
    });
    const putText = await put.text();
    expect(put.status).toBe(200);
    expect(putText).not.toContain(secretHeader);
    const { id } = JSON.parse(putText) as { id: string };

    const list = await api(tacit.url, 'GET', integrationsPath());
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(listText).not.toContain(secretHeader);
    expect(listText).not.toContain('runbook-secret');
    const listed = (JSON.parse(listText) as { integrations: { id: string; kind: string; name: string; settings: Record<string, unknown>; hasSecrets: boolean }[] }).integrations;
    expect(listed.find((i) => i.id === id)).toMatchObject({
      kind: 'runbook', name: 'restart-service', hasSecrets: true,
      // Defaults filled in by validation are what is stored.
      settings: { url: 'http://deploy.local/restart', params: ['service'], risk: 'write' },
    });

    const { rows } = await db.query<{ secrets_encrypted: string | null }>('select secrets_encrypted from integrations where id = $1', [id]);
    const sealed = rows[0]?.secrets_encrypted ?? '';
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(secretHeader);
    expect(sealed).not.toContain('runbook-secret');
    expect(Buffer.from(sealed.split('.').at(-1) ?? '', 'base64url').toString('utf8')).not.toContain('runbook-secret');

    // Replacing keeps one row (same id) rather than adding a second.
    const again = await api(tacit.url, 'PUT', integrationsPath('/runbook/restart-service'), { settings: { description: 'Restart it', url: 'http://deploy.local/restart2' } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);

    const del = await api(tacit.url, 'DELETE', integrationsPath('/runbook/restart-service'));
    expect(del.status).toBe(204);
    const delAgain = await api(tacit.url, 'DELETE', integrationsPath('/runbook/restart-service'));
    expect(delAgain.status).toBe(404);
    expect((await db.query('select 1 from integrations where id = $1', [id])).rowCount).toBe(0);
  });

  it('validates the approver policy and stores it in the workspace settings', async () => {
    const bad = await api(tacit.url, 'PUT', `/api/workspaces/${encodeURIComponent(WS)}/approvers`, { users: 'alice', twoPerson: 'yes' });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/users/);

    const policy = { users: ['alice', 'carol'], groups: ['sre'], twoPerson: true };
    const good = await api(tacit.url, 'PUT', `/api/workspaces/${encodeURIComponent(WS)}/approvers`, policy);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ approvers: policy });
    const { rows } = await db.query<{ settings: { approvers?: unknown } }>('select settings from workspaces where id = $1', [WS]);
    expect(rows[0]?.settings.approvers).toEqual(policy);

    const missing = await api(tacit.url, 'PUT', '/api/workspaces/nowhere:none/approvers', policy);
    expect(missing.status).toBe(404);
  });

  it('opens exactly one GitHub issue when alice approves what Claude proposed, and the card shows it verified', async () => {
    const put = await api(tacit.url, 'PUT', integrationsPath('/github/default'), { settings: { apiUrl: github.apiUrl }, secrets: { token: GITHUB_TOKEN } });
    expect(put.status).toBe(200);
    const approvers = await api(tacit.url, 'PUT', `/api/workspaces/${encodeURIComponent(WS)}/approvers`, { users: ['alice'] });
    expect(approvers.status).toBe(200);

    const alert = JSON.parse(fixture('alertmanager/firing.json').toString());
    const alertname = 'CheckoutErrors';
    alert.groupKey = `{}:{alertname="${alertname}"}`;
    alert.commonLabels = { alertname };
    alert.groupLabels = { alertname };
    alert.alerts = [{ ...alert.alerts[0], fingerprint: `fp-${alertname}`, labels: { ...alert.alerts[0].labels, alertname } }];
    const fired = await post(source.url, JSON.stringify(alert), { 'content-type': 'application/json', authorization: `Bearer ${source.token}` });
    expect([200, 202]).toContain(fired.status);

    const card = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.text.startsWith('Approval needed: github.open_issue') && JSON.stringify(m.blocks).includes(alertname)),
      { what: 'the approval card', timeoutMs: 15_000 },
    );
    const id = approvalIdOf(card);
    // Nothing happens before someone decides.
    expect(github.issues).toHaveLength(0);

    const answers = await Promise.all(Array.from({ length: 5 }, () => click(tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id)));
    expect(answers.filter((a) => a.startsWith('Approved: running'))).toHaveLength(1);

    const shown = await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m && m.text.startsWith('Done') ? m : null;
    }, { what: 'the card to show the result', timeoutMs: 15_000 });
    expect(github.issues).toHaveLength(1);
    const [issue] = github.issues;
    expect(issue?.title).toBe(`Follow up on ${alertname}`);
    expect(issue?.body).toContain(`${alertname} fired; find the cause.`);
    expect(issue?.body).toContain(id);

    const text = JSON.stringify(shown.blocks);
    expect(text).toContain('Approved by alice');
    expect(text).toContain(`opened acme/shop#${issue?.number}`);
    expect(text).toContain(`Verified: acme/shop#${issue?.number} exists`);
    expect(text).not.toContain(GITHUB_TOKEN);

    const { rows } = await db.query<{ status: string; verification: { ok: boolean } }>('select status, verification from approvals where id = $1', [id]);
    expect(rows[0]).toMatchObject({ status: 'executed', verification: { ok: true } });
    // A late job for the same approval changes nothing.
    await tacit.actions.reconcile();
    expect(github.issues).toHaveLength(1);
  });
});
