// A retry after a crash between Slack accepting a post and the outbox recording it finds that post
// however busy the channel or thread got meanwhile: the look-back covers the messages since the first
// attempt, paged to the end, not the last hundred. In the 2026 tier for non-Marketplace apps (one
// history call a minute, 15 messages each) the lookup waits out Slack's 429s and still posts nothing twice.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatRateLimitedError } from '../../../src/chat/errors.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { deliverPaced } from '../../support/delivery.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-lookup-tests';
const WORKSPACE = `slack:${DEFAULT_TEAM.teamId}`;
const CHANNEL = 'C0GENERAL';

async function startSlackTacit(slack: FakeSlack): Promise<{ tacit: TestTacit; pool: pg.Pool }> {
  const tacit = await startTestTacit({
    env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' },
  });
  const pool = new pg.Pool({ connectionString: tacit.testDatabase.url });
  // The workspace as its first event would make it.
  await pool.query(`insert into workspaces (id, platform, name) values ($1, 'slack', 'tacit') on conflict do nothing`, [WORKSPACE]);
  return { tacit, pool };
}

function insertRow(pool: pg.Pool, id: string, key: string, anchor: Record<string, unknown> = { type: 'channel' }) {
  return pool.query(
    `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
     values ($1, $2, $3, 'post', $4, $5, $6, 'notice', true)`,
    [id, WORKSPACE, key, `${WORKSPACE}/${CHANNEL}`, anchor, { text: `note ${key}` }],
  );
}

const postsWithKey = (slack: FakeSlack, key: string) => slack.posts.filter((p) => JSON.stringify(p.metadata ?? {}).includes(`"${key}"`));

describe('the earlier-post lookup on Slack (internal app: the old history tier)', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let pool: pg.Pool;

  beforeAll(async () => {
    slack = await startFakeSlack();
    ({ tacit, pool } = await startSlackTacit(slack));
  });
  afterAll(async () => {
    await pool?.end();
    await tacit?.cleanup();
    await slack?.close();
  });

  it('posts nothing twice when the channel got 500 messages between the crashed attempt and the retry', async () => {
    await insertRow(pool, 'out_busy_channel', 'test:busy-channel');
    slack.crashAfterAccept('chat.postMessage');
    await expect(deliverPaced(tacit.delivery, 'out_busy_channel')).rejects.toThrow(/Slack unreachable/);
    const accepted = postsWithKey(slack, 'test:busy-channel');
    expect(accepted).toHaveLength(1);
    for (let i = 0; i < 500; i++) slack.say(CHANNEL, 'U0ALICE', `chatter ${i}`);
    const historyCalls = slack.calls('conversations.history');

    expect(await deliverPaced(tacit.delivery, 'out_busy_channel')).toBe('already-sent');
    expect(postsWithKey(slack, 'test:busy-channel')).toHaveLength(1);
    const { rows } = await pool.query(`select status, sent_message, first_attempt_at from outbox where id = 'out_busy_channel'`);
    expect(rows[0]).toMatchObject({ status: 'sent', sent_message: { messageId: accepted[0]?.ts } });
    expect(rows[0]?.first_attempt_at).toBeInstanceOf(Date);
    // Paged through the window: 500 newer messages do not fit in one page of 200.
    expect(slack.calls('conversations.history') - historyCalls).toBeGreaterThanOrEqual(3);
  });

  it('posts nothing twice when the thread got 500 replies between the crashed attempt and the retry', async () => {
    const root = slack.say(CHANNEL, 'U0ALICE', 'a busy thread');
    await insertRow(pool, 'out_busy_thread', 'test:busy-thread', { type: 'thread', threadId: root.ts });
    slack.crashAfterAccept('chat.postMessage');
    await expect(deliverPaced(tacit.delivery, 'out_busy_thread')).rejects.toThrow(/Slack unreachable/);
    for (let i = 0; i < 500; i++) slack.say(CHANNEL, 'U0ALICE', `reply ${i}`, { thread_ts: root.ts });

    expect(await deliverPaced(tacit.delivery, 'out_busy_thread')).toBe('already-sent');
    expect(postsWithKey(slack, 'test:busy-thread')).toHaveLength(1);
  });

  it('does not look for an earlier post on a first attempt, and posts once when the earlier attempt never reached Slack', async () => {
    const before = slack.calls('conversations.history');
    await insertRow(pool, 'out_first', 'test:first-attempt');
    expect(await deliverPaced(tacit.delivery, 'out_first')).toBe('sent');
    expect(slack.calls('conversations.history')).toBe(before);

    await insertRow(pool, 'out_refused_first', 'test:refused-first');
    slack.failNext('chat.postMessage', { status: 503 });
    await expect(deliverPaced(tacit.delivery, 'out_refused_first')).rejects.toThrow(/Slack/);
    expect(await deliverPaced(tacit.delivery, 'out_refused_first')).toBe('sent');
    expect(postsWithKey(slack, 'test:refused-first')).toHaveLength(1);
  });
});

describe('the earlier-post lookup on Slack (non-Marketplace app: one history call a minute, 15 messages)', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let pool: pg.Pool;

  beforeAll(async () => {
    // The tier's minute shortened to a second so the test waits seconds, not minutes.
    slack = await startFakeSlack({ historyTier: 'non-marketplace', historyWindowMs: 1_000 });
    ({ tacit, pool } = await startSlackTacit(slack));
  });
  afterAll(async () => {
    await pool?.end();
    await tacit?.cleanup();
    await slack?.close();
  });

  it('answers a second history call within the window with 429 and Retry-After, which the adapter hands back as a wait', async () => {
    const adapter = tacit.adapters.slack;
    if (!adapter) throw new Error('no Slack adapter');
    const query = { channelId: `${WORKSPACE}/${CHANNEL}`, idempotencyKey: 'test:never-posted', since: new Date() };
    const first = await adapter.findPosted(query).catch((err: unknown) => err);
    const second = await adapter.findPosted(query).catch((err: unknown) => err);
    // Whichever call met the window's one request, the other waits.
    const limited = [first, second].find((r) => r instanceof ChatRateLimitedError);
    expect(limited).toBeInstanceOf(ChatRateLimitedError);
    expect((limited as ChatRateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(1_000);
  });

  it('waits out the limit page by page through the outbox and records the earlier post without posting again', async () => {
    await insertRow(pool, 'out_limited', 'test:limited-tier');
    slack.crashAfterAccept('chat.postMessage');
    await expect(deliverPaced(tacit.delivery, 'out_limited')).rejects.toThrow(/Slack unreachable/);
    // 40 newer messages: three pages of 15, one a second.
    for (let i = 0; i < 40; i++) slack.say(CHANNEL, 'U0ALICE', `limited chatter ${i}`);
    const calls = slack.calls('conversations.history');

    await tacit.delivery.enqueue(['out_limited']);
    await waitFor(async () => (await pool.query(`select status from outbox where id = 'out_limited'`)).rows[0]?.status === 'sent', { what: 'the row recorded as sent', timeoutMs: 20_000 });
    expect(postsWithKey(slack, 'test:limited-tier')).toHaveLength(1);
    expect(slack.calls('conversations.history') - calls).toBeGreaterThanOrEqual(3);
    const { rows } = await pool.query(`select status, attempts from outbox where id = 'out_limited'`);
    // Each wait gave its attempt back: the crashed attempt and the one that found the post.
    expect(rows[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });
});
