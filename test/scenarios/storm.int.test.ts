// User story: one database goes down and 30 services alert within 20 s. The channel gets one storm
// card listing them (edited in place as they resolve) and one summary naming what they share — not
// ten cards and then silence when the hourly budget runs out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_ACTION_ID } from '../../src/core/incident-card.js';
import { buttonsOf, click } from '../support/oncall.js';
import { blockTexts, channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const T0 = Date.parse('2026-11-20T09:14:00Z');

function group(n: number, status: 'firing' | 'resolved'): string {
  const d = JSON.parse(fixture(`alertmanager/${status}.json`).toString()) as { groupKey: string; alerts: { startsAt: string; endsAt: string; fingerprint: string; labels: Record<string, string> }[] };
  d.groupKey = `{}:{service="svc${n}"}`;
  for (const a of d.alerts) {
    a.startsAt = new Date(T0 + Math.floor((n * 20_000) / 30)).toISOString();
    a.endsAt = status === 'resolved' ? new Date(T0 + 600_000).toISOString() : '0001-01-01T00:00:00Z';
    a.fingerprint = `fp_svc${n}`;
    a.labels = { ...a.labels, alertname: 'DatabaseUnreachable', service: `svc${n}`, database: 'orders-db' };
  }
  return JSON.stringify(d);
}

describe('an alert storm', () => {
  let tacit: TestTacit;
  let source: { id: string; token: string };
  const topLevel = async () => (await channelMessages(tacit.url)).filter((m) => !m.threadId && m.author.isBot);

  beforeAll(async () => {
    tacit = await startTestTacit();
    if (!tacit.playgroundSource) throw new Error('playground source missing');
    source = tacit.playgroundSource;
  });
  afterAll(() => tacit?.cleanup());

  it('turns 30 alert groups within 20 s into one storm card with one summary, and resolves it in place', async () => {
    for (let n = 0; n < 30; n++) expect((await postAlert(tacit.url, source.id, source.token, group(n, 'firing'))).status).toBe(200);
    const storm = await waitFor(async () => (await topLevel()).find((m) => m.text.includes('Alert storm: 30 incidents')), { what: 'the storm card listing 30 incidents', timeoutMs: 15_000 });
    expect(blockTexts(storm)).toContain('database=orders-db');
    const summary = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === storm.id && m.text.includes('is firing')), { what: 'the storm summary' });
    expect(summary.text).toContain('database=orders-db');
    // The first group may have been read (and carded) before the others arrived: a lone incident never waits.
    const cards = (await topLevel()).filter((m) => m.text.startsWith('Firing') && m.id !== storm.id);
    // While the burst forms, openings wait (storm.burstWaitMs), so at most the very first group got a card.
    expect(cards.length).toBeLessThanOrEqual(1);

    for (let n = 0; n < 30; n++) await postAlert(tacit.url, source.id, source.token, group(n, 'resolved'));
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.id === storm.id && m.text.startsWith('Resolved')), { what: 'the storm card edited to Resolved', timeoutMs: 15_000 });
    const after = await topLevel();
    expect(after.filter((m) => m.text.includes('Alert storm'))).toHaveLength(1);
  });

  it('turns groups arriving one by one over seconds into one storm card, not a card each until the threshold', async () => {
    const other = await startTestTacit();
    try {
      const src = other.playgroundSource;
      if (!src) throw new Error('playground source missing');
      const mine = async () => (await channelMessages(other.url)).filter((m) => !m.threadId && m.author.isBot);
      // Ten groups, one every 600 ms: each tick sees only the few that arrived since the last.
      for (let n = 100; n < 110; n++) {
        expect((await postAlert(other.url, src.id, src.token, group(n, 'firing'))).status).toBe(200);
        await new Promise((r) => setTimeout(r, 600));
      }
      const storm = await waitFor(async () => (await mine()).find((m) => m.text.includes('Alert storm: 10 incidents')), { what: 'the storm card listing 10 incidents', timeoutMs: 20_000 });
      const cards = (await mine()).filter((m) => m.text.startsWith('Firing') && m.id !== storm.id);
      expect(cards.length).toBeLessThanOrEqual(1);
      // Once no member joined for 30 s, the whole list as it stands goes into the storm's thread, once.
      const lists = async () => (await channelMessages(other.url)).filter((m) => m.threadId === storm.id && m.text.includes('All 10 alerts'));
      await waitFor(async () => (await lists()).length === 1, { what: 'the list of all 10 members in the storm thread', timeoutMs: 45_000, intervalMs: 250 });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await lists()).toHaveLength(1);
    } finally {
      await other.cleanup();
    }
  }, 90_000);

  it('still announces a card held back for a forming burst when other news wakes a tick meanwhile', async () => {
    const other = await startTestTacit();
    try {
      const src = other.playgroundSource;
      if (!src) throw new Error('playground source missing');
      const cards = async () => (await channelMessages(other.url)).filter((m) => !m.threadId && m.author.isBot && /^(Firing|Acknowledged)/.test(m.text));
      // Two groups opening together: the second's card waits (burstWaitMs, 10 s) in case a storm forms.
      expect((await postAlert(other.url, src.id, src.token, group(200, 'firing'))).status).toBe(200);
      const first = await waitFor(async () => (await cards())[0], { what: 'the first card' });
      expect((await postAlert(other.url, src.id, src.token, group(201, 'firing'))).status).toBe(200);
      // Meanwhile someone acknowledges the first incident: a tick woken by that, with no opening in it.
      const ack = buttonsOf(first).find((b) => b.actionId === ACK_ACTION_ID);
      if (!ack) throw new Error('no Acknowledge button');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await click(other.url, 'alice', first.id, ack.actionId, ack.value)).toMatch(/^Acknowledged by you/);
      await waitFor(async () => (await channelMessages(other.url)).find((m) => m.id === first.id && m.text.startsWith('Acknowledged')), { what: 'the first card acknowledged' });
      // The held card still comes, once its wait is over.
      await waitFor(async () => (await cards()).length === 2, { what: 'the held card', timeoutMs: 20_000 });
    } finally {
      await other.cleanup();
    }
  }, 60_000);
});
