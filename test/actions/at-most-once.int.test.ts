// At most once for every action: a runbook that answers 502 after doing its work runs once (one
// declared idempotent is retried, with the same Idempotency-Key); a request that never left is
// retried; an attempt interrupted mid-call is not repeated; and two processes racing on one approval
// (as when BullMQ redelivers a stalled job) execute it once, under the execution lease.
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { redisUrl } from '../support/env.js';
import { channelMessages } from '../support/playground.js';
import { waitFor } from '../support/wait.js';
import { startRunbookServer, type RunbookServer } from './runbook-server.js';
import { api, approvalIdOf, click, startApprovalWorld, WS, type ApprovalWorld } from './support.js';

const SECRET = 'approval-tests-secret-key-0123456789abcdef';

/** A port nothing listens on: a connection there is refused before any request is sent. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('actions run at most once', () => {
  let world: ApprovalWorld;
  let once: RunbookServer;
  let idem: RunbookServer;
  let slow: RunbookServer;
  let second: Tacit | undefined;
  let db: pg.Client;
  const runbooks: Record<string, string> = { Once: 'deploy-once', Idem: 'flush-cache', Slow: 'slow-once', Gone: 'unreachable' };

  beforeAll(async () => {
    [once, idem, slow] = await Promise.all([startRunbookServer(), startRunbookServer(), startRunbookServer()]);
    world = await startApprovalWorld({
      propose: (alertname) => {
        const name = Object.entries(runbooks).find(([prefix]) => alertname.startsWith(prefix))?.[1] ?? 'deploy-once';
        return { action: `runbook.${name}`, params: { service: alertname } };
      },
    });
    const gone = await closedPort();
    const put = (name: string, url: string, idempotent = false) => api(world.tacit.url, 'PUT', `/api/workspaces/${WS}/integrations/runbook/${name}`, {
      settings: { description: `Runbook ${name}.`, url, params: ['service'], bodyTemplate: '{"service":"{{service}}"}', idempotent },
    });
    for (const res of await Promise.all([
      put('deploy-once', `${once.url}/deploy`), put('flush-cache', `${idem.url}/flush`, true), put('slow-once', `${slow.url}/slow`), put('unreachable', `http://127.0.0.1:${gone}/x`),
    ])) expect(res.status).toBe(200);
    db = new pg.Client({ connectionString: world.tacit.testDatabase.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await second?.stop();
    await world?.close();
    await Promise.all([once?.close(), idem?.close(), slow?.close()]);
  });

  const approval = async (id: string) => (await db.query('select * from approvals where id = $1', [id])).rows[0];
  const kinds = async (id: string) => ((await db.query('select kind from approval_audit where approval_id = $1 order by id', [id])).rows as { kind: string }[]).map((r) => r.kind);
  const settled = (id: string) => waitFor(async () => {
    const a = await approval(id);
    return a.status === 'executed' || a.status === 'failed' ? a : null;
  }, { what: `approval ${id} to finish`, timeoutMs: 15_000 });

  it('runs a runbook that answers 502 after doing its work exactly once, with the approval id as Idempotency-Key', async () => {
    once.answer([], 502);
    const card = await world.fire('OnceDeploy');
    const id = approvalIdOf(card);
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id)).toMatch(/^Approved/);
    const done = await settled(id);
    expect(done.status).toBe('failed');
    expect(once.calls).toHaveLength(1);
    expect(once.calls[0]?.headers['idempotency-key']).toBe(id);
    await waitFor(async () => (await world.tacit.actions.queue.getJobState(id)) === 'failed', { what: 'the job to fail for good' });
    expect(await kinds(id)).toEqual(['requested', 'approved', 'executing', 'failed']);
    const shown = await waitFor(async () => (await channelMessages(world.tacit.url)).find((m) => m.id === card.id && m.text.startsWith('Failed')), { what: 'the failed card' });
    expect(JSON.stringify(shown.blocks)).toMatch(/answered 502.*not retried: the service answered/);
    // Later sweeps (restart reconcile) do not bring it back.
    await world.tacit.actions.reconcile();
    expect(once.calls).toHaveLength(1);
  });

  it('retries a runbook declared idempotent after 502s, each time with the same Idempotency-Key', async () => {
    idem.answer([502, 502], 200);
    const card = await world.fire('IdemFlush');
    const id = approvalIdOf(card);
    await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id);
    const done = await settled(id);
    expect(done.status).toBe('executed');
    expect(done.verification).toMatchObject({ ok: true });
    expect(idem.calls.map((c) => c.headers['idempotency-key'])).toEqual([id, id, id]);
  });

  it('retries a request that never left (connection refused), and says so in the trail', async () => {
    const card = await world.fire('GoneAway');
    const id = approvalIdOf(card);
    await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id);
    const done = await settled(id);
    expect(done.status).toBe('failed');
    const trail = (await db.query(`select kind, detail from approval_audit where approval_id = $1 and kind = 'attempt_failed' order by id`, [id])).rows as { detail: { notSent: boolean } }[];
    expect(trail.map((r) => r.detail.notSent)).toEqual([true, true]);
    expect(await kinds(id)).toEqual(['requested', 'approved', 'executing', 'attempt_failed', 'executing', 'attempt_failed', 'executing', 'failed']);
  });

  it('does not call a runbook again after an attempt that was interrupted mid-call; an idempotent one runs', async () => {
    const interrupted = async (alertname: string) => {
      const card = await world.fire(alertname);
      const id = approvalIdOf(card);
      // As if alice approved and the process died while the runbook was being called.
      await db.query(`update approvals set status = 'approved', decided_by = 'alice', decided_at = now() where id = $1`, [id]);
      await db.query(`insert into approval_audit (approval_id, workspace_id, kind, actor, detail) values ($1, $2, 'executing', 'tacit', '{"attempt":1}')`, [id, WS]);
      await world.tacit.actions.enqueue(id);
      return settled(id);
    };
    const before = once.calls.length;
    const notAgain = await interrupted('OnceInterrupted');
    expect(notAgain.status).toBe('failed');
    expect((notAgain.result as { summary: string }).summary).toMatch(/interrupted.*not run again/);
    expect(once.calls.length).toBe(before);

    idem.answer([], 200);
    const idemBefore = idem.calls.length;
    expect((await interrupted('IdemInterrupted')).status).toBe('executed');
    expect(idem.calls.length - idemBefore).toBe(1);
  });

  it('executes once when two processes race on one approval (a redelivered job, a second worker)', async () => {
    second = await startTacit(
      loadConfig({
        DATABASE_URL: world.tacit.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: world.tacit.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent',
        ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: world.claude.url, TACIT_SECRET_KEY: SECRET,
      }),
      { logger: createLogger('silent') },
    );
    slow.delay(800);
    const card = await world.fire('SlowRestart');
    const id = approvalIdOf(card);
    // The click's job, and two direct runs from both processes, at the same moment.
    const [answer, ...runs] = await Promise.all([
      click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id),
      waitFor(async () => (await approval(id)).status === 'approved', { what: 'the approval', intervalMs: 5 }).then(() => Promise.all([second?.actions.run(id), world.tacit.actions.run(id)])),
    ]);
    expect(answer).toMatch(/^Approved/);
    expect((await settled(id)).status).toBe('executed');
    await waitFor(async () => (await world.tacit.actions.queue.getJobState(id)) === 'completed', { what: 'the job to finish (it may have waited for the lease)' });
    expect(slow.calls).toHaveLength(1);
    // Whoever came second found the lease taken while the runbook was still answering.
    expect(runs.flat()).toContain('busy');
    expect(runs.flat().every((r) => r === 'busy' || r === 'executed' || r === 'skipped (executed)')).toBe(true);
    // A stalled job redelivered afterwards finds it done.
    expect(await second.actions.run(id)).toBe('skipped (executed)');
    expect(slow.calls).toHaveLength(1);
    expect((await kinds(id)).filter((k) => k === 'executing')).toHaveLength(1);
  });
});
