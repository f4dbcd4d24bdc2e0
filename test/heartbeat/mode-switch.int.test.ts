// Changing TACIT_HEARTBEAT_MODE on a running deployment: the next start removes the other mode's
// beats and plans every workspace the new way, so no workspace beats twice or not at all.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Tacit } from '../../src/main.js';
import { redisUrl } from '../support/env.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('switching the heartbeat mode', () => {
  let first: TestTacit | undefined;
  let second: Tacit | undefined;

  afterAll(async () => {
    await second?.stop();
    await first?.cleanup();
  });

  it('goes from one scheduler per workspace to the sweep, and back, with every workspace beating once', { timeout: 60_000 }, async () => {
    first = await startTestTacit({ env: { TACIT_HEARTBEAT_MODE: 'schedulers' } });
    const workspaces = await first.heartbeat.schedulerCount();
    expect(workspaces).toBeGreaterThan(0); // the playground's
    expect(await first.heartbeat.queue.getJobSchedulersCount()).toBe(workspaces);
    expect(await first.signals.planned()).toBe(0);
    await first.stop();

    const start = (mode: 'sweep' | 'schedulers') => startTacit(loadConfig({
      DATABASE_URL: first?.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: first?.prefix, PORT: '0', HOST: '127.0.0.1',
      TACIT_HEARTBEAT_INTERVAL_MS: '500', LOG_LEVEL: 'silent', TACIT_HEARTBEAT_MODE: mode,
    }), { logger: createLogger('silent') });
    second = await start('sweep');
    expect(second.heartbeat.mode).toBe('sweep');
    expect(await second.heartbeat.queue.getJobSchedulersCount()).toBe(0);
    expect(await second.signals.planned()).toBe(workspaces);
    const ws = 'playground:local';
    const ticks = (await second.signals.counters(ws)).ticks;
    await waitFor(async () => ((await second?.signals.counters(ws))?.ticks ?? 0) >= ticks + 3, { what: 'beats from the sweep', timeoutMs: 10_000 });
    await second.stop();

    second = await start('schedulers');
    expect(await second.signals.planned()).toBe(0);
    expect(await second.heartbeat.queue.getJobSchedulersCount()).toBe(workspaces);
  });
});
