// A newcomer on the README's defaults (embedded database, playground, no TACIT_SECRET_KEY, nothing
// configured): sends the sample alert, asks for a silence in its thread, approves it as alice, and sees
// the card say Done and Verified — against the playground's demo Alertmanager, with no other setup.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { integrations } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { startTacit } from '../../src/main.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { DEMO_ALERTMANAGER_PATH, DEMO_NOTE, type GettableSilence } from '../../src/chat/playground/demo-alertmanager.js';
import { approvalIdOf, click } from '../actions/support.js';
import { blockTexts, channelMessages, say } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('the playground out of the box', () => {
  let tacit: TestTacit;

  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true });
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
  });

  it('takes a newcomer from the sample alert to a verified silence, approved by alice, with nothing configured', async () => {
    const fired = await fetch(`${tacit.url}/playground/api/sample-alert`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'firing' }) });
    expect(fired.status).toBe(202);
    const card = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.startsWith('Firing')),
      { what: 'the incident card', timeoutMs: 15_000 },
    );
    // People read times, not ISO strings: "07:32 UTC (just now)".
    expect(blockTexts(card)).toMatch(/\d\d:\d\d UTC \(just now\)/);
    expect(blockTexts(card)).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);

    await say(tacit.url, 'bob', '@tacit silence this for 30m', card.id);
    const asked = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.threadId === card.id && m.text.startsWith('Approval needed')),
      { what: 'the approval card', timeoutMs: 15_000 },
    );
    const askedText = blockTexts(asked);
    expect(askedText).toContain('alertname=HighErrorRate');
    expect(askedText).toContain('"label":"Who may approve","value":"alice"');
    expect(askedText).toMatch(/\d\d:\d\d UTC \(in 15 min\)/);

    // bob is not an approver (as the sidebar says); alice is.
    expect(await click(tacit.url, 'bob', asked.id, APPROVE_ACTION_ID, approvalIdOf(asked))).not.toMatch(/^Approved/);
    expect(await click(tacit.url, 'alice', asked.id, APPROVE_ACTION_ID, approvalIdOf(asked))).toMatch(/^Approved/);
    const done = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.id === asked.id && m.text.startsWith('Done')),
      { what: 'the card to show the result', timeoutMs: 15_000 },
    );
    expect(blockTexts(done)).toContain('Verified: silence');

    const silences = (await (await fetch(`${tacit.url}${DEMO_ALERTMANAGER_PATH}/api/v2/silences`)).json()) as GettableSilence[];
    expect(silences).toHaveLength(1);
    expect(silences[0]?.status.state).toBe('active');
    expect(silences[0]?.comment).toContain(DEMO_NOTE);
    expect(silences[0]?.matchers).toContainEqual({ name: 'alertname', value: 'HighErrorRate', isRegex: false, isEqual: true });
    expect(await (await fetch(`${tacit.url}${DEMO_ALERTMANAGER_PATH}`)).text()).toMatch(/demo/i);

    // The generated key is the user's alone, and the embedded database is still ready.
    expect(statSync(join(tacit.testDatabase.name, 'secret.key')).mode & 0o777).toBe(0o600);
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(200);
  });
});

describe('the playground key when TACIT_SECRET_KEY is unset', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tacit-playground-key-'));
  const prefix = testPrefix();
  afterAll(async () => {
    await dropPrefix(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start() {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done(); } });
    const config = loadConfig({ TACIT_DATA_DIR: dataDir, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const tacit = await startTacit(config, { logger: createLogger('info', sink), sweepIntervalMs: 1_000 });
    const messages = () => lines.map((l) => String((JSON.parse(l) as { msg?: string }).msg));
    return { tacit, messages };
  }

  it('is generated once under TACIT_DATA_DIR, said so in the log, and reused after a restart', async () => {
    const first = await start();
    const key = readFileSync(join(dataDir, 'secret.key'), 'utf8');
    expect(first.messages().some((m) => m.startsWith('TACIT_SECRET_KEY is not set: generated a local key'))).toBe(true);
    expect(first.messages()).toContain('playground approver policy set: alice may approve (as the sidebar says)');
    await first.tacit.stop();

    const second = await start();
    try {
      expect(readFileSync(join(dataDir, 'secret.key'), 'utf8')).toBe(key);
      expect(second.messages()).toContain('TACIT_SECRET_KEY is not set: using the local playground key');
      // The demo integration follows this start's port.
      const [demo] = await second.tacit.database.db.select().from(integrations).where(eq(integrations.kind, 'alertmanager'));
      expect(demo?.settings.url).toBe(`${second.tacit.url}${DEMO_ALERTMANAGER_PATH}`);
    } finally {
      await second.tacit.stop();
    }
  }, 60_000);

  it('is not generated outside playground mode', async () => {
    const tacit = await startTestTacit({ embedded: true, env: { TACIT_PLAYGROUND: 'off' } });
    try {
      expect(existsSync(join(tacit.testDatabase.name, 'secret.key'))).toBe(false);
    } finally {
      await tacit.cleanup();
    }
  }, 60_000);
});
