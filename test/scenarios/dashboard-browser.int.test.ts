// An operator opens the dashboard in a browser after an incident: the heartbeat timeline, the
// decision with its reasons, and the outbox are there. Also: it is closed to strangers.
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('the dashboard', () => {
  let tacit: TestTacit;
  let browser: Browser;
  beforeAll(async () => {
    tacit = await startTestTacit();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tacit?.cleanup();
  });

  it('shows the heartbeat timeline, the decision and its reasons, and the outbox', async () => {
    const source = tacit.playgroundSource;
    await postAlert(tacit.url, source?.id ?? '', source?.token, fixture('alertmanager/firing.json'));
    await waitFor(async () => (await channelMessages(tacit.url)).some((m) => m.threadId && m.author.isBot), { what: 'the incident thread' });
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 2, { what: 'a few quiet ticks' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    await page.goto(`${tacit.url}/`);
    const timeline = page.getByTestId('timeline-playground:local');
    await timeline.waitFor();
    expect(await timeline.locator('title').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/spoke/)]));
    const decisions = page.getByTestId('decisions');
    expect(await decisions.textContent()).toContain('incident opened: Pod is crash looping. (critical)');
    expect(await decisions.textContent()).toContain('spoke');
    // The decision that spoke links to its two messages (the card and the thread summary).
    const row = decisions.locator('tr', { hasText: 'incident opened' });
    expect((await row.locator('td').last().textContent())?.trim()).toBe('2');
    expect(await page.getByTestId('outbox').textContent()).toMatch(/sent/i);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    await page.close();
  });
});

describe('the dashboard outside playground mode', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: 'dashboard-admin-token-0123456789' } });
  });
  afterAll(() => tacit?.cleanup());

  it('asks a browser to log in, and opens with the admin token as the password', async () => {
    const anonymous = await fetch(`${tacit.url}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="Tacit"/);
    const auth = `Basic ${Buffer.from('ops:dashboard-admin-token-0123456789').toString('base64')}`;
    const res = await fetch(`${tacit.url}/`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Tacit — dashboard');
  });
});
