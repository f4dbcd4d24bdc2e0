// Feedback on summaries through Slack: the summary in an incident's thread is a `markdown` block with
// Slack's feedback buttons; a click is recorded on the decision (one verdict per person, changeable),
// counted on the dashboard and in /metrics, and a not-helpful verdict retires what memory took from it.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisions, feedback, memories } from '../../../src/db/schema.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type Post } from '../../fakes/slack.js';
import { fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SECRET = 'slack-signing-secret-for-feedback';
const ADMIN = 'feedback-admin-token-0123456789abcdef';
const WS = `slack:${DEFAULT_TEAM.teamId}`;

interface FeedbackElement { type: string; action_id: string; positive_button: { value: string }; negative_button: { value: string } }

describe('Slack: feedback buttons on summaries', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let hook: string;
  let summary: Post;
  let buttons: FeedbackElement;

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: [{ id: 'U0ALICE', name: 'alice', role: 'admin' }, { id: 'U0BOB', name: 'bob' }] }] });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: ADMIN } });
    hook = `${tacit.url}/slack/events`;
    const res = await slack.sendSlashCommand(hook, SECRET, { text: 'connect alertmanager', user_id: 'U0ALICE', channel_id: 'C0GENERAL' });
    const answer = JSON.stringify((await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: 'the connect answer' })).body);
    const url = /URL: (\S+?)\\n/.exec(answer)?.[1] ?? '';
    const token = /Token: (\S+?)\\n/.exec(answer)?.[1] ?? '';
    expect((await postAlert(tacit.url, url.split('/').pop() ?? '', token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const card = await waitFor(() => slack.posts.find((p) => !p.thread_ts && (p.text ?? '').includes('Firing')), { what: 'the card' });
    summary = await waitFor(() => slack.posts.find((p) => p.thread_ts === card.ts && JSON.stringify(p.blocks).includes('feedback_buttons')), { what: 'the summary' });
    const blocks = summary.blocks as { type: string; elements?: FeedbackElement[] }[];
    buttons = blocks.find((b) => b.type === 'context_actions')?.elements?.[0] as FeedbackElement;
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  const click = async (user: string, value: string): Promise<string> => {
    const res = await slack.sendInteraction(hook, SECRET, { user_id: user, channel_id: 'C0GENERAL', message_ts: summary.ts, action_id: buttons.action_id, value });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: 'the private thanks' });
    return (answer.body as { text?: string }).text ?? '';
  };
  const decisionId = () => /:(dec_[\w-]+)$/.exec(buttons.positive_button.value)?.[1] ?? '';

  it('shows the summary as Markdown with Slack feedback buttons naming its decision', () => {
    const blocks = summary.blocks as { type: string }[];
    expect(blocks.map((b) => b.type)).toEqual(['markdown', 'context', 'context_actions']);
    expect(buttons).toMatchObject({ type: 'feedback_buttons', action_id: 'feedback' });
    expect(buttons.positive_button.value).toMatch(/^helpful:dec_/);
    expect(buttons.negative_button.value).toBe(`not_helpful:${decisionId()}`);
  });

  it('records a click on the decision, once per person, and a second click changes the verdict', async () => {
    const [decision] = await tacit.database.db.select().from(decisions).where(eq(decisions.id, decisionId()));
    expect(decision?.workspaceId).toBe(WS);
    expect(await click('U0BOB', buttons.positive_button.value)).toMatch(/noted that this helped/);
    expect(await click('U0BOB', buttons.negative_button.value)).toMatch(/did not help/);
    const rows = await tacit.database.db.select().from(feedback).where(eq(feedback.decisionId, decisionId()));
    expect(rows.map((r) => [r.person, r.verdict])).toEqual([['U0BOB', 'not_helpful']]);
  });

  it('refuses a value it did not write, and a decision from another workspace', async () => {
    expect(await click('U0BOB', 'helpful:not-a-decision')).toMatch(/not one I made/);
    expect(await click('U0BOB', 'helpful:dec_from_elsewhere')).toMatch(/no longer have the decision/);
  });

  it('counts verdicts on the dashboard and in /metrics', async () => {
    await click('U0ALICE', buttons.positive_button.value);
    await click('U0ALICE', buttons.negative_button.value);
    const page = await (await fetch(`${tacit.url}/`, { headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/html' } })).text();
    expect(page).toContain('feedback: 0 helpful, 2 not helpful');
    expect(page).toMatch(/data-testid="feedback">· 0 helpful, 2 not</);
    const metrics = await (await fetch(`${tacit.url}/metrics`)).text();
    expect(metrics).toMatch(/^tacit_feedback\{verdict="not_helpful"\} 2$/m);
    expect(metrics).toMatch(/^tacit_feedback\{verdict="helpful"\} 0$/m);
  });

  it('retires what memory took from a summary people found not helpful', async () => {
    const now = new Date();
    await tacit.database.db.insert(memories).values({
      id: 'mem_feedback_1', workspaceId: WS, topic: 'crash loops', hint: 'payments-api crash loops after deploys', body: 'b', sourceRefs: [], status: 'active', decisionId: decisionId(), createdAt: now, updatedAt: now,
    });
    await click('U0ALICE', buttons.negative_button.value); // the verdicts stand at 0 to 2: the entry goes
    const [row] = await tacit.database.db.select().from(memories).where(and(eq(memories.id, 'mem_feedback_1')));
    expect(row?.status).toBe('superseded');
    expect(row?.staleReason).toMatch(/not helpful \(2 to 0\)/);
  });
});
