// The fake Slack's per-channel chat.postMessage limit (channelPostLimit), as the real WebClient meets it:
// a burst, then 429 with Retry-After per channel, other channels unaffected, a slot back after the interval.
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from './slack.js';

const team = { teamId: 'T0LIMIT', botToken: 'xoxb-limit', botUserId: 'U0BOT', channels: [{ id: 'C0ONE', name: 'one' }, { id: 'C0TWO', name: 'two' }] };
let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(limit?: { intervalMs: number; burst: number }): Promise<{ client: WebClient; slack: FakeSlack }> {
  const slack = await startFakeSlack({ teams: [team], ...(limit ? { channelPostLimit: limit } : {}) });
  fake = slack;
  const client = new WebClient(team.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });
  return { client, slack };
}

describe('fake Slack per-channel posting limit', () => {
  it('accepts a burst per channel, then answers 429 with Retry-After and does not store the post', async () => {
    const { client, slack } = await start({ intervalMs: 1_000, burst: 2 });
    await client.chat.postMessage({ channel: 'C0ONE', text: '1' });
    await client.chat.postMessage({ channel: 'C0ONE', text: '2' });
    await expect(client.chat.postMessage({ channel: 'C0ONE', text: '3' })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    await client.chat.postMessage({ channel: 'C0TWO', text: 'another channel has its own bucket' });
    expect(slack.posts.map((p) => p.text)).toEqual(['1', '2', 'another channel has its own bucket']);
    expect(slack.throttled('chat.postMessage')).toBe(1);
    expect(slack.calls('chat.postMessage')).toBe(4);
    expect(slack.calls()).toBe(4);
  });

  it('gives a slot back after the interval', async () => {
    const { client, slack } = await start({ intervalMs: 100, burst: 1 });
    await client.chat.postMessage({ channel: 'C0ONE', text: 'first' });
    await expect(client.chat.postMessage({ channel: 'C0ONE', text: 'too soon' })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
    await new Promise((r) => setTimeout(r, 150));
    await client.chat.postMessage({ channel: 'C0ONE', text: 'after the interval' });
    expect(slack.posts.map((p) => p.text)).toEqual(['first', 'after the interval']);
  });

  it('is off unless asked for', async () => {
    const { client, slack } = await start();
    for (let i = 0; i < 10; i++) await client.chat.postMessage({ channel: 'C0ONE', text: String(i) });
    expect(slack.posts).toHaveLength(10);
    expect(slack.throttled()).toBe(0);
  });
});
