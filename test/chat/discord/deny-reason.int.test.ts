// Deny asks why, on Discord: pressing Deny on an approval card opens a modal (nothing is decided
// yet); submitting it denies, and the reason is the decision note, in the audit trail and on the card,
// which is a Components V2 container edited in place. A new thread is started before anything is
// posted into it, so no post fails first, and it is named after the incident's title.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalAudit, approvals } from '../../../src/db/schema.js';
import { buttonsOf, visibleText } from '../../fakes/discord.js';
import { ALICE, BOB, CHANNEL, startDiscordWorld, type DiscordWorld } from '../../support/discord-world.js';
import { waitFor } from '../../support/wait.js';

for (const embedded of [false, true]) describe(`Deny with a reason on Discord (${embedded ? 'PGlite' : 'PostgreSQL'})`, () => {
  let world: DiscordWorld;

  beforeAll(async () => {
    world = await startDiscordWorld({ embedded });
  });
  afterAll(async () => {
    await world?.close();
  });
  const approval = async (id: string) => (await world.tacit.database.db.select().from(approvals).where(eq(approvals.id, id)))[0];

  it('opens a modal on Deny, denies with the reason, and shows it on the card and in the audit', async () => {
    const { discord } = world;
    const card = await world.fire('DiskFullDeny', 'Disk full on db-1');
    const approvalCard = await world.requestSilence(card, ALICE);
    expect(approvalCard.body.flags).toBe(1 << 15);
    const deny = buttonsOf(approvalCard.body).find((b) => b.label === 'Deny');
    expect(deny?.custom_id).toMatch(/^approval\.deny:apr_/);
    const approvalId = /apr_[0-9a-f-]+/.exec(deny?.custom_id ?? '')?.[0] ?? '';

    const press = discord.click(card.message.id, approvalCard.message.id, deny?.custom_id ?? '', BOB);
    const modal = await waitFor(() => discord.callbacks.find((c) => c.interactionId === press.id), { what: 'the answer to the Deny press' });
    expect(modal.type).toBe(9);
    expect(modal.data).toMatchObject({ custom_id: `approval_deny_reason:${approvalId}`, title: 'Deny alertmanager.silence' });
    // Only asking: nothing is decided, nothing recorded as denied.
    expect((await approval(approvalId))?.status).toBe('pending');

    const reason = 'Not during the release — ask again after 16:00 *please*';
    const submit = discord.submitModal(card.message.id, approvalCard.message.id, String(modal.data?.custom_id), BOB, { reason });
    const answer = await waitFor(() => discord.followups.find((f) => f.token === submit.token), { what: 'the private answer to the submitted reason' });
    expect(answer.ephemeral).toBe(true);
    expect(String(answer.body.content)).toMatch(/^Denied: alertmanager\.silence will not run\. Your reason is on the card\./);
    expect(discord.callbacks.find((c) => c.interactionId === submit.id)?.type).toBe(6);

    expect(await approval(approvalId)).toMatchObject({ status: 'denied', decidedBy: BOB, decisionNote: reason });
    const trail = await world.tacit.database.db.select().from(approvalAudit).where(and(eq(approvalAudit.approvalId, approvalId), eq(approvalAudit.kind, 'denied')));
    expect(trail).toHaveLength(1);
    expect(trail[0]?.actor).toBe(BOB);
    expect(trail[0]?.detail.reason).toBe(reason);

    // The card is edited in place, still Components V2, with who denied it and why.
    const edit = await waitFor(() => discord.edits.find((e) => e.messageId === approvalCard.message.id && visibleText(e.body).includes('Denied by')), { what: 'the card showing the denial' });
    expect(edit.body.flags).toBe(1 << 15);
    expect(edit.body.content).toBeUndefined();
    const text = visibleText(edit.body);
    expect(text).toMatch(/Denied by \S+ at [^:]+:\d\d[^:]*: Not during the release — ask again after 16:00 \*please\*/);
    expect(buttonsOf(edit.body)).toEqual([]);
    expect(discord.history(card.message.id).filter((m) => m.id === approvalCard.message.id)).toHaveLength(1);
    expect(silenced()).toBe(0);
  });

  it.skipIf(embedded)('starts a new thread before its first post, named after the incident title alone', async () => {
    const { discord } = world;
    const card = await world.fire('QueueBacklog', '**Queue backlog** on orders since 2026-12-01T07:32:10Z');
    await waitFor(() => discord.posts.find((p) => p.message.channel_id === card.message.id), { what: 'the first post in the card thread' });
    const thread = discord.threads.find((t) => t.id === card.message.id);
    expect(thread?.name).toBe('Queue backlog on orders since');
    // Every post into a thread found it there: no 404 Unknown Channel, then create, then post again.
    const failed = discord.requests.filter((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.route) && r.status === 404);
    expect(failed).toEqual([]);
    const posts = discord.requests.filter((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.route));
    expect(posts.length).toBeGreaterThan(2);
    expect(discord.threads.filter((t) => t.parent_id === CHANNEL).every((t) => t.name.length <= 60)).toBe(true);
  }, 60_000);

  const silenced = () => world.alertmanager.silences.length;
});
