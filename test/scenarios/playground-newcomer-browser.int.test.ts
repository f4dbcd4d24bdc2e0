// The newcomer's story in a browser, on the defaults (embedded database, no key, nothing configured):
// send the sample alert, ask for a silence in its thread, approve it as alice, see Done and Verified.
// Private answers (to a command, to a refused click) stay on the page while the live view re-renders.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('the playground out of the box, in headless Chromium', () => {
  let tacit: TestTacit;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tacit?.cleanup();
  });

  const card = () => page.locator('[data-testid="message"]', { has: page.locator('.block-header', { hasText: /^(Firing|Acknowledged)/ }) });
  const approval = () => page.locator('[data-testid="thread-message"]', { has: page.locator('.block-header', { hasText: /alertmanager\.silence/ }) });

  it('keeps the answer to a command on the page while new messages re-render it', async () => {
    await page.goto(`${tacit.url}/playground`);
    await page.getByTestId('who').waitFor();
    await page.getByTestId('who').selectOption('bob');
    await page.getByTestId('composer').fill('/tacit status');
    await page.getByTestId('composer').press('Enter');
    const answer = page.getByTestId('private-message');
    await answer.first().waitFor({ timeout: 10_000 });
    const text = await answer.first().textContent();

    // The alert's card and thread arrive over the live view, re-rendering the list each time.
    await page.getByTestId('send-sample-alert').click();
    await card().locator('[data-testid="thread-message"]').first().waitFor({ timeout: 15_000 });
    expect(await answer.count()).toBe(1);
    expect(await answer.first().textContent()).toBe(text);
    await expect.poll(() => card().locator('.fields').first().textContent()).toMatch(/\d\d:\d\d UTC \((just now|1 min ago)\)/);
    mkdirSync('test-results', { recursive: true });
    await card().screenshot({ path: 'test-results/playground-incident-card.png' });
  });

  it('asks for the silence in the thread, refuses bob, and shows alice the card Done and Verified', async () => {
    await card().getByRole('button', { name: /Reply in thread/ }).click();
    await page.getByTestId('composer').fill('@tacit silence this for 30m');
    await page.getByTestId('composer').press('Enter');
    await approval().waitFor({ timeout: 15_000 });
    expect(await approval().textContent()).toContain('alertname=HighErrorRate');

    // bob is not an approver: his private answer sits under the card and outlives the re-renders.
    await approval().locator('button[data-action-id="approval.approve"]').click();
    const refused = page.locator(`[data-testid="private-message"][data-answers]`);
    await refused.waitFor({ timeout: 10_000 });
    const refusal = await refused.textContent();

    await page.getByTestId('who').selectOption('alice');
    expect(await refused.count()).toBe(0); // bob's answer is bob's
    await approval().locator('button[data-action-id="approval.approve"]').click();
    const done = page.locator('[data-testid="thread-message"]', { has: page.locator('.block-header', { hasText: /^Done: alertmanager\.silence/ }) });
    await done.waitFor({ timeout: 15_000 });
    expect(await done.textContent()).toContain('Verified: silence');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/playground-newcomer.png', fullPage: true });

    await page.getByTestId('who').selectOption('bob');
    expect(await refused.textContent()).toBe(refusal);
    await page.reload();
    await page.locator(`[data-testid="private-message"][data-answers]`).waitFor({ timeout: 10_000 });
  });

  it('lists the silence on the demo Alertmanager page, labelled as a demo', async () => {
    const [demo] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('demo-alertmanager').click()]);
    await demo.waitForLoadState();
    const body = await demo.locator('body').textContent();
    expect(body).toContain('Demo Alertmanager');
    expect(body).toContain('alertname=HighErrorRate');
    expect(body).toContain('active');
  });
});
