// An operator opens the dashboard in a browser after an incident: the heartbeat timeline, the
// decision with its reasons, and the outbox are there. Also: it is closed to strangers (a login session).
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
  let browser: Browser;
  const adminToken = 'dashboard-admin-token-0123456789';
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: adminToken } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tacit?.cleanup();
  });

  it('sends a browser to the login form, opens with the admin token as the password, and logs out', async () => {
    const anonymous = await fetch(`${tacit.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2F');
    // HTTP Basic is gone: the admin token is only a password for the form, or a bearer token for scripts.
    const basic = await fetch(`${tacit.url}/api/sources`, { headers: { authorization: `Basic ${Buffer.from(`ops:${adminToken}`).toString('base64')}` } });
    expect(basic.status).toBe(401);

    const page = await browser.newPage();
    await page.goto(`${tacit.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByTestId('password').fill('not-the-token');
    await page.getByTestId('login').click();
    await page.getByText('That is not the admin token.').waitFor();
    await page.getByTestId('password').fill(adminToken);
    await page.getByTestId('login').click();
    await page.getByText('Tacit — dashboard').first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'tacit_session', httpOnly: true, sameSite: 'Lax', secure: false });
    expect((cookie?.expires ?? 0) * 1000 - Date.now()).toBeGreaterThan(11.9 * 3600_000);

    await page.getByTestId('logout').click();
    await page.getByTestId('password').waitFor();
    await page.goto(`${tacit.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.close();
  });
});
