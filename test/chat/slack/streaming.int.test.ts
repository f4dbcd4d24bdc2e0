// Mention answers on Slack's 2026 agent surfaces, through Bolt, the real WebClient and the local
// Slack: "is looking things up…" in the thread while Claude answers, the answer streamed in (start,
// appends, stop with the footer and the outbox key) and ending as one message; post-and-edit when
// Slack refuses the stream, an edit when the stream ends under it; and the same answers in a DM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../fakes/anthropic.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { toolNames } from '../../support/claude-model.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SECRET = 'slack-signing-secret-for-streaming';
const CHANNEL = 'C0GENERAL';
/** Long enough to be streamed in several parts (Tacit appends about 240 characters at a time). */
const ANSWER = [
  'Nothing is on fire right now. **No incident is open**, and the last alert resolved on its own.',
  'Here is what I looked at: the recent events of this workspace, the repositories I watch and what I remember from earlier incidents. None of them shows anything that needs a person at the moment, and the deploy an hour ago finished green.',
  'If you want me to watch something in particular, connect its alerts with `/tacit connect` and I will post in a thread when it fires. I will keep quiet otherwise, as usual.',
  'One more thing: the disk on db-1 was at 81% an hour ago, which is below its alert threshold, so I did not say anything about it; ask me again later if you want a fresh look.',
].join('\n\n');

describe('Slack: mention answers streamed into their thread', () => {
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  let tacit: TestTacit;
  let hook: string;

  beforeAll(async () => {
    claude = await startFakeAnthropic();
    claude.script((req) => (toolNames(req).includes('reply') ? { content: [{ type: 'tool_use', name: 'reply', input: { text: ANSWER } }] } : undefined));
    const team = { ...DEFAULT_TEAM, channels: [...DEFAULT_TEAM.channels, { id: 'D0ALICE', name: 'D0ALICE' }], users: [{ id: 'U0ALICE', name: 'alice', role: 'admin' as const }] };
    slack = await startFakeSlack({ teams: [team] });
    tacit = await startTestTacit({
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: claude.url },
    });
    hook = `${tacit.url}/slack/events`;
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
    await claude?.close();
  });

  const ask = async (text: string, channel = CHANNEL) => {
    const said = slack.say(channel, 'U0ALICE', channel === CHANNEL ? `<@${DEFAULT_TEAM.botUserId}> ${text}` : text);
    const event = channel === CHANNEL
      ? { type: 'app_mention', channel, user: 'U0ALICE', text: said.text, ts: said.ts }
      : { type: 'message', channel, channel_type: 'im', user: 'U0ALICE', text: said.text, ts: said.ts };
    expect((await slack.sendEvent(hook, SECRET, event)).status).toBe(200);
    return said.ts;
  };
  /** Tacit's messages in the thread under `ts`. */
  const replies = (ts: string, channel = CHANNEL) => slack.history(channel).filter((m) => m.thread_ts === ts && m.ts !== ts && m.bot_id !== undefined);

  it('streams a Claude answer in at least two appends, and it ends as one message', async () => {
    const asked = await ask('anything I should know?');
    const stream = await waitFor(() => slack.streams.find((s) => s.thread_ts === asked && s.state === 'stopped'), { what: 'the answer streamed and stopped' });
    expect(stream.appends).toBeGreaterThanOrEqual(2);
    expect(stream.recipient_user_id).toBe('U0ALICE');
    expect(stream.recipient_team_id).toBe(DEFAULT_TEAM.teamId);
    // One message: the streamed one, holding the whole answer, the footer and the outbox key.
    const [only, ...more] = replies(asked);
    expect(more).toEqual([]);
    expect(only?.ts).toBe(stream.ts);
    expect(only?.text).toBe(ANSWER);
    expect(JSON.stringify(only?.blocks)).toMatch(/Tacit \(bot\) · decision dec_/);
    expect(only?.metadata).toEqual({ event_type: 'tacit_outbox', event_payload: { idempotency_key: expect.stringMatching(/^reply:\d+$/) } });
    expect(slack.posts.filter((p) => p.thread_ts === asked && p.ts !== stream.ts)).toEqual([]);
  });

  it('says it is looking things up in the thread before the answer starts', async () => {
    const asked = await ask('what changed today?');
    const stream = await waitFor(() => slack.streams.find((s) => s.thread_ts === asked), { what: 'the answer' });
    const status = slack.statuses.find((s) => s.thread_ts === asked);
    expect(status).toMatchObject({ channel: CHANNEL, status: 'is looking things up…' });
    expect(status?.at).toBeLessThanOrEqual(stream.startedAt);
  });

  it('posts and then edits the answer when Slack refuses the stream', async () => {
    slack.failNext('chat.startStream', 'missing_recipient_team_id');
    const asked = await ask('and now?');
    await waitFor(() => slack.updates.find((u) => replies(asked).some((r) => r.ts === u.ts)), { what: 'the posted answer edited' });
    const [only, ...more] = replies(asked);
    expect(more).toEqual([]);
    expect(only?.text).toBe(ANSWER);
    expect(slack.streams.find((s) => s.thread_ts === asked)).toBeUndefined();
    expect(only?.metadata?.event_type).toBe('tacit_outbox');
  });

  it('edits the streamed message to the whole answer when the stream ends under it', async () => {
    slack.failNext('chat.appendStream', 'message_not_in_streaming_state');
    const asked = await ask('one more time?');
    const stream = await waitFor(() => slack.streams.find((s) => s.thread_ts === asked), { what: 'the stream started' });
    await waitFor(() => slack.updates.find((u) => u.ts === stream.ts), { what: 'the streamed message edited' });
    const [only, ...more] = replies(asked);
    expect(more).toEqual([]);
    expect(only?.ts).toBe(stream.ts);
    expect(JSON.stringify(only?.blocks)).toContain('the disk on db-1 was at 81%');
  });

  it('answers a direct message (the App Home messages tab) in the DM, like a mention', async () => {
    const asked = await ask('anything I should know?', 'D0ALICE');
    const stream = await waitFor(() => slack.streams.find((s) => s.channel === 'D0ALICE' && s.thread_ts === asked && s.state === 'stopped'), { what: 'the answer in the DM' });
    expect(stream.parts.join('')).toBe(ANSWER);
    expect(replies(asked, 'D0ALICE')).toHaveLength(1);
    expect(replies(asked)).toHaveLength(0);
  });
});
