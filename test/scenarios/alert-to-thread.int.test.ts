// User story: an alert fires; the on-call sees an incident card with a summary in its thread; the
// alert resolves and the same card is edited in place; someone asks @tacit for the status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, channelMessages, fixture, postAlert, say } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('an Alertmanager alert becomes an incident thread in the playground', () => {
  let tacit: TestTacit;
  let source: { id: string; token: string };

  beforeAll(async () => {
    tacit = await startTestTacit();
    if (!tacit.playgroundSource) throw new Error('playground source missing');
    source = tacit.playgroundSource;
  });
  afterAll(() => tacit?.cleanup());

  it('posts a parent card with a summary in its thread, then edits the card when the alert resolves', async () => {
    const fired = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'));
    expect(fired.status).toBe(200);
    expect(await fired.json()).toMatchObject({ status: 'accepted', inserted: 1 });

    const { parent, summary } = await waitFor(
      async () => {
        const messages = await channelMessages(tacit.url);
        const parent = messages.find((m) => !m.threadId && m.author.isBot);
        const summary = parent && messages.find((m) => m.threadId === parent.id);
        return parent && summary ? { parent, summary } : undefined;
      },
      { what: 'incident card and thread summary', timeoutMs: 8_000 },
    );
    expect(parent.text).toContain('Firing');
    expect(parent.text).toContain('Pod is crash looping.');
    expect(blockTexts(parent)).toContain('Acknowledge');
    expect(summary.text).toContain('is firing (critical)');
    expect(summary.text).toContain('runbooks.prometheus-operator.dev');
    expect(blockTexts(summary)).toMatch(/decision dec_/);

    const resolved = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/resolved.json'));
    expect(resolved.status).toBe(200);

    const edited = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.id === parent.id && m.editedAt !== null),
      { what: 'the parent card to be edited', timeoutMs: 8_000 },
    );
    expect(edited.text).toContain('Resolved');
    expect(blockTexts(edited)).not.toContain('Acknowledge');
    const note = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.threadId === parent.id && m.text.startsWith('Resolved')),
      { what: 'a resolution note in the thread' },
    );
    expect(note.text).toContain('after 28 min'); // 09:14:05 → 09:41:35

    const all = await channelMessages(tacit.url);
    expect(all.filter((m) => !m.threadId && m.author.isBot)).toHaveLength(1); // edited, not re-posted
  });

  it('stores a repeated delivery of the same alert once and posts nothing new', async () => {
    const before = await channelMessages(tacit.url);
    const again = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/resolved.json'));
    expect(await again.json()).toMatchObject({ status: 'accepted', inserted: 0, duplicates: 1 });
    // Give a few ticks the chance to (wrongly) post something.
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'three more ticks' });
    expect(await channelMessages(tacit.url)).toHaveLength(before.length);
  });

  it('answers a mention in the thread it was asked in', async () => {
    const asked = await say(tacit.url, 'bob', '@tacit status?');
    const reply = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.threadId === asked && m.author.isBot),
      { what: 'a reply to the mention' },
    );
    expect(reply.text).toMatch(/no open incidents|open incident/);
    expect(reply.text).toContain('alertmanager → #incidents');
  });

  it('does not answer or wake on ordinary channel chatter', async () => {
    const said = await say(tacit.url, 'alice', 'deploying the fix now');
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'three more ticks' });
    const messages = await channelMessages(tacit.url);
    expect(messages.find((m) => m.threadId === said)).toBeUndefined();
  });
});
