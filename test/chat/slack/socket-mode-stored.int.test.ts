// Socket Mode acknowledges an envelope only after its event is stored: a mention sent while Postgres
// is down gets no ack (so Slack redelivers it), and the redelivery after the database is back is
// acknowledged, stored once and answered.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { startPgProxy, type PgProxy } from '../../support/pg-proxy.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const APP_TOKEN = 'xapp-1-A0TACIT-fake-app-token-stored';

describe('Slack Socket Mode acknowledges after storing', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let proxy: PgProxy;
  let direct: pg.Client;

  beforeAll(async () => {
    proxy = await startPgProxy();
    slack = await startFakeSlack({ appToken: APP_TOKEN });
    tacit = await startTestTacit({
      databaseUrl: (url) => proxy.url(url),
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' },
    });
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

  it('withholds the ack while Postgres is down and answers the redelivered mention once it is back', async () => {
    await slack.socketConnected();
    const said = slack.say('C0GENERAL', 'U0ALICE', `<@${DEFAULT_TEAM.botUserId}> still there?`);
    const envelope = slack.eventEnvelope({ type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: said.text, ts: said.ts });
    await proxy.stop();
    await expect(slack.sendSocket('events_api', envelope)).rejects.toThrow(/no ack/);
    await proxy.start();

    const ack = await slack.sendSocket('events_api', envelope, { retryAttempt: 1, retryReason: 'timeout' });
    expect(ack.envelope_id).toMatch(/^[0-9a-f]{16}$/);
    const reply = await waitFor(() => slack.posts.find((p) => p.thread_ts === said.ts), { what: 'the reply to the redelivered mention', timeoutMs: 20_000 });
    expect(reply.text).toMatch(/open incident|All quiet/);
    const { rows } = await direct.query(`select count(*)::int as n from events where dedupe_key = $1`, [`chat:slack:${DEFAULT_TEAM.teamId}/C0GENERAL:${said.ts}`]);
    expect(rows[0]?.n).toBe(1);
  });
});
