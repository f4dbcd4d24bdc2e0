// Without DATABASE_URL Tacit runs on embedded PGlite: same migrations, same thin slice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { redisUrl } from '../support/env.js';
import { blockTexts, channelMessages, fixture, postAlert } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('on the embedded database (PGlite)', () => {
  let tacit: Tacit;
  const dataDir = mkdtempSync(join(tmpdir(), 'tacit-pglite-'));
  const prefix = testPrefix();

  beforeAll(async () => {
    const config = loadConfig({
      TACIT_DATA_DIR: dataDir, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: '500', LOG_LEVEL: 'silent',
    });
    tacit = await startTacit(config, { logger: createLogger('silent') });
  }, 60_000);
  afterAll(async () => {
    await tacit?.stop();
    await dropPrefix(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates, takes an alert and posts the incident thread, then edits the card on resolve', async () => {
    expect(tacit.database.kind).toBe('pglite');
    const source = tacit.playgroundSource;
    if (!source) throw new Error('playground source missing');
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const parent = await waitFor(
      async () => {
        const messages = await channelMessages(tacit.url);
        const card = messages.find((m) => !m.threadId && m.author.isBot);
        return card && messages.some((m) => m.threadId === card.id) ? card : undefined;
      },
      { what: 'the incident thread', timeoutMs: 15_000 },
    );
    expect(blockTexts(parent)).toContain('Firing');
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/resolved.json'))).status).toBe(200);
    const edited = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.id === parent.id && m.editedAt),
      { what: 'the edited card', timeoutMs: 15_000 },
    );
    expect(edited.text).toContain('Resolved');
  });
});
