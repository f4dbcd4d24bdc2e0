// Multi-workspace Slack through the real OAuth flow (Bolt's InstallProvider against the local Slack):
// two teams install Tacit, each keeps its own tokens, data and heartbeat; uninstalling one stops only
// its heartbeat. With token rotation, two processes whose token is about to expire refresh it once.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackAdapter } from '../../../src/chat/slack/adapter.js';
import { SlackInstallations } from '../../../src/chat/slack/installations.js';
import { InstalledTokens } from '../../../src/chat/slack/tokens.js';
import { WebClient } from '@slack/web-api';
import { createSecretBox } from '../../../src/db/secret-box.js';
import { events, slackInstallations, workspaces } from '../../../src/db/schema.js';
import { createLogger } from '../../../src/log.js';
import { startFakeSlack, type FakeSlack, type FakeTeam } from '../../fakes/slack.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-oauth-tests';
const SECRET_KEY = 'test-secret-key-for-slack-installations';
const OAUTH = { clientId: '111.222', clientSecret: 'client-secret-for-tests' };
const alpha: FakeTeam = { teamId: 'T0ALPHA', name: 'Alpha Corp', botToken: 'xoxb-static-alpha', botUserId: 'U0ALPHABOT', channels: [{ id: 'C0ALPHA', name: 'ops' }, { id: 'C0ALPHA2', name: 'ops-2' }], users: [{ id: 'U0ANNA', name: 'anna' }] };
const bravo: FakeTeam = { teamId: 'T0BRAVO', name: 'Bravo Inc', botToken: 'xoxb-static-bravo', botUserId: 'U0BRAVOBOT', channels: [{ id: 'C0BRAVO', name: 'ops' }], users: [{ id: 'U0BEN', name: 'ben' }] };

async function startMulti(slack: FakeSlack): Promise<TestTacit> {
  return startTestTacit({
    env: {
      SLACK_CLIENT_ID: OAUTH.clientId, SLACK_CLIENT_SECRET: OAUTH.clientSecret, SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
      SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_SECRET_KEY: SECRET_KEY,
    },
  });
}

describe('Slack OAuth install for two workspaces', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [alpha, bravo], oauth: OAUTH });
    tacit = await startMulti(slack);
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  const scheduled = async () => {
    const ids = ['slack:T0ALPHA', 'slack:T0BRAVO'];
    const beats = await Promise.all(ids.map((id) => tacit.heartbeat.isScheduled(id)));
    return ids.filter((_, i) => beats[i]);
  };

  it('installs two teams, keeps their tokens encrypted, data apart and heartbeats separate; uninstall stops only one', async () => {
    for (const team of [alpha, bravo]) {
      const res = await slack.installApp(`${tacit.url}/slack/install`, { teamId: team.teamId });
      expect(res.status).toBe(200);
      expect(res.body).toContain(`installed in ${team.name ?? ''}`);
    }
    const rows = await tacit.database.db.select().from(slackInstallations);
    expect(rows.map((r) => r.workspaceId).sort()).toEqual(['slack:T0ALPHA', 'slack:T0BRAVO']);
    const issued = slack.grants.map((g) => g.accessToken);
    expect(issued).toHaveLength(2);
    for (const row of rows) for (const token of issued) expect(row.installationEncrypted).not.toContain(token);
    expect(await scheduled()).toEqual(['slack:T0ALPHA', 'slack:T0BRAVO']);
    expect(await tacit.heartbeat.schedulerCount()).toBe(2);
    expect((await tacit.database.db.select().from(workspaces)).map((w) => [w.id, w.name]).sort()).toEqual([['slack:T0ALPHA', 'Alpha Corp'], ['slack:T0BRAVO', 'Bravo Inc']]);

    // A mention in each team is answered in that team, with that team's token.
    const events_ = `${tacit.url}/slack/events`;
    const a = slack.say('C0ALPHA', 'U0ANNA', '<@U0ALPHABOT> status?', { teamId: 'T0ALPHA' });
    const b = slack.say('C0BRAVO', 'U0BEN', '<@U0BRAVOBOT> status?', { teamId: 'T0BRAVO' });
    expect((await slack.sendEvent(events_, SIGNING_SECRET, { type: 'app_mention', channel: 'C0ALPHA', user: 'U0ANNA', text: a.text, ts: a.ts }, { teamId: 'T0ALPHA' })).status).toBe(200);
    expect((await slack.sendEvent(events_, SIGNING_SECRET, { type: 'app_mention', channel: 'C0BRAVO', user: 'U0BEN', text: b.text, ts: b.ts }, { teamId: 'T0BRAVO' })).status).toBe(200);
    await waitFor(() => slack.posts.find((p) => p.teamId === 'T0ALPHA' && p.thread_ts === a.ts), { what: 'the reply in Alpha' });
    await waitFor(() => slack.posts.find((p) => p.teamId === 'T0BRAVO' && p.thread_ts === b.ts), { what: 'the reply in Bravo' });
    const stored = await tacit.database.db.select({ ws: events.workspaceId, payload: events.payload }).from(events);
    const channelsOf = (ws: string) => stored.filter((e) => e.ws === ws).map((e) => (e.payload as { channelId: string }).channelId);
    expect(channelsOf('slack:T0ALPHA')).toEqual(['slack:T0ALPHA/C0ALPHA']);
    expect(channelsOf('slack:T0BRAVO')).toEqual(['slack:T0BRAVO/C0BRAVO']);

    // Alpha uninstalls: its tokens are deleted and its heartbeat stops; Bravo carries on.
    slack.uninstall('T0ALPHA');
    expect((await slack.sendEvent(events_, SIGNING_SECRET, { type: 'app_uninstalled' }, { teamId: 'T0ALPHA' })).status).toBe(200);
    await waitFor(async () => (await scheduled()).length === 1, { what: 'the heartbeat of Alpha to stop' });
    expect(await scheduled()).toEqual(['slack:T0BRAVO']);
    expect(await tacit.heartbeat.schedulerCount()).toBe(1);
    expect((await tacit.database.db.select().from(slackInstallations)).map((r) => r.workspaceId)).toEqual(['slack:T0BRAVO']);
    const [removed] = await tacit.database.db.select().from(workspaces).where(eq(workspaces.id, 'slack:T0ALPHA'));
    expect(removed?.removedAt).toBeInstanceOf(Date);

    // tokens_revoked for Bravo's bot does the same for Bravo.
    await slack.sendEvent(events_, SIGNING_SECRET, { type: 'tokens_revoked', tokens: { bot: ['U0BRAVOBOT'] } }, { teamId: 'T0BRAVO' });
    await waitFor(async () => (await scheduled()).length === 0, { what: 'the heartbeat of Bravo to stop' });
    expect(await tacit.heartbeat.schedulerCount()).toBe(0);
  });

  it('refuses an OAuth callback without the state cookie of the browser that started it', async () => {
    const start = await fetch(`${tacit.url}/slack/install`, { redirect: 'manual' });
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.origin + authorize.pathname).toBe(`${slack.url}/oauth/v2/authorize`);
    expect(authorize.searchParams.get('scope')?.split(',')).toContain('chat:write');
    const res = await fetch(`${tacit.url}/slack/oauth_redirect?code=stolen&state=${authorize.searchParams.get('state') ?? ''}`);
    expect(res.status).toBe(400);
  });
});

