// On the README's default path (no DATABASE_URL: embedded PGlite, one connection), a person asks for a
// silence in an incident's thread, an approver approves it, the silence runs and is verified, and the
// embedded database stays ready throughout: no query may wait for the transaction it runs inside.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { redisUrl } from '../support/env.js';
import { channelMessages, fixture, postAlert, say } from '../support/playground.js';
import { dropPrefix, testPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { api, approvalIdOf, click } from './support.js';

describe('approvals on the embedded database (PGlite)', () => {
  let tacit: Tacit;
  let alertmanager: FakeAlertmanager;
  const dataDir = mkdtempSync(join(tmpdir(), 'tacit-pglite-approvals-'));
  const prefix = testPrefix();

  beforeAll(async () => {
    alertmanager = await startFakeAlertmanager();
    const config = loadConfig({
      TACIT_DATA_DIR: dataDir, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: '500', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      TACIT_SECRET_KEY: 'embedded-approvals-secret-key-0123456789ab',
    });
    tacit = await startTacit(config, { logger: createLogger(config.logLevel), sweepIntervalMs: 1_000 });
    expect((await api(tacit.url, 'PUT', '/api/workspaces/playground:local/integrations/alertmanager/default', { settings: { url: alertmanager.url } })).status).toBe(200);
    expect((await api(tacit.url, 'PUT', '/api/workspaces/playground:local/approvers', { users: ['alice'] })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await tacit?.stop();
    await alertmanager?.close();
    await dropPrefix(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes a silence request, runs it once on approval, verifies it, and stays ready', async () => {
    expect(tacit.database.kind).toBe('pglite');
    const source = tacit.playgroundSource;
    if (!source) throw new Error('playground source missing');
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const card = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes('Firing')),
      { what: 'the incident card', timeoutMs: 15_000 },
    );

    await say(tacit.url, 'bob', '@tacit silence this for 30m', card.id);
    const asked = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.threadId === card.id && m.text.startsWith('Approval needed')),
      { what: 'the approval card', timeoutMs: 15_000 },
    );
    // Still answering while the request was taken: the database was never held.
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(200);

    const id = approvalIdOf(asked);
    expect(await click(tacit.url, 'alice', asked.id, APPROVE_ACTION_ID, id)).toMatch(/^Approved/);
    const done = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.id === asked.id && m.text.startsWith('Done')),
      { what: 'the card to show the result', timeoutMs: 15_000 },
    );
    expect(JSON.stringify(done.blocks)).toContain('Verified: silence');
    expect(alertmanager.silences).toHaveLength(1);
    expect(alertmanager.silences[0]?.matchers.some((m) => m.name === 'alertname')).toBe(true);

    // Afterwards the embedded database still answers: readiness, metrics and a new webhook.
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${tacit.url}/metrics`)).status).toBe(200);
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/resolved.json'))).status).toBe(200);
  });
});
