// The dashboard stays inside the window at laptop and narrow widths, whatever it shows: 200-character
// ids without spaces, long reasons and errors wrap or are cut, and no section scrolls sideways.
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../../src/http/dashboard/data.js';
import { renderDashboard } from '../../src/http/dashboard/page.js';
import { counterNames, type CounterName } from '../../src/heartbeat/signals.js';
import { launchBrowser } from '../support/browser.js';

const now = Date.parse('2026-12-01T07:44:38.000Z');
const ago = (ms: number) => new Date(now - ms).toISOString();
const longId = (prefix: string) => `${prefix}_${'x9f3a7c2'.repeat(25)}`;
function first<T>(items: T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error('empty list');
  return item;
}
const longText = 'the per-channel budget of 20 unsolicited posts an hour is spent for #incidents-production-eu-west-1; '.repeat(4);
const counters = Object.fromEntries(counterNames.map((n) => [n, 1_234_567])) as Record<CounterName, number>;

const data: DashboardData = {
  generatedAt: new Date(now).toISOString(),
  brainError: `claude model ${longId('model')} was refused: 404`,
  workspaces: [{ id: longId('slack:T'), name: `Acme ${longId('name')}`, platform: 'slack', pausedUntil: new Date(now + 12 * 60_000).toISOString(), counters, timeline: [] }],
  decisions: [{
    id: longId('dec'), workspaceId: longId('slack:T'), createdAt: ago(3 * 60_000), trigger: longId('trigger'), brain: longId('claude'),
    outcome: 'vetoed', reasons: [longText, longId('reason')], vetoes: [longText], tokens: 123_456_789, costMicroUsd: 12_345_678, messages: 12,
  }],
  incidents: [{ id: longId('inc'), workspaceId: longId('slack:T'), title: longId('DiskFullOnVolume'), status: 'acknowledged', severity: longId('sev'), flapping: true, startedAt: ago(2 * 3_600_000) }],
  approvals: [{
    id: longId('apr'), workspaceId: longId('slack:T'), action: longId('runbook'), requestedBy: longId('U'), status: 'pending', expiresAt: new Date(now + 15 * 60_000).toISOString(),
    audit: [{ at: ago(60_000), kind: 'refused', actor: longId('U'), detail: longText }],
  }],
  outbox: { pending: 1, sent: 2, skipped: 3, dead: 4, deadRows: [{ id: longId('out'), channelId: longId('C'), lastError: longId('channel_not_found'), createdAt: ago(86_400_000 * 3) }] },
  quarantine: [{ id: 1, sourceId: longId('src'), kind: 'body', eventId: null, reason: longText + longId('json'), bytes: 1_048_576, receivedAt: ago(30_000) }],
  memory: [{
    id: longId('mem'), workspaceId: longId('slack:T'), status: 'stale', topic: longId('topic'), hint: longText, sourceRefs: [longId('event'), longId('approval')],
    staleReason: longId('incident'), verifiedAt: ago(3_600_000), checkedAt: ago(120_000),
  }],
  tables: [{ table: longId('events'), rows: 123_456_789, atLeast: true, bytes: 5 * 1024 ** 3 }],
};

/** What a busy real workspace shows: Slack ids, uuid-based ids, real statuses and a long reason. */
const uuid = '87c803bb-76e5-4928-8541-ecaea51d4f54';
const typical: DashboardData = {
  ...data,
  brainError: null,
  workspaces: [{ id: 'slack:T0123ABCDEF', name: 'Acme Engineering', platform: 'slack', pausedUntil: null, counters, timeline: [] }],
  decisions: [{ ...first(data.decisions), id: `dec_${uuid}`, workspaceId: 'slack:T0123ABCDEF', trigger: 'alert', brain: 'claude', reasons: ['incident opened: Checkout error rate above 5% (critical)', longText], vetoes: [] }],
  incidents: [{ id: `inc_${uuid}`, workspaceId: 'slack:T0123ABCDEF', title: 'Checkout error rate above 5% on checkout-7d9f8:8080', status: 'acknowledged', severity: 'critical', flapping: true, startedAt: ago(2 * 3_600_000) }],
  approvals: [{ id: `apr_${uuid}`, workspaceId: 'slack:T0123ABCDEF', action: 'alertmanager.silence', requestedBy: 'U0123ABCDEF', status: 'executed', expiresAt: ago(-15 * 60_000), audit: [{ at: ago(60_000), kind: 'approved', actor: 'U0456GHIJKL', detail: 'alice' }] }],
  outbox: { ...data.outbox, deadRows: [{ id: `out_${uuid}`, channelId: 'slack:C0123ABCDEF', lastError: 'channel_not_found: the bot is not in this channel', createdAt: ago(3 * 86_400_000) }] },
  quarantine: [{ id: 1, sourceId: `src_${uuid}`, kind: 'body', eventId: null, reason: 'not JSON: Unexpected token < in JSON at position 0', bytes: 2048, receivedAt: ago(30_000) }],
  memory: [{ ...first(data.memory), id: `mem_${uuid}`, workspaceId: 'slack:T0123ABCDEF', topic: 'checkout', sourceRefs: [`event:123456`, `approval:apr_${uuid}`], staleReason: null }],
  tables: [{ table: 'events', rows: 123_456_789, atLeast: true, bytes: 5 * 1024 ** 3 }],
};

describe('the dashboard layout in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function layout(dashboard: DashboardData, width: number, shot: string) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.setContent(renderDashboard(dashboard));
    // Measured in the page (a string: the tests compile without the DOM library).
    const measured = (await page.evaluate(`(() => {
      const wide = [...document.querySelectorAll('.card, main')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.tagName.toLowerCase() + '[' + (e.dataset.testid || '') + '] ' + e.scrollWidth + '>' + e.clientWidth);
      // A table that still cannot fit scrolls inside its card, never the page: measured, not hidden.
      const scrolled = [...document.querySelectorAll('.table-wrap')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => (e.closest('section')?.dataset.testid || '?') + ' ' + e.scrollWidth + '>' + e.clientWidth);
      return { sideways: document.documentElement.scrollWidth - window.innerWidth, wide, scrolled };
    })()`)) as { sideways: number; wide: string[]; scrolled: string[] };
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: `test-results/${shot}.png`, fullPage: true });
    console.log(`${shot}: tables scrolling inside their card: ${measured.scrolled.join(', ') || 'none'}`);
    return { page, ...measured };
  }

  for (const width of [1280, 800]) {
    it(`keeps ${width} px wide with 200-character ids, reasons and errors: they wrap, nothing pushes the page sideways`, async () => {
      const { page, wide, sideways } = await layout(data, width, `dashboard-layout-long-${width}`);
      expect(wide).toEqual([]);
      expect(sideways).toBeLessThanOrEqual(0);
      await page.close();
    });

    it(`fits a busy real workspace in ${width} px without any table scrolling, times relative with the absolute in the title`, async () => {
      const { page, wide, scrolled, sideways } = await layout(typical, width, `dashboard-layout-${width}`);
      expect(wide).toEqual([]);
      expect(sideways).toBeLessThanOrEqual(0);
      expect(scrolled).toEqual([]);
      const decided = page.getByTestId('decisions').locator('time').first();
      expect(await decided.textContent()).toBe('3 min ago');
      expect(await decided.getAttribute('title')).toBe('2026-12-01 07:41:38 UTC');
      expect(await page.getByTestId('approvals').locator('time').first().textContent()).toBe('in 15 min');
      await page.close();
    });
  }
});
