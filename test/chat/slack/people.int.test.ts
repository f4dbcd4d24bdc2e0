// People by name on Slack (users.info, cached with expiry): approval cards say "Requested by bob",
// lists of approvers name people, a refusal explains without saying who may approve, and a DM
// channel is opened once per person however many DMs follow.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisions } from '../../../src/db/schema.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type Post } from '../../fakes/slack.js';
import { fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SECRET = 'slack-signing-secret-for-people';
const CHANNEL = 'C0GENERAL';
const json = (v: unknown) => JSON.stringify(v);

describe('Slack: people by name', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let hook: string;
  let card: Post;
  const slash = async (user: string, text: string): Promise<string> => {
    const res = await slack.sendSlashCommand(hook, SECRET, { text, user_id: user, channel_id: CHANNEL });
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: `the answer to /tacit ${text}` });
    return (answer.body as { text?: string }).text ?? '';
  };
  const ask = async (user: string, text: string) => {
    const said = slack.say(CHANNEL, user, `<@${DEFAULT_TEAM.botUserId}> ${text}`, { thread_ts: card.ts });
    expect((await slack.sendEvent(hook, SECRET, { type: 'app_mention', channel: CHANNEL, user, text: said.text, ts: said.ts, thread_ts: card.ts })).status).toBe(200);
  };
  const approvalCards = () => slack.posts.filter((p) => json(p.blocks).includes('approval.approve'));

  beforeAll(async () => {
    const users = [{ id: 'U0ALICE', name: 'alice', role: 'admin' as const }, { id: 'U0BOB', name: 'bob' }, { id: 'U0CAROL', name: 'carol' }];
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users }] });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_SECRET_KEY: 'people-secret-key-0123456789abcdef0123' } });
    hook = `${tacit.url}/slack/events`;
    const connected = json(await slash('U0ALICE', 'connect alertmanager'));
    await slash('U0ALICE', 'integration alertmanager http://127.0.0.1:9/');
    const url = /URL: (\S+?)\\n/.exec(connected)?.[1] ?? '';
    const token = /Token: (\S+?)\\n/.exec(connected)?.[1] ?? '';
    expect((await postAlert(tacit.url, url.split('/').pop() ?? '', token, fixture('alertmanager/firing.json'))).status).toBe(200);
    card = await waitFor(() => slack.posts.find((p) => !p.thread_ts && (p.text ?? '').includes('Firing')), { what: 'the card' });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('lists approvers by name, and an unknown id as it is', async () => {
    expect(await slash('U0ALICE', 'approvers <@U0ALICE> <@U0GHOST>')).toMatch(/Approvers set by U0ALICE: alice, U0GHOST\./);
    expect(await slash('U0BOB', 'approvers')).toMatch(/^Approvers: alice, U0GHOST\./);
    expect(await slash('U0ALICE', 'approvers <@U0ALICE>')).toMatch(/: alice\./);
  });

  it('says who asked by name on the approval card, in the decision and in the approver list', async () => {
    await ask('U0BOB', 'silence this for 30m');
    const approval = await waitFor(() => approvalCards()[0], { what: 'the approval card' });
    const text = json(approval.blocks);
    expect(text).toContain('*Requested by*\\nbob');
    expect(text).not.toContain('U0BOB');
    expect(text).toContain('*Who may approve*\\nalice"');
    const reasons = (await tacit.database.db.select({ reasons: decisions.reasons }).from(decisions).where(eq(decisions.trigger, 'mention'))).flatMap((d) => d.reasons);
    expect(reasons).toContain('bob mentioned Tacit');
  });

  it('refuses a click without saying who may approve', async () => {
    const approval = approvalCards()[0];
    const approve = (approval?.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve');
    const res = await slack.sendInteraction(hook, SECRET, { user_id: 'U0CAROL', channel_id: CHANNEL, message_ts: approval?.ts ?? '', action_id: 'approval.approve', value: approve?.value ?? '' });
    const answer = (await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: 'the refusal' })).body as { text: string };
    expect(answer.text).toMatch(/not one of the people who may decide this/);
    expect(answer.text).not.toMatch(/alice|U0ALICE/);
  });

  it('opens the DM with a person once, however many DMs it sends', async () => {
    await ask('U0CAROL', 'silence this for 45m');
    await waitFor(() => (approvalCards().length >= 2 ? true : undefined), { what: 'the second approval card' });
    const dms = await waitFor(() => {
      const sent = slack.posts.filter((p) => p.channel === 'D0ALICE');
      return sent.length >= 2 ? sent : undefined;
    }, { what: "both DMs to alice" });
    expect(dms).toHaveLength(2);
    expect(slack.calls('conversations.open')).toBe(1);
  });

  it('asks why in a modal when an approver presses Deny, and shows the reason on the card', async () => {
    const approval = approvalCards()[1];
    const deny = (approval?.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.deny');
    const opened = slack.modals.length;
    await slack.sendInteraction(hook, SECRET, { user_id: 'U0ALICE', channel_id: CHANNEL, message_ts: approval?.ts ?? '', action_id: 'approval.deny', value: deny?.value ?? '' });
    const modal = await waitFor(() => slack.modals[opened], { what: 'the deny form' });
    expect(modal.view).toMatchObject({ callback_id: 'tacit.deny_reason', title: { type: 'plain_text', text: 'Deny this action' } });
    const ephemerals = slack.ephemerals.length;
    expect((await slack.submitView(hook, SECRET, modal.viewId, { reason: { text: { type: 'plain_text_input', value: 'not during the release <!channel>' } } })).status).toBe(200);
    const answer = await waitFor(() => slack.ephemerals.slice(ephemerals).find((e) => e.user === 'U0ALICE'), { what: 'the private answer' });
    expect(answer.text).toMatch(/Denied/);
    const edited = await waitFor(() => slack.updates.find((u) => u.ts === approval?.ts && json(u.blocks).includes('not during the release')), { what: 'the card showing the reason' });
    expect(json(edited.blocks)).not.toContain('<!channel>');
  });
});
