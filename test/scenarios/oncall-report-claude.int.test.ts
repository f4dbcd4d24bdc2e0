// User story, with Claude configured (the strict stand-in): an incident resolves and its
// post-incident draft in the thread is Claude's, written through its tool and rendered by Tacit,
// with no refused request; the timeline beside it is Tacit's own.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents } from '../../src/db/schema.js';
import { startFakeAnthropic, type FakeAnthropic, type FakeRequest, type FakeResponse } from '../fakes/anthropic.js';
import { isTriage, toolNames } from '../support/claude-model.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

function model(req: FakeRequest): FakeResponse | undefined {
  if (toolNames(req).includes('write_post_incident_draft')) {
    return {
      content: [{
        type: 'tool_use', name: 'write_post_incident_draft',
        input: { summary: 'The payments API pod crash-looped and recovered.', impact: 'About 27 minutes of failed requests.', what_helped: ['The runbook.'], open_questions: ['Which change caused the crash loop?'] },
      }],
    };
  }
  if (isTriage(req)) return { content: [{ type: 'tool_use', name: 'triage', input: { worth_it: true, reason: 'incident news' } }] };
  const prompt = JSON.stringify(req.messages[0]);
  const incidentId = /(inc_[0-9a-f-]{36}) (opened|resolved)/.exec(prompt)?.[1];
  if (!incidentId || req.messages.length > 1 || !toolNames(req).includes('post_summary')) return { content: [{ type: 'tool_use', name: 'stay_quiet', input: { reason: 'nothing to add' } }] };
  return { content: [{ type: 'tool_use', name: 'post_summary', input: { incidentId, text: 'Summary by Claude.' } }] };
}

describe('the post-incident draft when Claude is configured', () => {
  let fake: FakeAnthropic;
  let tacit: TestTacit;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.script(model);
    tacit = await startTestTacit({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await fake?.close();
  });

  it('is written by Claude through its tool and uploaded into the thread beside the timeline', async () => {
    const source = tacit.playgroundSource;
    await postAlert(tacit.url, source?.id ?? '', source?.token, fixture('alertmanager/firing.json'));
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot), { what: 'the card' });
    await postAlert(tacit.url, source?.id ?? '', source?.token, fixture('alertmanager/resolved.json'));
    const draft = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.startsWith('📎 Post-incident draft')), { what: 'the draft in the thread' });
    expect(draft.text).toContain('written by claude');
    const file = (draft.blocks as { kind?: string; content?: string }[]).find((b) => b.kind === 'file');
    expect(file?.content).toContain('## Summary\nThe payments API pod crash-looped and recovered.');
    expect(file?.content).toContain('- Which change caused the crash loop?');
    expect((await channelMessages(tacit.url)).some((m) => m.threadId === card.id && m.text.startsWith('📎 Timeline'))).toBe(true);
    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Pod is crash looping.'));
    expect(row?.report).toMatchObject({ by: 'claude' });
    expect(fake.rejected).toBe(0);
    expect(fake.requests.filter((r) => toolNames(r).includes('write_post_incident_draft'))).toHaveLength(1);
  });
});
