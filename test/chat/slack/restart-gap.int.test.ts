// Start-up reads only what a gap needs (issue 20). A restart inside the time Slack's retries cover
// makes no history call at all, however many channels Tacit knows; after a longer gap the backfill
// reads the channels, most recently active first, and never the replies of a thread only Tacit wrote in.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackAdapter } from '../../../src/chat/slack/adapter.js';
import { RETRIES_COVER_MS } from '../../../src/chat/slack/alive.js';
import { backfill } from '../../../src/chat/slack/backfill.js';
import { StaticTokens } from '../../../src/chat/slack/tokens.js';
import type { InboundHandlers, InboundMessage } from '../../../src/chat/port.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/log.js';
import { startTacit, type Tacit } from '../../../src/main.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { redisUrl } from '../../support/env.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SECRET = 'slack-signing-secret-for-restarts';
const CHANNELS = Array.from({ length: 20 }, (_, i) => ({ id: `C0CH${String(i + 1).padStart(2, '0')}`, name: `team-${i + 1}` }));
const BOT = DEFAULT_TEAM.botUserId;

describe('Slack: a restart reads only what a gap needs', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let restarted: Tacit | undefined;
  const env = () => ({ SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' });

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, channels: CHANNELS }], historyTier: 'non-marketplace' });
    tacit = await startTestTacit({ env: env() });
    // Twenty channels Tacit knows, each with traffic it stored; in one of them a thread only Tacit wrote in.
    for (const c of CHANNELS) {
      const said = slack.say(c.id, 'U0ALICE', `hello ${c.name}`);
      expect((await slack.sendEvent(`${tacit.url}/slack/events`, SECRET, { type: 'message', channel: c.id, user: 'U0ALICE', text: said.text, ts: said.ts })).status).toBe(200);
    }
    await (tacit.adapters.slack as SlackAdapter).backfilled();
  });
  afterAll(async () => {
    await restarted?.stop();
    await tacit?.cleanup();
    await slack?.close();
  });

  it('makes no history call on a restart with 20 known channels and no gap', async () => {
    const [history, replies] = [slack.calls('conversations.history'), slack.calls('conversations.replies')];
    await tacit.stop();
    const config = loadConfig({ DATABASE_URL: tacit.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: tacit.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env() });
    restarted = await startTacit(config, { logger: createLogger('silent') });
    await (restarted.adapters.slack as SlackAdapter).backfilled();
    expect(slack.calls('conversations.history') - history).toBe(0);
    expect(slack.calls('conversations.replies') - replies).toBe(0);
    // And it still hears Slack as before.
    const said = slack.say('C0CH01', 'U0ALICE', 'after the restart');
    expect((await slack.sendEvent(`${restarted.url}/slack/events`, SECRET, { type: 'message', channel: 'C0CH01', user: 'U0ALICE', text: said.text, ts: said.ts })).status).toBe(200);
    await waitFor(() => slack.eventDeliveries.some((d) => d.status === 200), { what: 'the event answered' });
  });
});

describe('Slack: the backfill after a real gap', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let fed: InboundMessage[];
  const handlers = (): InboundHandlers => ({
    message: async (m) => void fed.push(m),
    messageChanged: async () => undefined, interaction: async () => ({}), command: async () => ({}), workspaceAdded: async () => undefined, workspaceRemoved: async () => undefined,
  });
  const run = (lastHeard: number | null) => {
    const client = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    return backfill({
      db: tacit.database.db, client, tokens: new StaticTokens(client, DEFAULT_TEAM.botToken), handlers: handlers(), log: createLogger('silent'),
      tier: 'internal', budget: { requestsPerMinute: 60_000 }, lastHeard: () => lastHeard,
    });
  };

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, channels: CHANNELS.slice(0, 3) }] });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' } });
    for (const c of CHANNELS.slice(0, 3)) {
      const said = slack.say(c.id, 'U0ALICE', `hello ${c.name}`);
      await slack.sendEvent(`${tacit.url}/slack/events`, SECRET, { type: 'message', channel: c.id, user: 'U0ALICE', text: said.text, ts: said.ts });
    }
    await (tacit.adapters.slack as SlackAdapter).backfilled();
    // While Tacit was away: a card and summaries only Tacit wrote (C0CH01), a person replying in a
    // thread (C0CH02), a new message (C0CH03).
    const card = slack.say('C0CH01', BOT, 'Firing: disk full');
    slack.say('C0CH01', BOT, 'summary', { thread_ts: card.ts });
    slack.say('C0CH01', BOT, 'another summary', { thread_ts: card.ts });
    const question = slack.say('C0CH02', 'U0ALICE', 'is the deploy done?');
    slack.say('C0CH02', 'U0ALICE', 'it is now', { thread_ts: question.ts });
    slack.say('C0CH03', 'U0ALICE', 'anyone there?');
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('reads nothing when Tacit was away for less than Slack retries cover', async () => {
    fed = [];
    expect(await run(Date.now() - RETRIES_COVER_MS / 2)).toBe(0);
    expect(slack.calls('conversations.history')).toBe(0);
  });

  it('after a longer gap, reads the channels but never the replies of a thread only Tacit wrote in', async () => {
    fed = [];
    expect(await run(Date.now() - RETRIES_COVER_MS * 3)).toBeGreaterThan(0);
    expect(fed.map((m) => m.text).sort()).toEqual(['anyone there?', 'is the deploy done?', 'it is now']);
    expect(slack.calls('conversations.history')).toBe(3);
    expect(slack.calls('conversations.replies')).toBe(1); // C0CH02's thread; C0CH01's holds only Tacit
  });

  it('counts an unknown last-heard time as a gap', async () => {
    fed = [];
    await run(null);
    expect(slack.calls('conversations.history')).toBe(6);
  });
});
