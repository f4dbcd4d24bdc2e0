// On the embedded database (PGlite, one connection): an incident declared by hand and one from a
// sender that never says "resolved" behave like alert-born ones — a card, a thread, edits in place —
// and the silent one resolves itself after the workspace's silence, announced in its thread.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/chat/playground/types.js';
import type { Clock } from '../../src/core/clock.js';
import { incidents, incidentSteps } from '../../src/db/schema.js';
import { recommendedMappings } from '../../src/sources/alerts/generic.js';
import { blockTexts, channelMessages, fixture } from '../support/playground.js';
import { post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';
import { buttonsOf, click, command } from '../support/oncall.js';

const HOUR = 3_600_000;

describe('declared and auto-resolved incidents, on the embedded database', () => {
  let tacit: TestTacit;
  const clock: Clock & { offsetMs: number } = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };

  const message = async (what: string, pick: (ms: WireMessage[]) => WireMessage | undefined): Promise<WireMessage> =>
    waitFor(async () => pick(await channelMessages(tacit.url)), { what, timeoutMs: 15_000 });

  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true, overrides: { clock } });
  }, 60_000);
  afterAll(() => tacit?.cleanup());

  it('opens a declared incident with a card and a thread, and resolves it with a note', async () => {
    const answer = await command(tacit.url, 'bob', 'incident declare Checkout is slow for EU customers critical');
    expect(answer).toMatch(/^Declared inc_[0-9a-f]{8}: Checkout is slow for EU customers \(critical\)/);

    const card = await message('the declared incident card', (ms) => ms.find((m) => !m.threadId && m.author.isBot && m.text.includes('Checkout is slow')));
    expect(card.text).toBe('Firing: Checkout is slow for EU customers (critical)');
    expect(blockTexts(card)).toContain('Declared by');
    expect(blockTexts(card)).toContain('bob');
    expect(buttonsOf(card).map((b) => b.label)).toEqual(['Acknowledge', 'Resolve']);
    await message('a summary in its thread', (ms) => ms.find((m) => m.threadId === card.id && m.text.includes('is firing (critical)')));
    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.id, buttonsOf(card)[0]?.value ?? ''));
    expect(row).toMatchObject({ kind: 'declared', declaredBy: 'bob', status: 'firing' });

    // Acknowledged from the card like any other; no source to tell, and the card says who.
    expect(await click(tacit.url, 'alice', card.id, 'incident.acknowledge', row?.id ?? '')).toMatch(/^Acknowledged by you/);
    await message('the card acknowledged', (ms) => ms.find((m) => m.id === card.id && m.text.startsWith('Acknowledged') && blockTexts(m).includes('Acknowledged by alice')));

    expect(await command(tacit.url, 'alice', 'resolve rolled back the CDN config')).toMatch(/^Resolved by you: Checkout is slow/);
    const resolved = await message('the card resolved', (ms) => ms.find((m) => m.id === card.id && m.text.startsWith('Resolved')));
    expect(buttonsOf(resolved)).toEqual([]);
    expect(blockTexts(resolved)).toContain('Resolved by alice');
    const note = await message('the resolve note', (ms) => ms.find((m) => m.threadId === card.id && m.text.startsWith('Resolved by alice')));
    expect(note.text).toBe('Resolved by alice: rolled back the CDN config');
    expect((await channelMessages(tacit.url)).filter((m) => !m.threadId && m.author.isBot && m.text.includes('Checkout is slow'))).toHaveLength(1);
    const steps = await tacit.database.db.select().from(incidentSteps).where(eq(incidentSteps.incidentId, row?.id ?? ''));
    expect(steps.map((s) => s.kind)).toEqual(['declared', 'acknowledged', 'resolved']);
    expect(await command(tacit.url, 'alice', 'resolve')).toMatch(/no open incident/);
  });

  it('auto-resolves a generic alert after 4 h without news, announced in its thread, the card edited', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'generic', settings: { mapping: recommendedMappings.datadog.mapping } });
    const body = fixture('generic/datadog.triggered.json').toString();
    expect((await post(source.url, body, { 'content-type': 'application/json', authorization: `Bearer ${source.token ?? ''}` })).status).toBe(200);
    const card = await message('the generic incident card', (ms) => ms.find((m) => !m.threadId && m.author.isBot && m.text.includes('Checkout p95 latency')));
    expect(card.text).toMatch(/^Firing/);

    // Three hours of silence: still open.
    clock.offsetMs = 3 * HOUR;
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'three more ticks' });
    expect((await channelMessages(tacit.url)).find((m) => m.id === card.id)?.text).toMatch(/^Firing/);

    clock.offsetMs = 4 * HOUR + 60_000;
    const resolved = await message('the card auto-resolved', (ms) => ms.find((m) => m.id === card.id && m.text.startsWith('Resolved')));
    expect(buttonsOf(resolved)).toEqual([]);
    const note = await message('the auto-resolve note', (ms) => ms.find((m) => m.threadId === card.id && m.text.startsWith('Auto-resolved')));
    expect(note.text).toMatch(/^Auto-resolved: no alert for 4 h\./);
    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, '[P1] [Triggered on {service:checkout}] Checkout p95 latency above 2s'));
    expect(row?.status).toBe('resolved');
  });
});
