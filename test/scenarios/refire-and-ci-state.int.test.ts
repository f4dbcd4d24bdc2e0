// User stories: an incident that fires again soon after its resolution note is seen in the channel,
// whatever the cooldown; one that re-fires within the flapping window is called flapping at once and
// gets no more resolution notes; a default branch that stays red over three commits is one notice,
// and its return to green one more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, channelMessages, fixture, postAlert } from '../support/playground.js';
import { githubHeaders, post } from '../support/sign.js';
import { createSourceViaApi, type CreatedSource } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789';

/** The recorded Alertmanager delivery, for another group, status and occurrence. */
function alertBody(group: string, status: 'firing' | 'resolved', startsAt: string, endsAt = '0001-01-01T00:00:00Z'): string {
  const d = JSON.parse(fixture(`alertmanager/${status}.json`).toString()) as { groupKey: string; alerts: { startsAt: string; endsAt: string; fingerprint: string; labels: Record<string, string> }[] };
  d.groupKey = `{}:{alertname="${group}"}`;
  for (const a of d.alerts) {
    a.startsAt = startsAt;
    a.endsAt = endsAt;
    a.fingerprint = `fp_${group}`;
    a.labels = { ...a.labels, alertname: group };
  }
  return JSON.stringify(d);
}

/** The recorded workflow_run delivery for another commit and conclusion on the default branch. */
function workflowBody(sha: string, conclusion: 'success' | 'failure', at: string): string {
  const d = JSON.parse(fixture('github/workflow_run.completed.json').toString()) as { workflow_run: Record<string, unknown> };
  d.workflow_run = { ...d.workflow_run, name: 'CI', conclusion, head_sha: sha, updated_at: at };
  return JSON.stringify(d);
}

describe('re-fires and CI told as state', () => {
  let tacit: TestTacit;
  let source: { id: string; token: string };
  let github: CreatedSource;
  const topLevel = async () => (await channelMessages(tacit.url)).filter((m) => !m.threadId && m.author.isBot);
  const fire = (group: string, status: 'firing' | 'resolved', startsAt: string, endsAt?: string) =>
    postAlert(tacit.url, source.id, source.token, alertBody(group, status, startsAt, endsAt));
  const threeMoreTicks = async () => {
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'three more ticks' });
  };

  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: SECRET_KEY } });
    if (!tacit.playgroundSource) throw new Error('playground source missing');
    source = tacit.playgroundSource;
    github = await createSourceViaApi(tacit.url, { kind: 'github' });
  });
  afterAll(() => tacit?.cleanup());

  it('tells the channel when a resolved card fires again seconds after its resolution note (inside the cooldown)', async () => {
    expect((await fire('PaymentsDown', 'firing', '2026-11-20T09:14:05Z')).status).toBe(200);
    const card = await waitFor(async () => (await topLevel()).find((m) => m.text.includes('Firing')), { what: 'the card' });
    await fire('PaymentsDown', 'resolved', '2026-11-20T09:14:05Z', '2026-11-20T09:20:00Z');
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.startsWith('Resolved')), { what: 'the resolution note' });

    // 36 minutes after it first started: a recurrence, not flapping; seconds after the last post.
    await fire('PaymentsDown', 'firing', '2026-11-20T09:50:00Z');
    const notice = await waitFor(async () => (await topLevel()).find((m) => m.id !== card.id && m.text.includes('firing again')), { what: 'a top-level notice of the re-fire' });
    expect(notice.text).toContain('resolved once before');
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.id === card.id && m.text.startsWith('Firing') && m.editedAt !== null), { what: 'the card back to Firing' });
  });

  it('calls an incident flapping on its first re-fire after a resolve, and posts no more resolution notes', async () => {
    await fire('CartFlaps', 'firing', '2026-11-20T10:00:00Z');
    const card = await waitFor(async () => (await topLevel()).find((m) => m.text.startsWith('Firing') && m.editedAt === null), { what: 'the second card' });
    await fire('CartFlaps', 'resolved', '2026-11-20T10:00:00Z', '2026-11-20T10:02:00Z');
    const notes = async () => (await channelMessages(tacit.url)).filter((m) => m.threadId === card.id && m.text.startsWith('Resolved'));
    await waitFor(async () => ((await notes()).length === 1 ? true : undefined), { what: 'the first resolution note' });

    await fire('CartFlaps', 'firing', '2026-11-20T10:05:00Z');
    const notice = await waitFor(async () => (await topLevel()).find((m) => m.text.includes('is flapping')), { what: 'the flapping notice in the channel' });
    expect(notice.threadId).toBeNull();
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.id === card.id && blockTexts(m).includes('Flapping')), { what: 'the card saying it is flapping' });

    await fire('CartFlaps', 'resolved', '2026-11-20T10:05:00Z', '2026-11-20T10:06:00Z');
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.id === card.id && m.text.startsWith('Resolved')), { what: 'the card edited to Resolved' });
    await threeMoreTicks();
    expect(await notes()).toHaveLength(1);
  });

  it('posts one notice for three red commits on the default branch, then one when it is green again', async () => {
    const send = async (sha: string, conclusion: 'success' | 'failure', at: string) => {
      const body = workflowBody(sha, conclusion, at);
      expect((await post(github.url, body, githubHeaders(github.secret ?? '', body, 'workflow_run'))).status).toBe(200);
    };
    const ciNotices = async () => (await topLevel()).filter((m) => m.text.includes('octo-org/octo-repo'));
    await send('a'.repeat(40), 'failure', '2026-11-20T11:00:00Z');
    await waitFor(async () => ((await ciNotices()).length === 1 ? true : undefined), { what: 'the red notice' });
    await send('a'.repeat(40), 'failure', '2026-11-20T11:03:00Z'); // a re-run of the same failed run
    await send('b'.repeat(40), 'failure', '2026-11-20T11:10:00Z');
    await send('c'.repeat(40), 'failure', '2026-11-20T11:20:00Z');
    await threeMoreTicks();
    expect(await ciNotices()).toHaveLength(1);
    expect((await ciNotices())[0]?.text).toContain('CI failed on master');

    await send('d'.repeat(40), 'success', '2026-11-20T11:30:00Z');
    const green = await waitFor(async () => (await ciNotices()).find((m) => m.text.includes('green again')), { what: 'the green notice' });
    expect(green.text).toContain('after 30 min red');
    await send('e'.repeat(40), 'success', '2026-11-20T11:40:00Z');
    await threeMoreTicks();
    expect(await ciNotices()).toHaveLength(2);
  });
});
