// Through the real Bolt app and Web API client against a local Slack: a mention is answered in its
// thread, an alert becomes a card (edited on resolve) with its summary in the thread, a forged or
// stale request is refused, a retried event has one effect, and a crash after Slack accepted a post
// does not post it twice.
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events as eventsTable } from '../../../src/db/schema.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { deliverPaced } from '../../support/delivery.js';
import { waitFor } from '../../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123';

describe('Slack, through Bolt and a local Slack', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let events: string;

  beforeAll(async () => {
    slack = await startFakeSlack();
    tacit = await startTestTacit({
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'on' },
    });
    events = `${tacit.url}/slack/events`;
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
  });

  it('answers a mention in its thread, and a retried delivery has one effect', async () => {
    const said = slack.say('C0GENERAL', 'U0ALICE', '<@U0TACITBOT> status?');
    const event = { type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: said.text, ts: said.ts };
    expect((await slack.sendEvent(events, SIGNING_SECRET, event, { eventId: 'Ev1' })).status).toBe(200);
    expect((await slack.sendEvent(events, SIGNING_SECRET, event, { eventId: 'Ev1', retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    const reply = await waitFor(() => slack.posts.find((p) => p.thread_ts === said.ts), { what: 'a reply in the thread' });
    expect(reply.text).toMatch(/open incident|All quiet/);
    // Streamed answers take no unfurl flags (Tacit streams only answers without links); posts turn unfurls off.
    expect(reply.unfurl_links === false || slack.streams.some((s) => s.ts === reply.ts)).toBe(true);
    const ticks = (await tacit.signals.counters()).replies;
    expect(ticks).toBe(1);
    expect(slack.posts.filter((p) => p.thread_ts === said.ts)).toHaveLength(1);
  });

  it('applies a person’s edit to the stored message, and a deletion removes its text', async () => {
    const said = slack.say('C0GENERAL', 'U0ALICE', 'deploying v42 now');
    await slack.sendEvent(events, SIGNING_SECRET, { type: 'message', channel: 'C0GENERAL', user: 'U0ALICE', text: said.text, ts: said.ts });
    const stored = async () => {
      const rows = await tacit.database.db.select().from(eventsTable).where(eq(eventsTable.dedupeKey, `chat:slack:${DEFAULT_TEAM.teamId}/C0GENERAL:${said.ts}`));
      return rows[0]?.payload as { text: string; edited?: boolean; deleted?: boolean } | undefined;
    };
    await waitFor(stored, { what: 'the message stored' });
    await slack.sendEvent(events, SIGNING_SECRET, {
      type: 'message', subtype: 'message_changed', channel: 'C0GENERAL', ts: '1999999999.000100',
      message: { type: 'message', user: 'U0ALICE', text: 'deploying v43 now', ts: said.ts, edited: { user: 'U0ALICE', ts: '1999999999.000100' } },
      previous_message: { type: 'message', user: 'U0ALICE', text: said.text, ts: said.ts },
    });
    await waitFor(async () => (await stored())?.text === 'deploying v43 now', { what: 'the edit applied' });
    expect((await stored())?.edited).toBe(true);
    await slack.sendEvent(events, SIGNING_SECRET, { type: 'message', subtype: 'message_deleted', channel: 'C0GENERAL', ts: '1999999999.000200', deleted_ts: said.ts, previous_message: { type: 'message', user: 'U0ALICE', text: 'deploying v43 now', ts: said.ts } });
    await waitFor(async () => (await stored())?.deleted === true, { what: 'the deletion applied' });
    expect((await stored())?.text).toBe('');
  });

  it('refuses a forged signature and a stale timestamp with 401', async () => {
    const event = { type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: 'hi', ts: '1.1' };
    expect((await slack.sendEvent(events, 'not-the-secret', event)).status).toBe(401);
    expect((await slack.sendEvent(events, SIGNING_SECRET, event, { timestampSkewSeconds: -600 })).status).toBe(401);
  });

  it('connects an alert source from the slash command, then posts the incident card and edits it on resolve', async () => {
    const res = await slack.sendSlashCommand(events, SIGNING_SECRET, { text: 'connect alertmanager', user_id: 'U0ALICE', user_name: 'alice', channel_id: 'C0GENERAL' });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => JSON.stringify(r.body).includes('Connected an? alertmanager'.replace('an? ', 'a '))), { what: 'the private answer' });
    const text = JSON.stringify(answer.body);
    const url = /URL: (\S+?)\\n/.exec(text)?.[1] ?? '';
    const token = /Token: (\S+?)\\n/.exec(text)?.[1] ?? '';
    expect(url).toContain('/hooks/alerts/');
    expect(JSON.stringify(answer.body)).toContain('ephemeral');

    const source = url.split('/').pop() ?? '';
    expect((await postAlert(tacit.url, source, token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const card = await waitFor(() => slack.posts.find((p) => !p.thread_ts && (p.text ?? '').includes('Firing')), { what: 'the card' });
    expect(card.metadata?.event_type).toBe('tacit_outbox');
    await waitFor(() => slack.posts.find((p) => p.thread_ts === card.ts && (p.text ?? '').includes('is firing')), { what: 'the thread summary' });
    await postAlert(tacit.url, source, token, fixture('alertmanager/resolved.json'));
    await waitFor(() => slack.updates.find((u) => u.ts === card.ts && (u.text ?? '').includes('Resolved')), { what: 'the card edited' });
  });

  it('does not post twice when a crash hits between Slack accepting a post and the outbox recording it', async () => {
    const pool = new pg.Pool({ connectionString: tacit.testDatabase.url });
    try {
      const insert = (id: string, key: string) =>
        pool.query(
          `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
           values ($1, 'slack:T0TACIT01', $2, 'post', 'slack:T0TACIT01/C0GENERAL', '{"type":"channel"}', $3, 'notice', true)`,
          [id, key, { text: `note ${key}` }],
        );
      // Direct calls wait out the adapter's one-post-per-second pacing, as the outbox would.
      const deliver = (id: string) => deliverPaced(tacit.delivery, id);
      await insert('out_slack_crash', 'test:slack-crash');
      slack.crashAfterAccept('chat.postMessage');
      await expect(deliver('out_slack_crash')).rejects.toThrow(/Slack unreachable/);
      expect(await deliver('out_slack_crash')).toBe('already-sent');
      expect(slack.posts.filter((p) => p.metadata && JSON.stringify(p.metadata).includes('test:slack-crash'))).toHaveLength(1);

      // A 429 storm delays the post and loses nothing.
      await insert('out_slack_429', 'test:slack-429');
      slack.rateLimit('chat.postMessage', { times: 2, retryAfterSeconds: 1 });
      await tacit.delivery.enqueue(['out_slack_429']);
      await waitFor(async () => (await pool.query(`select status from outbox where id = 'out_slack_429'`)).rows[0]?.status === 'sent', { what: 'the rate-limited post', timeoutMs: 15_000 });
      expect(slack.posts.filter((p) => JSON.stringify(p.metadata ?? {}).includes('test:slack-429'))).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});
