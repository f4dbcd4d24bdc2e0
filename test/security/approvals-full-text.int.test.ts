// What an approver approves is what they were shown: a 20,000-character issue body is approvable only
// after its full text was posted as a file in the card's thread (hashed, the hash on the card), and a
// click on a card whose parameters changed afterwards is refused.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramsHash } from '../../src/actions/approvals.js';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { channelMessages } from '../support/playground.js';
import { waitFor } from '../support/wait.js';
import { api, approvalIdOf, buttonValueOf, click, startApprovalWorld, WS, type ApprovalWorld } from '../actions/support.js';

const TOKEN = 'ghp_full_text_test_token_0123456789';
/** 20,000 characters of plain prose over many lines (nothing the redactor would touch). */
const BODY = Array.from({ length: 400 }, (_, i) => `Line ${String(i + 1).padStart(3, '0')}: the checkout service lost its database pool.`)
  .join('\n')
  .padEnd(20_000, '.')
  .slice(0, 20_000);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface FileBlock { kind: 'file'; filename: string; content: string }
const filesIn = (blocks: unknown[]) => blocks.filter((b): b is FileBlock => (b as { kind: string }).kind === 'file');

describe('approval cards show what is approved, in full', () => {
  let world: ApprovalWorld;
  let github: FakeGithub;
  let db: pg.Client;

  beforeAll(async () => {
    github = await startFakeGithub({ owner: 'acme', repo: 'shop', hookId: 7, token: TOKEN });
    world = await startApprovalWorld({
      propose: (alertname) => alertname.startsWith('Long')
        ? { action: 'github.open_issue', reason: 'Write down what happened.', params: { repo: 'acme/shop', title: `Postmortem ${alertname}`, body: BODY } }
        : { action: 'github.open_issue', reason: 'Track it.', params: { repo: 'acme/shop', title: `Follow up ${alertname}`, body: 'short' } },
    });
    expect((await api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/integrations/github/default`, { settings: { apiUrl: github.apiUrl }, secrets: { token: TOKEN } })).status).toBe(200);
    db = new pg.Client({ connectionString: world.tacit.testDatabase.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await world?.close();
    await github?.close();
  });

  const approval = async (id: string) => (await db.query('select * from approvals where id = $1', [id])).rows[0];
  const refusals = async (id: string) => (await db.query(`select detail from approval_audit where approval_id = $1 and kind = 'refused' order by id`, [id])).rows as { detail: { reason: string } }[];

  it('shows a 20,000-character body as a digest with its hash, posts it in full as a file in the thread, and takes the click only after that file was delivered', async () => {
    const card = await world.fire('LongBody');
    const id = approvalIdOf(card);
    const stored = await approval(id);
    const text = JSON.stringify(card.blocks);
    // The card: the parameters' hash (short), bound into the button; the title in full; the body as a digest.
    expect(text).toContain(`sha256 ${String(stored.params_hash).slice(0, 16)}`);
    expect(buttonValueOf(card)).toBe(`${id}:${String(stored.params_hash).slice(0, 16)}`);
    expect(text).toContain('Postmortem LongBody');
    expect(text).toContain('Line 001: the checkout service lost its database pool.');
    expect(text).not.toContain('Line 004:');
    const filename = `approval-${id.slice(4, 12)}-body.txt`;
    expect(text).toContain(`20,000 characters; full text in ${filename}, sha256 ${sha256(BODY).slice(0, 16)}`);
    expect(text).toContain('Risk');

    // The full text, in the same thread, byte for byte.
    const file = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.threadId === card.threadId && filesIn(m.blocks).some((f) => f.filename === filename)), { what: 'the full text file in the thread' });
    const [shown] = filesIn(file.blocks);
    expect(shown?.content).toBe(BODY);
    expect(file.text).toContain(sha256(BODY));

    // As if the process died between posting the card and queueing the file: the click is refused,
    // and it queues the file itself.
    await db.query(`delete from outbox where workspace_id = $1 and idempotency_key = $2`, [WS, `approval:${id}:file:body`]);
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, buttonValueOf(card))).toMatch(/full text is still being posted/);
    expect((await approval(id)).status).toBe('pending');
    expect(github.issues).toHaveLength(0);
    await waitFor(async () => (await db.query(`select 1 from outbox where idempotency_key = $1 and status = 'sent'`, [`approval:${id}:file:body`])).rowCount === 1, { what: 'the file delivered again' });

    // Shown in full now: approvable, and the issue carries every character.
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, buttonValueOf(card))).toMatch(/^Approved/);
    await waitFor(async () => (await approval(id)).status === 'executed', { what: 'the issue to be opened' });
    expect(github.issues).toHaveLength(1);
    expect(github.issues[0]?.body.startsWith(BODY)).toBe(true);
    expect((await refusals(id)).map((r) => r.detail.reason)).toEqual([expect.stringMatching(/still being posted/)]);
  });

  it('refuses the click when a parameter changed after the card was posted, even with a matching stored hash', async () => {
    const card = await world.fire('Changed');
    const id = approvalIdOf(card);
    const shownValue = buttonValueOf(card);
    // Someone rewrites the request and its hash consistently, so the row itself looks intact.
    const row = await approval(id);
    const params = { ...row.params, title: 'Delete the production database' };
    await db.query('update approvals set params = $2, params_hash = $3 where id = $1', [id, JSON.stringify(params), paramsHash(WS, row.action, params)]);

    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, shownValue)).toMatch(/parameters changed after this card was posted/);
    // A click with no hash at all (a hand-made request) binds to nothing: refused too.
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, `${id}:`)).toMatch(/parameters changed after this card was posted/);
    expect((await approval(id)).status).toBe('pending');
    expect((await refusals(id))).toHaveLength(2);
    expect(github.issues.filter((i) => i.title.includes('production'))).toHaveLength(0);
  });
});
