// Slack events are committed before they are acknowledged: through the real Bolt app and signed
// deliveries from the local Slack (which retries what was not answered 2xx, as Slack does), a mention
// sent while Postgres is down is answered 503, retried, and answered once the database is back; a
// database too slow to commit is answered within Slack's 3 s with a 503, and the retry stores once;
// clicks and slash commands are still acknowledged at once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { startPgProxy, type PgProxy } from '../../support/pg-proxy.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-stored-before-ack';
const CHANNEL = 'C0GENERAL';

describe('Slack events are stored before the 200', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let proxy: PgProxy;
  let direct: pg.Client;
  let hook: string;
  const storedCopies = async (ts: string) =>
    Number((await direct.query(`select count(*) as n from events where dedupe_key = $1`, [`chat:slack:${DEFAULT_TEAM.teamId}/${CHANNEL}:${ts}`])).rows[0].n);

  beforeAll(async () => {
    proxy = await startPgProxy();
    // Slack's schedule (at once, ~1 min, ~5 min) compressed.
    slack = await startFakeSlack({ eventRetryDelaysMs: [300, 1_500, 3_000] });
    tacit = await startTestTacit({
      databaseUrl: (url) => proxy.url(url),
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' },
    });
    hook = `${tacit.url}/slack/events`;
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await proxy?.start().catch(() => undefined);
    await tacit?.cleanup();
    await slack?.close();
    await proxy?.close();
  });

  it('answers a mention sent while Postgres is down once it is back, through Slack’s retries', async () => {
    const said = slack.say(CHANNEL, 'U0ALICE', `<@${DEFAULT_TEAM.botUserId}> is the database ok?`);
    await proxy.stop();
    const first = await slack.sendEvent(hook, SIGNING_SECRET, { type: 'app_mention', channel: CHANNEL, user: 'U0ALICE', text: said.text, ts: said.ts });
    expect(first.status).toBe(503);
    expect(first.body).toMatch(/Slack will retry/);
    await proxy.start();

    const last = await slack.eventSettled(first.eventId);
    expect(last.status).toBe(200);
    expect(last.retryNum).toBeGreaterThanOrEqual(1);
    const reply = await waitFor(() => slack.posts.find((p) => p.thread_ts === said.ts), { what: 'the reply to the mention', timeoutMs: 20_000 });
    expect(reply.text).toMatch(/open incident|All quiet/);
    expect(await storedCopies(said.ts)).toBe(1);
    expect(slack.posts.filter((p) => p.thread_ts === said.ts)).toHaveLength(1);
  });

  it('answers 503 within Slack’s 3 s when the database is too slow, and the retry stores the message once', async () => {
    const said = slack.say(CHANNEL, 'U0ALICE', 'deploying v7 to staging');
    // Another session holds the events table: inserts wait behind it.
    const locker = new pg.Client({ connectionString: tacit.testDatabase.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table events in access exclusive mode');
    const started = Date.now();
    const first = await slack.sendEvent(hook, SIGNING_SECRET, { type: 'message', channel: CHANNEL, user: 'U0ALICE', text: said.text, ts: said.ts });
    const tookMs = Date.now() - started;
    expect(first.status).toBe(503);
    expect(tookMs).toBeLessThan(3_000);
    expect(tookMs).toBeGreaterThanOrEqual(2_400);
    await locker.query('commit');
    await locker.end();

    expect((await slack.eventSettled(first.eventId)).status).toBe(200);
    await waitFor(async () => (await storedCopies(said.ts)) === 1, { what: 'the message stored' });
    expect(await storedCopies(said.ts)).toBe(1);
  });

  it('still acknowledges a click and a slash command at once while storing is slow', async () => {
    const locker = new pg.Client({ connectionString: tacit.testDatabase.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table events in access exclusive mode');
    try {
      let started = Date.now();
      const click = await slack.sendInteraction(hook, SIGNING_SECRET, { user_id: 'U0ALICE', channel_id: CHANNEL, message_ts: '1700000000.000100', action_id: 'incident.acknowledge', value: 'inc_none' });
      expect(click.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_500);
      started = Date.now();
      const command = await slack.sendSlashCommand(hook, SIGNING_SECRET, { text: 'help', user_id: 'U0ALICE', channel_id: CHANNEL });
      expect(command.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await locker.query('commit');
      await locker.end();
    }
  });
});
