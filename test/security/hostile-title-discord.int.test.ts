// An alert titled to abuse Discord — `Disk full @everyone <@123> [open the runbook](https://evil.example)`
// — goes through every surface Tacit writes on: the incident card (posted and edited), its thread's
// name and posts, a mention's answer, the approval card and the approvers' DMs, the `/tacit status`
// answer, a click's private answer, the Deny form and its answer, and a DM's answer. Nowhere does it
// ping anyone, link in disguise, or reach Discord without `allowed_mentions: { parse: [] }`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonsOf, visibleText } from '../fakes/discord.js';
import { ALICE, BOB, CHANNEL, startDiscordWorld, type DiscordWorld } from '../support/discord-world.js';
import { waitFor } from '../support/wait.js';

const HOSTILE = 'Disk full @everyone <@123> [open the runbook](https://evil.example)';
/** What would ping or disguise a link if Discord rendered it: a broadcast, a user mention, a masked link. */
const LIVE = [/@everyone/, /@here/, /<@!?\d+>/, /(?<!\\)\]\(https?:\/\/evil/];

describe('a hostile alert title on every Discord surface', () => {
  let world: DiscordWorld;

  beforeAll(async () => {
    world = await startDiscordWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('is shown as text everywhere and pings nobody', async () => {
    const { discord } = world;
    const card = await world.fire('HostileTitle', HOSTILE);
    await waitFor(() => discord.posts.find((p) => p.message.channel_id === card.message.id), { what: 'the summary in the thread' });

    // A mention in the thread, answered there.
    discord.say(card.message.id, BOB, `<@${discord.botUser.id}> what is going on?`);
    await waitFor(() => discord.posts.filter((p) => p.message.channel_id === card.message.id).length >= 2, { what: 'the answer to the mention' });

    // The approval card, the approvers' DMs, the Deny form and the answer to its reason.
    const approval = await world.requestSilence(card, ALICE);
    await waitFor(() => discord.dms.length > 0 && discord.posts.some((p) => discord.dms.some((d) => d.id === p.message.channel_id)), { what: 'an approver DM' });
    const deny = buttonsOf(approval.body).find((b) => b.label === 'Deny')?.custom_id ?? '';
    const press = discord.click(card.message.id, approval.message.id, deny, BOB);
    const modal = await waitFor(() => discord.callbacks.find((c) => c.interactionId === press.id && c.type === 9), { what: 'the Deny form' });
    const submit = discord.submitModal(card.message.id, approval.message.id, String(modal.data?.custom_id), BOB, { reason: HOSTILE });
    await waitFor(() => discord.followups.find((f) => f.token === submit.token), { what: 'the answer to the reason' });
    await waitFor(() => discord.edits.find((e) => e.messageId === approval.message.id && visibleText(e.body).includes('Denied by')), { what: 'the denied card' });

    // A click's private answer and the card's edit.
    const ack = buttonsOf(card.body).find((b) => b.label === 'Acknowledge')?.custom_id ?? '';
    const click = discord.click(CHANNEL, card.message.id, ack, BOB);
    await waitFor(() => discord.followups.find((f) => f.token === click.token), { what: 'the answer to Acknowledge' });
    await waitFor(() => discord.edits.find((e) => e.messageId === card.message.id && visibleText(e.body).includes('Acknowledged')), { what: 'the acknowledged card' });

    // `/tacit status`, and a question in a DM.
    const status = await world.command(BOB, 'status');
    expect(status).toContain('Disk full');
    const dm = discord.openDm(BOB);
    discord.say(dm, BOB, 'which incidents are open?');
    await waitFor(() => discord.posts.find((p) => p.message.channel_id === dm && p.message.author.id === discord.botUser.id), { what: 'the answer in the DM' });

    // Every body Tacit sent: the title was there, and nothing in it is live.
    const sent = [
      ...discord.posts.map((p) => ({ where: `post in ${p.message.channel_id}`, body: p.body })),
      ...discord.edits.map((e) => ({ where: `edit of ${e.messageId}`, body: e.body })),
      ...discord.followups.map((f) => ({ where: 'private answer', body: f.body })),
      ...discord.originals.map((o) => ({ where: 'command answer', body: o.body })),
    ];
    expect(sent.length).toBeGreaterThan(10);
    const carrying = sent.filter((s) => visibleText(s.body).includes('Disk full'));
    expect(new Set(carrying.map((s) => s.where.split(' ')[0]))).toEqual(new Set(['post', 'edit', 'private', 'command']));
    for (const s of sent) {
      const text = visibleText(s.body);
      for (const live of LIVE) expect(text, `${s.where}: ${text}`).not.toMatch(live);
      expect((s.body.allowed_mentions as { parse?: unknown } | undefined)?.parse, s.where).toEqual([]);
    }
    // The form is plain text (no markdown): it carries no data at all.
    for (const c of discord.callbacks.filter((x) => x.type === 9)) expect(JSON.stringify(c.data)).not.toContain('Disk full');
    // Thread names: the title's words only.
    const thread = discord.threads.find((t) => t.id === card.message.id);
    expect(thread?.name).toBe('Disk full open the runbook');
    for (const t of discord.threads) expect(t.name).not.toMatch(/[@<>[\]]|https?:/);
  }, 90_000);
});
