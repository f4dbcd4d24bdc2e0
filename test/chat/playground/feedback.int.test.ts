// Feedback buttons on the playground, on the embedded database (PGlite, one connection): the summary
// in an incident's thread carries "Helpful" / "Not helpful"; a click is recorded once per person.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedback } from '../../../src/db/schema.js';
import { channelMessages, fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

interface WireButton { actionId: string; value: string; label: string }

describe('playground: feedback on a summary, embedded database', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true, env: { TACIT_PLAYGROUND: 'on' } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
  });

  const click = async (userId: string, messageId: string, b: WireButton) => {
    const res = await fetch(`${tacit.url}/playground/api/actions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, messageId, actionId: b.actionId, value: b.value }),
    });
    return ((await res.json()) as { privateText?: string }).privateText ?? '';
  };

  it('records a verdict per person and decision', async () => {
    const source = tacit.playgroundSource;
    expect((await postAlert(tacit.url, source?.id ?? '', source?.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const summary = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId && JSON.stringify(m.blocks).includes('"actionId":"feedback"')), { what: 'the summary with feedback buttons' });
    const buttons = (summary.blocks as { kind: string; buttons?: WireButton[] }[]).find((b) => b.kind === 'actions')?.buttons ?? [];
    expect(buttons.map((b) => b.label)).toEqual(['Helpful', 'Not helpful']);
    const [helpful, notHelpful] = buttons as [WireButton, WireButton];
    expect(await click('bob', summary.id, helpful)).toMatch(/helped/);
    expect(await click('alice', summary.id, notHelpful)).toMatch(/did not help/);
    expect(await click('bob', summary.id, notHelpful)).toMatch(/did not help/);
    const decisionId = helpful.value.split(':')[1] ?? '';
    const rows = await tacit.database.db.select().from(feedback).where(eq(feedback.decisionId, decisionId));
    expect(rows.map((r) => `${r.person}:${r.verdict}`).sort()).toEqual(['alice:not_helpful', 'bob:not_helpful']);
  });
});
