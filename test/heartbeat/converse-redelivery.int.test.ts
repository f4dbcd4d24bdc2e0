// A mention's answer job run again (its process died after the work but before BullMQ heard it was
// done, and another process picked the stalled job up) asks for nothing twice.
import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvals, events, playgroundMessages } from '../../src/db/schema.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { api } from '../actions/support.js';
import { channelMessages, fixture, say } from '../support/playground.js';
import { post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe.each([{ embedded: false }, { embedded: true }])('a redelivered "@tacit silence this" (embedded: $embedded)', ({ embedded }) => {
  let tacit: TestTacit;
  let alertmanager: FakeAlertmanager;

  beforeAll(async () => {
    alertmanager = await startFakeAlertmanager();
    tacit = await startTestTacit({ embedded, env: { TACIT_SECRET_KEY: 'converse-redelivery-secret-key-0123456789' } });
    const put = await api(tacit.url, 'PUT', '/api/workspaces/playground:local/integrations/alertmanager/default', { settings: { url: alertmanager.url } });
    expect(put.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
    await alertmanager?.close();
  });

  it('asks for one approval, however often the answer job runs', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
    const fired = await post(source.url, fixture('alertmanager/firing.json').toString(), { 'content-type': 'application/json', authorization: `Bearer ${source.token}` });
    expect(fired.status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.startsWith('Firing')), { what: 'the card', timeoutMs: 15_000 });
    await say(tacit.url, 'bob', '@tacit silence this for 30m', card.id);
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.author.isBot && m.text.startsWith('I asked for approval')), { what: 'the answer', timeoutMs: 15_000 });
    const db = tacit.database.db;
    const [mention] = await db.select({ id: events.id }).from(events).where(eq(events.kind, 'chat.mention'));
    if (!mention) throw new Error('no mention event');

    // The job again, as BullMQ runs a stalled one in another process.
    await tacit.conversations.answer(mention.id);
    await tacit.conversations.answer(mention.id);

    expect(await db.select({ id: approvals.id }).from(approvals).where(eq(approvals.decisionId, `mention_${mention.id}`))).toHaveLength(1);
    const cards = await db.select({ id: playgroundMessages.id }).from(playgroundMessages).where(and(eq(playgroundMessages.threadId, card.id), like(playgroundMessages.text, 'Approval needed%')));
    expect(cards.length).toBeLessThanOrEqual(1);
    const answers = await db.select({ id: playgroundMessages.id }).from(playgroundMessages).where(and(eq(playgroundMessages.threadId, card.id), like(playgroundMessages.text, 'I asked for approval%')));
    expect(answers).toHaveLength(1);
  });
});
