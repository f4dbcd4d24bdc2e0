// Issue 20: an alert titled `Disk full <!channel> <@U123> <https://evil.example|open the runbook>`
// goes through every surface Tacit writes on — the card, its edit, the thread summary, a streamed
// answer to a mention, the approval card, the approver's DM, `/tacit status`, the App Home — on Slack
// (the real Bolt app and WebClient against the local Slack) and on the playground, and nowhere does a
// live @channel, a fake mention or a disguised link come through. Discord cases live beside this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents } from '../../src/db/schema.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../fakes/slack.js';
import { channelMessages, postAlert, say } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';
import { HOSTILE_TITLE_WORDS, expectDisarmedEverywhere, hostileAlertmanagerPayload } from './hostile-title.js';

const SECRET = 'slack-signing-secret-for-the-hostile-title';
const CHANNEL = 'C0GENERAL';
const json = (v: unknown) => JSON.stringify(v);

describe('the hostile alert title on Slack, on every surface', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let hook: string;
  const slash = async (user: string, text: string): Promise<string> => {
    const res = await slack.sendSlashCommand(hook, SECRET, { text, user_id: user, channel_id: CHANNEL });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: `the answer to /tacit ${text}` });
    return json(answer.body);
  };
  const mention = async (user: string, text: string, thread: string) => {
    const said = slack.say(CHANNEL, user, `<@${DEFAULT_TEAM.botUserId}> ${text}`, { thread_ts: thread });
    const res = await slack.sendEvent(hook, SECRET, { type: 'app_mention', channel: CHANNEL, user, text: said.text, ts: said.ts, thread_ts: thread });
    expect(res.status).toBe(200);
    return said.ts;
  };

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: [{ id: 'U0ALICE', name: 'alice', role: 'admin' }, { id: 'U0BOB', name: 'bob' }] }] });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_SECRET_KEY: 'hostile-title-secret-key-0123456789abcdef' } });
    hook = `${tacit.url}/slack/events`;
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('shows the title on every surface with nothing live in it', async () => {
    const connected = await slash('U0ALICE', 'connect alertmanager');
    const url = /URL: (\S+?)\\n/.exec(connected)?.[1] ?? '';
    const token = /Token: (\S+?)\\n/.exec(connected)?.[1] ?? '';
    await slash('U0ALICE', 'approvers <@U0ALICE>');
    await slash('U0ALICE', 'integration alertmanager http://127.0.0.1:9/');
    expect((await postAlert(tacit.url, url.split('/').pop() ?? '', token, hostileAlertmanagerPayload())).status).toBe(200);

    const card = await waitFor(() => slack.posts.find((p) => !p.thread_ts && (p.text ?? '').includes(HOSTILE_TITLE_WORDS)), { what: 'the incident card' });
    const summary = await waitFor(() => slack.posts.find((p) => p.thread_ts === card.ts && json(p.blocks).includes('"markdown"')), { what: 'the thread summary' });
    // An edit: Alice acknowledges, the card says so.
    await slack.sendInteraction(hook, SECRET, { user_id: 'U0ALICE', channel_id: CHANNEL, message_ts: card.ts, action_id: 'incident.acknowledge', value: (await incidentId()) });
    const edit = await waitFor(() => slack.updates.find((u) => u.ts === card.ts && (u.text ?? '').includes('Acknowledged')), { what: 'the card edited' });
    // A mention answered in the thread (streamed), and a silence asked for (approval card and the approver's DM).
    const asked = await mention('U0BOB', 'what is going on?', card.ts);
    const answer = await waitFor(() => slack.posts.find((p) => p.thread_ts === card.ts && p.ts > asked && (p.text ?? '').includes(HOSTILE_TITLE_WORDS)), { what: 'the answer' });
    await mention('U0BOB', 'silence this for 30m', card.ts);
    const approval = await waitFor(() => slack.posts.find((p) => json(p.blocks).includes('approval.approve')), { what: 'the approval card' });
    const dm = await waitFor(() => slack.posts.find((p) => p.channel.startsWith('D') && (p.text ?? '').includes('approval')), { what: "the approver's DM" });
    const status = await slash('U0BOB', 'status');
    await slack.sendEvent(hook, SECRET, { type: 'app_home_opened', user: 'U0ALICE', channel: 'D0ALICE', tab: 'home' });
    const home = await waitFor(() => slack.views.find((v) => v.userId === 'U0ALICE' && json(v.view).includes(HOSTILE_TITLE_WORDS)), { what: 'the App Home' });

    const stream = slack.streams.find((s) => s.ts === answer.ts);
    expectDisarmedEverywhere({
      'the card': [card.text ?? '', json(card.blocks)],
      'the thread summary': [summary.text ?? '', json(summary.blocks)],
      'the card edit': [edit.text ?? '', json(edit.blocks)],
      'the streamed answer': [answer.text ?? '', json(answer.blocks), ...(stream?.parts ?? [])],
      'the approval card': [approval.text ?? '', json(approval.blocks)],
      "the approver's DM": [dm.text ?? '', json(dm.blocks)],
      '/tacit status': [status],
      'the App Home': [json(home.view)],
    });
    // And everything else it sent, surfaces or not.
    const everything = [...slack.posts, ...slack.updates, ...slack.ephemerals].map((m) => `${m.text ?? ''} ${json(m.blocks)}`);
    expectDisarmedEverywhere({ 'all of it': [...everything, ...slack.responses.map((r) => json(r.body)), ...slack.views.map((v) => json(v.view)), HOSTILE_TITLE_WORDS] });
  });

  async function incidentId(): Promise<string> {
    const [row] = await tacit.database.db.select({ id: incidents.id }).from(incidents);
    return row?.id ?? '';
  }
});

describe('the hostile alert title on the playground, on every surface', () => {
  let tacit: TestTacit;

  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_PLAYGROUND: 'on' } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
  });

  const command = async (userId: string, text: string, threadId?: string): Promise<string> => {
    const res = await fetch(`${tacit.url}/playground/api/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, channelId: 'playground:incidents', text, threadId }),
    });
    return ((await res.json()) as { privateText?: string }).privateText ?? '';
  };
  const texts = (m: { text: string; blocks: unknown[] }) => [m.text, json(m.blocks)];

  it('shows the title on every surface with nothing live in it', async () => {
    const source = tacit.playgroundSource;
    if (!source) throw new Error('the playground has no alert source');
    expect((await postAlert(tacit.url, source.id, source.token, hostileAlertmanagerPayload())).status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes(HOSTILE_TITLE_WORDS)), { what: 'the card' });
    const summary = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && json(m.blocks).includes('"markdown":true')), { what: 'the summary' });
    const asked = await say(tacit.url, 'bob', '@tacit what is going on?', card.id);
    const answer = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.author.isBot && m.createdAt >= (card.createdAt) && m.id !== summary.id && m.text.includes(HOSTILE_TITLE_WORDS)), { what: 'the answer' });
    expect(asked).toBeTruthy();
    await say(tacit.url, 'bob', '@tacit silence this for 30m', card.id);
    const approval = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => json(m.blocks).includes('approval.approve')), { what: 'the approval card' });
    const dm = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.channelId.startsWith('playground:dm-') && m.text.includes('approval')), { what: "the approver's DM" });
    const status = await command('bob', '/tacit status');
    expectDisarmedEverywhere({
      'the card': texts(card),
      'the thread summary': texts(summary),
      'the answer': texts(answer),
      'the approval card': texts(approval),
      "the approver's DM": texts(dm),
      '/tacit status': [status],
    });
  });
});