describe('Slack token rotation', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [alpha], oauth: { ...OAUTH, expiresInSeconds: 12 * 3600 } });
    tacit = await startMulti(slack);
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('refreshes an expiring token once when two processes need it at the same time, and both use the new one', async () => {
    expect((await slack.installApp(`${tacit.url}/slack/install`, { teamId: 'T0ALPHA' })).status).toBe(200);
    expect(slack.grants).toEqual([expect.objectContaining({ grant: 'authorization_code', refreshToken: expect.any(String) })]);

    // Two "processes": their own token caches and clients, the same Postgres and Redis. Their clocks read
    // 11.5 h after the install, inside the refresh window of the 12 h token.
    const later = () => Date.now() + 11.5 * 3600_000;
    const log = createLogger('silent');
    const processes = [1, 2].map(() => {
      const tokens = new InstalledTokens({
        store: new SlackInstallations(tacit.database.db, createSecretBox(SECRET_KEY)),
        client: new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
        clientId: OAUTH.clientId, clientSecret: OAUTH.clientSecret, redis: tacit.redis, prefix: tacit.prefix, log,
        refreshBeforeMs: 3600_000, now: later,
      });
      return new SlackAdapter({ tokens, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl, log });
    });
    const [one, two] = await Promise.all(processes.map((p) => p.tokens.auth('T0ALPHA')));
    const refreshes = slack.grants.filter((g) => g.grant === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(one?.token).toBe(refreshes[0]?.accessToken);
    expect(two?.token).toBe(refreshes[0]?.accessToken);

    // The superseded token stops working; posts from both processes go out with the new one.
    slack.expireReplacedTokens('T0ALPHA');
    await Promise.all(processes.map((p, i) => p.post({ channelId: `slack:T0ALPHA/${i === 0 ? 'C0ALPHA' : 'C0ALPHA2'}`, message: { text: `from ${i}` }, idempotencyKey: `rot-${i}` })));
    expect(slack.posts.map((p) => p.text).sort()).toEqual(['from 0', 'from 1']);
    const [row] = await tacit.database.db.select().from(slackInstallations);
    expect(row?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });
});
