// The daily digest: set with a command, posted once in the digest hour (local time), in the channel
// where it was set up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tacitCommand } from '../support/commands.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('the daily digest', () => {
  let tacit: TestTacit;
  // 09:30 in Berlin: inside a 9 o'clock digest hour there.
  const clock = { now: () => new Date('2026-11-28T08:30:00Z') };
  beforeAll(async () => {
    tacit = await startTestTacit({ overrides: { clock } });
  });
  afterAll(() => tacit?.cleanup());

  it('is posted once during its hour, summarising the last 24 hours', async () => {
    const source = tacit.playgroundSource;
    const alert = JSON.parse(fixture('alertmanager/firing.json').toString());
    alert.alerts[0].startsAt = '2026-11-28T07:00:00Z';
    await postAlert(tacit.url, source?.id ?? '', source?.token, JSON.stringify(alert));
    await waitFor(async () => (await channelMessages(tacit.url)).some((m) => m.author.isBot && !m.threadId), { what: 'the incident card' });

    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours 23:00-06:00 Europe/Berlin')).toMatch(/^Quiet hours set/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit digest 9')).toBe('Daily digest at 9:00 Europe/Berlin, in this channel.');
    const digest = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.text.startsWith('*Daily digest for 2026-11-28*')), {
      what: 'the digest',
    });
    expect(digest.threadId).toBeNull();
    expect(digest.text).toContain('Opened (1):\n• Pod is crash looping. (critical)');
    expect(digest.text).toContain('Still open (1)');

    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 4, { what: 'more ticks' });
    expect((await channelMessages(tacit.url)).filter((m) => m.text.startsWith('*Daily digest'))).toHaveLength(1);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit digest 24')).toMatch(/0–23/);
  });
});
