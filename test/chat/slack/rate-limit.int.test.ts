// Slack allows about one message per second per channel, with short bursts: the adapter lets a burst
// of three through, then spaces posts per channel and tells the outbox how long to wait, instead of
// provoking 429s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackAdapter } from '../../../src/chat/slack/adapter.js';
import { ChatRateLimitedError } from '../../../src/chat/errors.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';

describe('Slack per-channel pacing', () => {
  let slack: FakeSlack;
  let now = 1_000_000;
  let adapter: SlackAdapter;
  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, channels: [...DEFAULT_TEAM.channels, { id: 'C0OTHER', name: 'other' }] }] });
    adapter = new SlackAdapter({ botToken: DEFAULT_TEAM.botToken, signingSecret: 'x'.repeat(16), apiUrl: slack.apiUrl, log: createLogger('silent'), now: () => now });
  });
  afterAll(() => slack?.close());

  const post = (channel: string, key: string) =>
    adapter.post({ channelId: `slack:${DEFAULT_TEAM.teamId}/${channel}`, message: { text: key }, idempotencyKey: key });

  it('lets a burst of three through, then makes the next post to that channel wait, but not one to another channel', async () => {
    for (const key of ['a1', 'a2', 'a3']) await post('C0GENERAL', key);
    const fourth = post('C0GENERAL', 'a4');
    await expect(fourth).rejects.toBeInstanceOf(ChatRateLimitedError);
    await expect(fourth).rejects.toMatchObject({ retryAfterMs: 1000 });
    await post('C0OTHER', 'c');
    now += 500;
    await expect(post('C0GENERAL', 'a4')).rejects.toMatchObject({ retryAfterMs: 500 });
    now += 500;
    await post('C0GENERAL', 'a4');
    await expect(post('C0GENERAL', 'a5')).rejects.toMatchObject({ retryAfterMs: 1000 });
    expect(slack.posts.map((p) => p.text)).toEqual(['a1', 'a2', 'a3', 'c', 'a4']);
  });
});
