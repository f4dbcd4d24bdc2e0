// Socket Mode (SLACK_APP_TOKEN): Bolt's SocketModeReceiver opens the WebSocket the local Slack hands out
// through apps.connections.open, acknowledges each envelope, and a mention is answered in its thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const APP_TOKEN = 'xapp-1-A0TACIT-fake-app-token';

describe('Slack over Socket Mode', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  beforeAll(async () => {
    slack = await startFakeSlack({ appToken: APP_TOKEN });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.apiUrl } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('answers a mention delivered over the WebSocket, after acknowledging the envelope', async () => {
    await slack.socketConnected();
    expect(slack.calls('apps.connections.open')).toBe(1);
    const said = slack.say('C0GENERAL', 'U0ALICE', '<@U0TACITBOT> status?');
    const ack = await slack.sendSocket('events_api', slack.eventEnvelope({ type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: said.text, ts: said.ts }));
    expect(ack.envelope_id).toMatch(/^[0-9a-f]{16}$/);
    const reply = await waitFor(() => slack.posts.find((p) => p.thread_ts === said.ts), { what: 'the reply in the thread' });
    expect(reply.text).toMatch(/open incident|All quiet/);
    // No HTTP events endpoint in Socket Mode.
    expect((await fetch(`${tacit.url}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
