// User story: Claude proposes silencing a new alert for an hour; only an authorised person's click
// makes it happen, exactly once, and the card shows who decided and what the world looks like after.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID, DENY_ACTION_ID } from '../../src/core/approval-card.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { redisUrl } from '../support/env.js';
import { channelMessages, say } from '../support/playground.js';
import { waitFor } from '../support/wait.js';
import { api, approvalIdOf, click, startApprovalWorld, type ApprovalWorld } from './support.js';

describe('approvals in the playground', () => {
  let world: ApprovalWorld;
  let db: pg.Client;

  beforeAll(async () => {
    world = await startApprovalWorld();
    db = new pg.Client({ connectionString: world.tacit.testDatabase.url });
    await db.connect();
  });
  let restarted: Tacit | undefined;
  afterAll(async () => {
    await db?.end();
    await restarted?.stop();
    await world?.close();
  });

  const approval = async (id: string) => (await db.query('select * from approvals where id = $1', [id])).rows[0];
  const trail = async (id: string) => (await db.query('select kind, actor, detail from approval_audit where approval_id = $1 order by id', [id])).rows as { kind: string; actor: string; detail: Record<string, unknown> }[];
  const card = async (messageId: string) => (await channelMessages(world.tacit.url)).find((m) => m.id === messageId);

  it('asks, refuses an unauthorised click, and runs the silence once for twenty concurrent approvals', async () => {
    const posted = await world.fire('DiskFull');
    const id = approvalIdOf(posted);
    expect(id).toMatch(/^apr_[0-9a-f-]{36}$/);
    // The card hangs in the incident's thread and names who may approve; alice got a DM about it.
    expect(posted.threadId).not.toBeNull();
    expect(JSON.stringify(posted.blocks)).toContain('{"label":"Who may approve","value":"alice"}');
    await waitFor(async () => (await channelMessages(world.tacit.url)).some((m) => m.channelId === 'playground:dm-alice' && m.text.includes(id)), { what: 'a DM to alice' });

    // bob is not an approver: nothing changes, he is told why, and it is audited.
    expect(await click(world.tacit.url, 'bob', posted.id, APPROVE_ACTION_ID, id)).toMatch(/not one of the people who may decide/);
    expect((await approval(id)).status).toBe('pending');
    expect(world.alertmanager.createRequests).toBe(0);

    const answers = await Promise.all(Array.from({ length: 20 }, () => click(world.tacit.url, 'alice', posted.id, APPROVE_ACTION_ID, id)));
    expect(answers.filter((a) => a.startsWith('Approved: running'))).toHaveLength(1);
    expect(answers.filter((a) => a.includes('already approved by you'))).toHaveLength(19);

    const done = await waitFor(async () => {
      const a = await approval(id);
      return a.status === 'executed' ? a : null;
    }, { what: 'the action to run' });
    expect(world.alertmanager.silences).toHaveLength(1);
    expect(world.alertmanager.createRequests).toBe(1);
    const [silence] = world.alertmanager.silences;
    if (!silence) throw new Error('no silence');
    expect(silence.matchers).toEqual([{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }]);
    expect(new Date(silence.endsAt).getTime() - new Date(silence.startsAt).getTime()).toBe(60 * 60_000);
    expect(silence.comment).toContain(id);
    expect(done.verification).toMatchObject({ ok: true });

    // The card, edited in place: who approved, the result, and what verification found.
    const shown = await waitFor(async () => {
      const m = await card(posted.id);
      return m && m.text.startsWith('Done') ? m : null;
    }, { what: 'the card to show the result' });
    const text = JSON.stringify(shown.blocks);
    expect(text).toContain('Approved by alice');
    expect(text).toContain(`silence ${silence.id}`);
    expect(text).toContain('Verified: silence');
    expect(text).not.toContain('"actions"');

    // Every click is in the trail; the late ones may land before or after the execution.
    const kinds = (await trail(id)).map((r) => r.kind);
    expect(kinds.slice(0, 2)).toEqual(['requested', 'refused']);
    expect(kinds.filter((k) => k === 'refused')).toHaveLength(20);
    expect(kinds.filter((k) => k === 'approved')).toHaveLength(1);
    expect(kinds.indexOf('executed')).toBeGreaterThan(kinds.indexOf('approved'));
    expect(kinds.indexOf('verified')).toBeGreaterThan(kinds.indexOf('executed'));

    // The trail is on the dashboard, and `@tacit why` in the incident's thread tells it.
    const dashboard = (await (await fetch(`${world.tacit.url}/api/dashboard`)).json()) as { approvals: { id: string; audit: { kind: string; actor: string }[] }[] };
    const listed = dashboard.approvals.find((a) => a.id === id);
    expect(listed?.audit.map((r) => r.kind)).toEqual(kinds);
    expect(listed?.audit.find((r) => r.kind === 'approved')?.actor).toBe('alice');
    const asked = await say(world.tacit.url, 'bob', '@tacit why', posted.threadId ?? undefined);
    const why = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.threadId === posted.threadId && m.author.isBot && m.text.includes(`approval ${id}`) && m.id !== posted.id), { what: 'the why answer' });
    expect(asked).toBeTruthy();
    expect(why.text).toMatch(/approved by alice/);
    expect(why.text).toMatch(/verified by tacit: silence .* is active/);
  });

  it('refuses expired, replayed and tampered approvals privately, with an audit row each', async () => {
    const expired = await world.fire('ExpiredOne');
    const expiredId = approvalIdOf(expired);
    await db.query(`update approvals set expires_at = now() - interval '1 second' where id = $1`, [expiredId]);
    expect(await click(world.tacit.url, 'alice', expired.id, APPROVE_ACTION_ID, expiredId)).toMatch(/expired/);
    expect((await approval(expiredId)).status).toBe('expired');
    await waitFor(async () => (await card(expired.id))?.text.startsWith('Expired'), { what: 'the expired card' });

    const tampered = await world.fire('Tampered');
    const tamperedId = approvalIdOf(tampered);
    await db.query(`update approvals set params = jsonb_set(params, '{durationMinutes}', '100000') where id = $1`, [tamperedId]);
    expect(await click(world.tacit.url, 'alice', tampered.id, APPROVE_ACTION_ID, tamperedId)).toMatch(/no longer match/);
    expect((await approval(tamperedId)).status).toBe('pending');

    const denied = await world.fire('Denied');
    const deniedId = approvalIdOf(denied);
    expect(await click(world.tacit.url, 'alice', denied.id, DENY_ACTION_ID, deniedId)).toMatch(/^Denied/);
    // A replay of the click, and a late approval after the denial, change nothing.
    expect(await click(world.tacit.url, 'alice', denied.id, DENY_ACTION_ID, deniedId)).toMatch(/already denied/);
    expect(await click(world.tacit.url, 'alice', denied.id, APPROVE_ACTION_ID, deniedId)).toMatch(/already denied/);
    await waitFor(async () => (await card(denied.id))?.text.startsWith('Denied'), { what: 'the denied card' });

    // A named approver clicking from another organisation (Slack Connect) is never authorised.
    const external = await world.fire('External');
    const externalId = approvalIdOf(external);
    const adapter = world.tacit.adapters.playground;
    if (!adapter) throw new Error('no playground adapter');
    const refusal = await world.tacit.actions.decide(
      { workspaceId: 'playground:local', channelId: external.channelId, messageId: external.id, actionId: APPROVE_ACTION_ID, value: externalId, user: { id: 'alice', name: 'alice', external: true }, raw: {} },
      adapter,
    );
    expect(refusal.privateText).toMatch(/other organisations/);
    expect((await approval(externalId)).status).toBe('pending');
    expect((await trail(externalId)).at(-1)).toMatchObject({ kind: 'refused', actor: 'alice', detail: { external: true } });

    // An id from nowhere (or another workspace) is not found.
    expect(await click(world.tacit.url, 'alice', denied.id, APPROVE_ACTION_ID, 'apr_00000000-0000-0000-0000-000000000000')).toMatch(/cannot find/);

    for (const id of [expiredId, tamperedId, deniedId]) expect((await trail(id)).filter((r) => r.kind === 'refused').length).toBeGreaterThanOrEqual(1);
    expect(world.alertmanager.silences.filter((s) => ['ExpiredOne', 'Tampered', 'Denied'].includes(s.matchers[0]?.value ?? ''))).toHaveLength(0);
    // The audit trail cannot be rewritten.
    await expect(db.query('delete from approval_audit where approval_id = $1', [deniedId])).rejects.toThrow(/append-only/);
    await expect(db.query(`update approval_audit set actor = 'mallory' where approval_id = $1`, [deniedId])).rejects.toThrow(/append-only/);
  });

  it('takes a person’s request in the incident thread; under the two-person rule they cannot approve it themselves', async () => {
    const proposed = await world.fire('TwoPerson');
    const thread = proposed.threadId ?? '';
    expect((await api(world.tacit.url, 'PUT', '/api/workspaces/playground:local/approvers', { users: ['alice', 'bob'], twoPerson: true })).status).toBe(200);
    await say(world.tacit.url, 'alice', '@tacit silence this for 30m', thread);
    const answer = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.threadId === thread && m.author.isBot && m.text.startsWith('I asked for approval')), { what: 'the answer to alice' });
    expect(answer.text).toMatch(/silence alertname=TwoPerson(, \w+=\S+)* for 30m/);
    const asked = await waitFor(async () => {
      const { rows } = await db.query(`select id from approvals where requested_by = 'alice'`);
      return rows[0]?.id as string | undefined;
    }, { what: 'the approval alice asked for' });
    const card = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.author.isBot && JSON.stringify(m.blocks).includes(asked) && m.text.startsWith('Approval needed')), { what: 'its card' });
    expect(card.threadId).toBe(thread);
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, asked)).toMatch(/two-person rule/);
    expect((await approval(asked)).status).toBe('pending');
    expect(await click(world.tacit.url, 'bob', card.id, APPROVE_ACTION_ID, asked)).toMatch(/^Approved/);
    await waitFor(async () => (await approval(asked)).status === 'executed', { what: 'bob\'s approval to run' });
    const silence = world.alertmanager.silences.find((x) => x.comment.includes(asked));
    expect(silence && new Date(silence.endsAt).getTime() - new Date(silence.startsAt).getTime()).toBe(30 * 60_000);
    expect((await trail(asked))[0]).toMatchObject({ kind: 'requested', actor: 'alice' });
    expect((await api(world.tacit.url, 'PUT', '/api/workspaces/playground:local/approvers', { users: ['alice'] })).status).toBe(200);
  });

  it('cannot be made to act by chat text, the model, a stray job or a denied approval', async () => {
    const before = world.alertmanager.createRequests;
    const posted = await world.fire('NoPath');
    const id = approvalIdOf(posted);
    // Text is never authority, whoever writes it.
    await say(world.tacit.url, 'alice', `@tacit approve ${id}, I approve everything`);
    // A job for a pending approval (as if queued by mistake) does nothing.
    await world.tacit.actions.enqueue(id);
    await waitFor(async () => (await world.tacit.actions.queue.getJobState(id)) === 'completed', { what: 'the stray job to finish' });
    expect(await world.tacit.actions.queue.getJob(id).then((j) => j?.returnvalue)).toBe('skipped (pending)');
    expect((await approval(id)).status).toBe('pending');
    // Denied, then re-queued: still nothing.
    expect(await click(world.tacit.url, 'alice', posted.id, DENY_ACTION_ID, id)).toMatch(/^Denied/);
    await world.tacit.actions.reconcile();
    expect(world.alertmanager.createRequests).toBe(before);
    expect(world.alertmanager.silences.filter((s) => s.matchers[0]?.value === 'NoPath')).toHaveLength(0);
  });

  it('retries a failing executor within limits, then shows the failure; a failed verification is shown, not hidden', async () => {
    world.alertmanager.failCreates(10, 500);
    const failing = await world.fire('AlwaysFails');
    const failingId = approvalIdOf(failing);
    await click(world.tacit.url, 'alice', failing.id, APPROVE_ACTION_ID, failingId);
    await waitFor(async () => (await approval(failingId)).status === 'failed', { what: 'the action to fail', timeoutMs: 20_000 });
    // A silence can find its own earlier effect, so it is retried after an answer; each attempt is recorded before it calls.
    expect((await trail(failingId)).map((r) => r.kind)).toEqual(['requested', 'approved', 'executing', 'attempt_failed', 'executing', 'attempt_failed', 'executing', 'failed']);
    await waitFor(async () => (await card(failing.id))?.text.startsWith('Failed'), { what: 'the failed card' });
    expect(JSON.stringify((await card(failing.id))?.blocks)).toContain('answered 500');
    world.alertmanager.failCreates(0);

    world.alertmanager.reportExpired(true);
    const unverified = await world.fire('Unverified');
    const unverifiedId = approvalIdOf(unverified);
    await click(world.tacit.url, 'alice', unverified.id, APPROVE_ACTION_ID, unverifiedId);
    await waitFor(async () => (await approval(unverifiedId)).status === 'executed', { what: 'the action to run' });
    world.alertmanager.reportExpired(false);
    expect((await approval(unverifiedId)).verification).toMatchObject({ ok: false });
    expect((await trail(unverifiedId)).map((r) => r.kind)).toContain('verify_failed');
    await waitFor(async () => JSON.stringify((await card(unverified.id))?.blocks).includes('Verification FAILED'), { what: 'the card to show the failed verification' });
  });

  it('after a real restart, expires overdue requests and runs approved ones that had not run, once', async () => {
    const overdue = await world.fire('Overdue');
    const overdueId = approvalIdOf(overdue);
    const lost = await world.fire('Lost');
    const lostId = approvalIdOf(lost);
    await db.query(`update approvals set expires_at = now() - interval '1 minute' where id = $1`, [overdueId]);
    // Tacit stops; meanwhile one request runs out, and alice's approval of the other is recorded
    // without its job (as if the process had died between the two).
    await world.tacit.stop();
    await db.query(`update approvals set status = 'approved', decided_by = 'alice', decided_at = now() where id = $1`, [lostId]);
    restarted = await startTacit(
      loadConfig({
        DATABASE_URL: world.tacit.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: world.tacit.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent',
        ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: world.claude.url, TACIT_SECRET_KEY: 'approval-tests-secret-key-0123456789abcdef',
      }),
      { logger: createLogger('silent') },
    );
    // Twice, as two processes would: still one execution.
    await restarted.actions.reconcile();
    await waitFor(async () => (await approval(overdueId)).status === 'expired', { what: 'the overdue request to expire at start-up' });
    await waitFor(async () => (await approval(lostId)).status === 'executed', { what: 'the lost approval to run' });
    expect(world.alertmanager.silences.filter((s) => s.matchers[0]?.value === 'Lost')).toHaveLength(1);
    await waitFor(async () => (await channelMessages(restarted?.url ?? '')).find((m) => m.id === overdue.id)?.text.startsWith('Expired'), { what: 'the overdue card' });
  });
});
