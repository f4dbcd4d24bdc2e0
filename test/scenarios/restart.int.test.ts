// The same incident state never produces two posts, across restarts: Tacit stops after posting an
// incident, the sender repeats itself to a new process, and nothing is posted twice.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('across a restart', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let current: Tacit | undefined;
  const start = async () => {
    const config = loadConfig({
      DATABASE_URL: db.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: '300', LOG_LEVEL: 'silent',
    });
    current = await startTacit(config, { logger: createLogger('silent') });
    return current;
  };
  afterAll(async () => {
    await current?.stop();
    await dropPrefix(prefix);
    await db?.drop();
  });

  it('posts each incident state once, whichever process hears about it', async () => {
    db = await createTestDatabase();
    const first = await start();
    const s1 = first.playgroundSource;
    await postAlert(first.url, s1?.id ?? '', s1?.token, fixture('alertmanager/firing.json'));
    await waitFor(async () => (await channelMessages(first.url)).filter((m) => m.author.isBot).length === 2, { what: 'card and summary' });
    await first.stop();

    const second = await start();
    const s2 = second.playgroundSource; // a fresh token: the playground source rotates it at start
    expect((await (await postAlert(second.url, s2?.id ?? '', s2?.token, fixture('alertmanager/firing.json'))).json())).toMatchObject({ duplicates: 1 });
    await postAlert(second.url, s2?.id ?? '', s2?.token, fixture('alertmanager/resolved.json'));
    await waitFor(async () => (await channelMessages(second.url)).some((m) => m.text.startsWith('Resolved:')), { what: 'the resolution note' });
    const ticks = (await second.signals.counters()).ticks;
    await waitFor(async () => (await second.signals.counters()).ticks >= ticks + 4, { what: 'more ticks' });

    const bot = (await channelMessages(second.url)).filter((m) => m.author.isBot);
    expect(bot.filter((m) => !m.threadId)).toHaveLength(1); // one card, edited
    expect(bot.filter((m) => m.threadId && m.text.includes('is firing'))).toHaveLength(1);
    expect(bot.filter((m) => m.threadId && m.text.startsWith('Resolved:'))).toHaveLength(1);
  });
});
