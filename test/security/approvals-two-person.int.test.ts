// Risk is shown and enforced: a dangerous action needs two different people (or one workspace admin),
// and under the two-person rule a proposal of Tacit's own needs two different people too. Each first
// approval is recorded in the audit trail; the second distinct person's click moves it to approved.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { channelMessages } from '../support/playground.js';
import { waitFor } from '../support/wait.js';
import { startRunbookServer, type RunbookServer } from '../actions/runbook-server.js';
import { api, approvalIdOf, buttonValueOf, click, startApprovalWorld, WS, type ApprovalWorld } from '../actions/support.js';

describe('two people approve what is dangerous or proposed by Tacit under the two-person rule', () => {
  let world: ApprovalWorld;
  let runbook: RunbookServer;
  let db: pg.Client;

  beforeAll(async () => {
    runbook = await startRunbookServer();
    world = await startApprovalWorld({
      approvers: { users: ['alice', 'bob'] },
      propose: (alertname) => alertname.startsWith('Danger')
        ? { action: 'runbook.failover-db', reason: 'The primary is gone; fail over.', params: { service: alertname } }
        : { action: 'alertmanager.silence', params: { matchers: [{ name: 'alertname', value: alertname }], durationMinutes: 60 } },
    });
    const put = await api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/integrations/runbook/failover-db`, {
      settings: { description: 'Fail the database over to the replica.', url: `${runbook.url}/failover`, params: ['service'], bodyTemplate: '{"service":"{{service}}"}', risk: 'dangerous' },
    });
    expect(put.status).toBe(200);
    db = new pg.Client({ connectionString: world.tacit.testDatabase.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await world?.close();
    await runbook?.close();
  });

  const approval = async (id: string) => (await db.query('select * from approvals where id = $1', [id])).rows[0];
  const trail = async (id: string) => (await db.query('select kind, actor from approval_audit where approval_id = $1 order by id', [id])).rows as { kind: string; actor: string }[];
  const cardNow = async (messageId: string) => (await channelMessages(world.tacit.url)).find((m) => m.id === messageId);

  it('shows a dangerous action\'s risk and runs it only once a second, different person approves', async () => {
    const card = await world.fire('DangerPrimaryDown');
    const id = approvalIdOf(card);
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('dangerous: two people (or a workspace admin) must approve');
    expect(text).toContain('(2 different people)');

    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id)).toMatch(/approval is recorded.*second person.*dangerous/);
    expect((await approval(id)).status).toBe('pending');
    // The same person again is not a second person.
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id)).toMatch(/approved this already/);
    await waitFor(async () => JSON.stringify((await cardNow(card.id))?.blocks).includes('Approved so far by alice; one more person must approve.'), { what: 'the card to show the first approval' });
    expect(runbook.calls).toHaveLength(0);

    expect(await click(world.tacit.url, 'bob', card.id, APPROVE_ACTION_ID, id)).toMatch(/^Approved: running/);
    await waitFor(async () => (await approval(id)).status === 'executed', { what: 'the failover to run' });
    expect(runbook.calls).toHaveLength(1);
    const done = await waitFor(async () => {
      const m = await cardNow(card.id);
      return m?.text.startsWith('Done') ? m : null;
    }, { what: 'the card to show who approved' });
    expect(JSON.stringify(done.blocks)).toContain('Approved by alice and bob');
    expect((await trail(id)).filter((r) => r.kind.startsWith('approved'))).toEqual([{ kind: 'approved_partial', actor: 'alice' }, { kind: 'approved', actor: 'bob' }]);
  });

  it('lets one workspace admin who may approve run a dangerous action alone', async () => {
    const card = await world.fire('DangerAdmin');
    const id = approvalIdOf(card);
    const adapter = world.tacit.adapters.playground;
    if (!adapter) throw new Error('no playground adapter');
    const before = runbook.calls.length;
    const answer = await world.tacit.actions.decide(
      { workspaceId: WS, channelId: card.channelId, messageId: card.id, actionId: APPROVE_ACTION_ID, value: buttonValueOf(card), user: { id: 'alice', name: 'alice', admin: true }, raw: {} },
      adapter,
    );
    expect(answer.privateText).toMatch(/^Approved: running/);
    await waitFor(async () => (await approval(id)).status === 'executed', { what: 'the admin-approved failover' });
    expect(runbook.calls.length - before).toBe(1);
  });

  it('under the two-person rule, needs two different people for Tacit\'s own proposal, also when both click at once', async () => {
    expect((await api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/approvers`, { users: ['alice', 'bob'], twoPerson: true })).status).toBe(200);
    const card = await world.fire('TacitProposes');
    const id = approvalIdOf(card);
    expect((await approval(id)).requested_by).toBe('tacit');
    expect(JSON.stringify(card.blocks)).toContain('(2 different people)');

    const answers = await Promise.all([click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id), click(world.tacit.url, 'bob', card.id, APPROVE_ACTION_ID, id)]);
    expect(answers.filter((a) => /approval is recorded.*two-person rule/.test(a))).toHaveLength(1);
    expect(answers.filter((a) => /^Approved: running/.test(a))).toHaveLength(1);
    await waitFor(async () => (await approval(id)).status === 'executed', { what: 'the silence to run' });
    expect(world.alertmanager.silences.filter((s) => s.matchers[0]?.value === 'TacitProposes')).toHaveLength(1);

    // One person alone never gets it through, however often they click.
    const alone = await world.fire('TacitAlone');
    const aloneId = approvalIdOf(alone);
    for (let i = 0; i < 3; i++) await click(world.tacit.url, 'alice', alone.id, APPROVE_ACTION_ID, aloneId);
    expect((await approval(aloneId)).status).toBe('pending');
    expect((await trail(aloneId)).filter((r) => r.kind === 'approved_partial')).toHaveLength(1);
    expect(world.alertmanager.silences.filter((s) => s.matchers[0]?.value === 'TacitAlone')).toHaveLength(0);
    expect((await api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/approvers`, { users: ['alice', 'bob'] })).status).toBe(200);
  });
});

describe('two-person approval on the embedded database (PGlite: the row lock and the audit rows in one transaction)', () => {
  let world: ApprovalWorld;
  let runbook: RunbookServer;

  beforeAll(async () => {
    runbook = await startRunbookServer();
    world = await startApprovalWorld({
      embedded: true,
      approvers: { users: ['alice', 'bob'] },
      propose: (alertname) => ({ action: 'runbook.failover-db', reason: 'The primary is gone; fail over.', params: { service: alertname } }),
    });
    const put = await api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/integrations/runbook/failover-db`, {
      settings: { description: 'Fail the database over.', url: `${runbook.url}/failover`, params: ['service'], bodyTemplate: '{"service":"{{service}}"}', risk: 'dangerous' },
    });
    expect(put.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await runbook?.close();
  });

  it('records the first approval, runs on the second person\'s, and stays ready', async () => {
    const card = await world.fire('DangerEmbedded');
    const id = approvalIdOf(card);
    const answers = await Promise.all([click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id), click(world.tacit.url, 'bob', card.id, APPROVE_ACTION_ID, id)]);
    expect(answers.filter((a) => /approval is recorded/.test(a))).toHaveLength(1);
    expect(answers.filter((a) => /^Approved: running/.test(a))).toHaveLength(1);
    const done = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.id === card.id && m.text.startsWith('Done')), { what: 'the card to show the result', timeoutMs: 15_000 });
    expect(JSON.stringify(done.blocks)).toMatch(/Approved by (alice and bob|bob and alice)/);
    expect(runbook.calls).toHaveLength(1);
    expect((await fetch(`${world.tacit.url}/readyz`)).status).toBe(200);
  });
});
