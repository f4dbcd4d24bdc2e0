// The Slack backfill keeps to the 2026 history limits of non-Marketplace apps (one read a minute
// per method and workspace, at most 15 messages): against a local Slack that enforces that tier, it
// never gets a 429, asks for 15 messages, stops when the run's budget is spent, and stops waiting
// for its next slot when Tacit stops.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backfill, type HistoryBudget } from '../../../src/chat/slack/backfill.js';
import { StaticTokens } from '../../../src/chat/slack/tokens.js';
import type { InboundHandlers, InboundMessage } from '../../../src/chat/port.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { channels, events, workspaces } from '../../../src/db/schema.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const WORKSPACE = `slack:${DEFAULT_TEAM.teamId}`;
const CHANNEL = `${WORKSPACE}/C0GENERAL`;
const WINDOW_MS = 1_000;

describe('the Slack backfill within the history budget', () => {
  let slack: FakeSlack;
  let testDb: TestDatabase;
  let database: Database;
  let fed: InboundMessage[];
  const handlers = (): InboundHandlers => ({
    message: async (m) => void fed.push(m),
    messageChanged: async () => undefined,
    interaction: async () => ({}),
    command: async () => ({}),
    workspaceAdded: async () => undefined,
    workspaceRemoved: async () => undefined,
  });
  const run = (budget: Partial<HistoryBudget>, signal?: AbortSignal) => {
    const client = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    return backfill({
      db: database.db, client, tokens: new StaticTokens(client, DEFAULT_TEAM.botToken), handlers: handlers(), log: createLogger('silent'),
      tier: 'limited', budget, signal,
    });
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
  });
  beforeEach(async () => {
    // A fresh Slack per case, so each starts with its rate-limit window unused.
    await slack?.close();
    slack = await startFakeSlack({ historyTier: 'non-marketplace', historyWindowMs: WINDOW_MS });
    fed = [];
    await database.db.delete(workspaces);
    await database.db.insert(workspaces).values({ id: WORKSPACE, platform: 'slack', name: 'tacit' });
    await database.db.insert(channels).values({ id: CHANNEL, workspaceId: WORKSPACE, name: 'general' });
    const seen = slack.say('C0GENERAL', 'U0ALICE', 'the last message Tacit ingested');
    await database.db.insert(events).values({
      workspaceId: WORKSPACE, kind: 'chat.message', dedupeKey: `chat:${CHANNEL}:${seen.ts}`, occurredAt: new Date(),
      payload: { kind: 'chat.message', channelId: CHANNEL, messageId: seen.ts, threadId: null, author: { id: 'U0ALICE', name: 'alice' }, text: seen.text },
    });
    for (let i = 0; i < 40; i++) slack.say('C0GENERAL', 'U0ALICE', `missed ${i}`);
  });
  afterAll(async () => {
    await slack?.close();
    await database?.close();
    await testDb?.drop();
  });

  it('reads 15 messages a request, one request per window, and never gets a 429', async () => {
    const started = Date.now();
    expect(await run({ requestsPerMinute: 60_000 / WINDOW_MS, requestsPerRun: 5 })).toBe(40);
    expect(slack.calls('conversations.history')).toBe(3); // 15 + 15 + 10, none refused
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * WINDOW_MS - 50);
    expect(new Set(fed.map((m) => m.text)).size).toBe(40);
  });

  it('stops when the run’s budget is spent: best effort, the newest first', async () => {
    expect(await run({ requestsPerMinute: 60_000 / WINDOW_MS, requestsPerRun: 2 })).toBe(30);
    expect(slack.calls('conversations.history')).toBe(2);
    expect(fed.map((m) => m.text)).toContain('missed 39');
    expect(fed.map((m) => m.text)).not.toContain('missed 0');
  });

  it('stops waiting for the next slot when Tacit stops', async () => {
    const stopping = new AbortController();
    const done = run({ requestsPerMinute: 1, requestsPerRun: 5 }, stopping.signal);
    while (slack.calls('conversations.history') < 1) await new Promise((r) => setTimeout(r, 20));
    const stoppedAt = Date.now();
    stopping.abort();
    expect(await done).toBe(15);
    expect(Date.now() - stoppedAt).toBeLessThan(500);
  });
});
