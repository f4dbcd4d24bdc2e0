// Memory follows the world, not the intent: what Claude wanted to remember about an action becomes
// active only when the action ran and its verification passed; a failed action leaves nothing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID, DENY_ACTION_ID } from '../../src/core/approval-card.js';
import { waitFor } from '../support/wait.js';
import { approvalIdOf, click, startApprovalWorld, type ApprovalWorld } from './support.js';

describe('memories tied to actions', () => {
  let world: ApprovalWorld;
  let db: pg.Client;
  beforeAll(async () => {
    world = await startApprovalWorld();
    db = new pg.Client({ connectionString: world.tacit.testDatabase.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await world?.close();
  });

  const memoriesAbout = async (alertname: string) =>
    (await db.query(`select status, pending_on from memories where topic = $1`, [`silence ${alertname}`])).rows as { status: string; pending_on: { kind: string; id: string } | null }[];
  const status = async (id: string) => (await db.query('select status from approvals where id = $1', [id])).rows[0]?.status as string;

  it('activates the memory of a silence that ran and verified', async () => {
    const card = await world.fire('MemOk');
    const id = approvalIdOf(card);
    const staged = await waitFor(async () => (await memoriesAbout('MemOk'))[0], { what: 'the staged memory' });
    expect(staged).toMatchObject({ status: 'staged', pending_on: { kind: 'approval', id } });
    await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id);
    await waitFor(async () => (await memoriesAbout('MemOk'))[0]?.status === 'active', { what: 'the memory to become active' });
  });

  it('keeps nothing when the action failed, or was denied', async () => {
    world.alertmanager.failCreates(10, 500);
    const failing = await world.fire('MemFails');
    const failingId = approvalIdOf(failing);
    await waitFor(async () => (await memoriesAbout('MemFails')).length === 1, { what: 'the staged memory' });
    await click(world.tacit.url, 'alice', failing.id, APPROVE_ACTION_ID, failingId);
    await waitFor(async () => (await status(failingId)) === 'failed', { what: 'the action to fail', timeoutMs: 20_000 });
    await waitFor(async () => (await memoriesAbout('MemFails')).every((m) => m.status !== 'staged'), { what: 'the staged memory to be dropped' });
    expect((await memoriesAbout('MemFails')).filter((m) => m.status === 'active')).toHaveLength(0);
    world.alertmanager.failCreates(0);

    const denied = await world.fire('MemDenied');
    const deniedId = approvalIdOf(denied);
    await waitFor(async () => (await memoriesAbout('MemDenied')).length === 1, { what: 'the staged memory' });
    await click(world.tacit.url, 'alice', denied.id, DENY_ACTION_ID, deniedId);
    await waitFor(async () => (await memoriesAbout('MemDenied')).every((m) => m.status !== 'staged'), { what: 'the staged memory to be dropped' });
    expect((await memoriesAbout('MemDenied')).filter((m) => m.status === 'active')).toHaveLength(0);
  });
});
