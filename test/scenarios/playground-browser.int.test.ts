// A person in a browser: opens the playground, presses "send sample alert", sees the incident card and
// its thread appear, acknowledges it, and sees the card change in place.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

describe('the playground page in headless Chromium', () => {
  let tacit: TestTacit;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    tacit = await startTestTacit();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  });
  afterAll(async () => {
    await browser?.close();
    await tacit?.cleanup();
  });

  it('sends the sample alert with the button and shows the incident thread', async () => {
    await page.goto(`${tacit.url}/playground`);
    await page.getByTestId('who').waitFor();
    await page.getByTestId('send-sample-alert').click();

    const card = page.locator('[data-testid="message"]', { has: page.locator('.block-header', { hasText: /^Firing/ }) });
    await card.waitFor({ timeout: 10_000 });
    const thread = card.locator('[data-testid="thread"] [data-testid="thread-message"]');
    await thread.first().waitFor({ timeout: 10_000 });
    expect(await thread.first().textContent()).toContain('Checkout error rate above 5%');
    expect(await card.locator('.badge').first().textContent()).toBe('BOT');
  });

  it('lets the chosen person acknowledge the incident, and edits the card in place', async () => {
    await page.getByTestId('who').selectOption('alice');
    await page.locator('[data-testid="message"] button[data-action-id="incident.acknowledge"]').click();
    const acked = page.locator('[data-testid="message"]', { hasText: 'Acknowledged by alice' });
    await acked.waitFor({ timeout: 10_000 });
    expect(await acked.locator('.edited').count()).toBe(1);
    expect(await page.locator('.block-header', { hasText: /^Firing/ }).count()).toBe(0);
    expect(await acked.locator('.block-header').first().textContent()).toMatch(/^Acknowledged/);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/playground.png' });
  });

  it('answers a mention typed into the composer, in a thread', async () => {
    await page.getByTestId('composer').fill('@tacit status');
    await page.getByTestId('composer').press('Enter');
    const asked = page.locator('[data-testid="message"]', { hasText: '@tacit status' });
    await asked.locator('[data-testid="thread-message"]', { hasText: 'open incident' }).waitFor({ timeout: 10_000 });
  });
});
