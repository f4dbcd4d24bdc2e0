// The scenario driver for Slack: Tacit's real Bolt app and WebClient against the local Slack; people
// act through signed events, interactions and slash commands, and private answers arrive at response_urls.
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type SlackMessage } from '../fakes/slack.js';
import type { Driver, ScenarioButton, ScenarioMessage } from './scenario-driver.js';
import { startTestTacit, type TestTacit } from './tacit.js';
import { waitFor } from './wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-shared-scenarios';
const CHANNEL = 'C0GENERAL';
// alice is a workspace admin (she may change settings), bob a member.
const PEOPLE = [{ id: 'U0ALICE', name: 'alice', role: 'admin' as const }, { id: 'U0BOB', name: 'bob' }];

interface SlackBlock {
  type: string;
  /** A `markdown` block carries its text as a string; the others as a text object. */
  text?: string | { text: string };
  fields?: { text: string }[];
  elements?: Array<{ type: string; text?: string | { text: string }; action_id?: string; value?: string }>;
}

const label = (t: string | { text: string } | undefined): string => (typeof t === 'string' ? t : (t?.text ?? ''));

function blockLines(b: SlackBlock): string[] {
  if (b.type === 'actions') return (b.elements ?? []).map((e) => label(e.text));
  if (b.type === 'context') return (b.elements ?? []).map((e) => label(e.text));
  return [label(b.text), ...(b.fields ?? []).map((f) => f.text)].filter((s) => s.length > 0);
}

function buttonsOf(blocks: SlackBlock[]): ScenarioButton[] {
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.type === 'button')
    .map((e) => ({ actionId: e.action_id ?? '', value: e.value ?? '', label: label(e.text) }));
}

export function slackDriver(): Driver {
  let slack: FakeSlack | undefined;
  let tacit: TestTacit | undefined;
  const need = (): { slack: FakeSlack; hook: string } => {
    if (!slack || !tacit) throw new Error('start the Slack driver first');
    return { slack, hook: `${tacit.url}/slack/events` };
  };
  const nameOf = (userId: string): string => PEOPLE.find((p) => p.id === userId)?.name ?? userId;
  /** Slack posts the private answer to the response_url it handed out with the request. */
  const privateAnswer = async (responseUrl: string, what: string): Promise<string> => {
    const { slack: s } = need();
    const answer = await waitFor(() => s.responses.find((r) => r.url === responseUrl), { what: `Tacit's private answer to ${what}` });
    const body = answer.body as { text?: string; response_type?: string };
    if (body.response_type !== 'ephemeral') throw new Error(`the answer to ${what} was not ephemeral: ${JSON.stringify(body)}`);
    return body.text ?? '';
  };
  const toScenario = (m: SlackMessage): ScenarioMessage => {
    const { slack: s } = need();
    const blocks = (m.blocks ?? []) as SlackBlock[];
    return {
      id: m.ts,
      threadId: m.thread_ts && m.thread_ts !== m.ts ? m.thread_ts : null,
      headline: m.text.split('\n')[0] ?? '',
      text: [m.text, ...blocks.flatMap(blockLines)].join('\n'),
      buttons: buttonsOf(blocks),
      files: (m.files ?? []).map((f) => ({
        filename: String(f.name),
        content: s.files.find((u) => u.id === f.id)?.content.toString('utf8') ?? '',
      })),
      edited: m.edited !== undefined,
    };
  };

  return {
    platform: 'slack',
    workspaceId: `slack:${DEFAULT_TEAM.teamId}`,
    people: { approver: 'U0ALICE', bystander: 'U0BOB' },
    async start(env) {
      slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: PEOPLE }] });
      tacit = await startTestTacit({
        env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', ...env },
      });
      return tacit;
    },
    async mention(userId, text) {
      const { slack: s, hook } = need();
      const said = s.say(CHANNEL, userId, `<@${DEFAULT_TEAM.botUserId}> ${text}`);
      // Slack delivers a mention twice: as app_mention and as the channel's message event.
      for (const type of ['app_mention', 'message']) {
        const res = await s.sendEvent(hook, SIGNING_SECRET, { type, channel: CHANNEL, channel_type: 'channel', user: userId, text: said.text, ts: said.ts });
        if (res.status !== 200) throw new Error(`Slack ${type} event: ${res.status} ${res.body}`);
      }
      return said.ts;
    },
    async command(userId, text) {
      const { slack: s, hook } = need();
      const res = await s.sendSlashCommand(hook, SIGNING_SECRET, { text, user_id: userId, user_name: nameOf(userId), channel_id: CHANNEL });
      if (res.status !== 200) throw new Error(`/tacit ${text}: ${res.status} ${res.body}`);
      return privateAnswer(res.responseUrl, `/tacit ${text}`);
    },
    async botMessages() {
      const { slack: s } = need();
      return s.history(CHANNEL).filter((m) => m.bot_id !== undefined).map(toScenario);
    },
    async click(userId, message, button) {
      const { slack: s, hook } = need();
      const res = await s.sendInteraction(hook, SIGNING_SECRET, {
        user_id: userId, user_name: nameOf(userId), channel_id: CHANNEL, message_ts: message.id, action_id: button.actionId, value: button.value,
      });
      if (res.status !== 200) throw new Error(`Slack click: ${res.status} ${res.body}`);
      return privateAnswer(res.responseUrl, `${nameOf(userId)}'s click on ${button.label}`);
    },
    async stop() {
      await tacit?.cleanup();
      await slack?.close();
    },
  };
}
