// Acknowledge on the card is carried to PagerDuty through the stand-in: exactly once whatever the
// clicks, as the person who clicked, and a refusal shows on the card instead of vanishing.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/chat/playground/types.js';
import { ACK_ACTION_ID } from '../../src/core/incident-card.js';
import { incidents, incidentSteps } from '../../src/db/schema.js';
import { patchWorkspaceSettings } from '../../src/db/workspace-settings.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';
import { buttonsOf, click } from '../support/oncall.js';
import { blockTexts, channelMessages, fixture } from '../support/playground.js';
import { pagerDutyHeaders, post } from '../support/sign.js';
import { createSourceViaApi, type CreatedSource } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'pd-rest-token-for-oncall-tests';
const WS = 'playground:local';

let opened = 0;
function triggered(id: string, title: string): string {
  const body = JSON.parse(fixture('pagerduty/incident.triggered.json').toString()) as { event: { id: string; data: { id: string; title: string; created_at: string } } };
  // Minutes apart: incidents starting together would be held as a forming storm.
  body.event.data.created_at = new Date(Date.now() - 3_600_000 + 5 * 60_000 * opened++).toISOString();
  body.event.id = `evt-${id}`;
  body.event.data.id = id;
  body.event.data.title = title;
  return JSON.stringify(body);
}

describe('acknowledging a PagerDuty incident from its card', () => {
  let tacit: TestTacit;
  let pagerduty: FakePagerduty;
  let source: CreatedSource;
  const secret = 'pd-webhook-secret-oncall';

  const putIntegration = async (token: string) => {
    const res = await fetch(`${tacit.url}/api/workspaces/${WS}/integrations/pagerduty/default`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { apiUrl: pagerduty.apiUrl, fromEmail: 'oncall@example.com' }, secrets: { token } }),
    });
    expect(res.status).toBeLessThan(300);
  };

  const cardOf = async (title: string): Promise<WireMessage> =>
    waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes(title)), { what: `the card of ${title}` });

  const openIncident = async (id: string, title: string): Promise<{ card: WireMessage; incidentId: string }> => {
    pagerduty.incidents.set(id, { id, status: 'triggered' });
    const body = triggered(id, title);
    expect((await post(source.url, body, pagerDutyHeaders([secret], body))).status).toBe(200);
    const card = await cardOf(title);
    const [row] = await tacit.database.db.select({ id: incidents.id }).from(incidents).where(eq(incidents.title, title));
    return { card, incidentId: row?.id ?? '' };
  };

  beforeAll(async () => {
    pagerduty = await startFakePagerduty({ token: TOKEN, users: ['alice@example.com', 'oncall@example.com'] });
    tacit = await startTestTacit();
    source = await createSourceViaApi(tacit.url, { kind: 'pagerduty', secret });
    await putIntegration(TOKEN);
    // alice acknowledges as herself in PagerDuty; bob has no PagerDuty login here.
    await patchWorkspaceSettings(tacit.database.db, WS, { oncallSync: { pagerdutyEmails: { alice: 'alice@example.com' } } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await pagerduty?.close();
  });

  it('acknowledges in PagerDuty exactly once for a double click and a second person, and says so on the card', async () => {
    const { card, incidentId } = await openIncident('Q1ONCALL01', 'Checkout error rate above 5%');
    const ack = buttonsOf(card).find((b) => b.actionId === ACK_ACTION_ID);
    expect(ack?.value).toBe(incidentId);

    const answers = await Promise.all([
      click(tacit.url, 'alice', card.id, ACK_ACTION_ID, incidentId),
      click(tacit.url, 'alice', card.id, ACK_ACTION_ID, incidentId),
      click(tacit.url, 'bob', card.id, ACK_ACTION_ID, incidentId),
    ]);
    expect(answers.filter((a) => a.startsWith('Acknowledged by you'))).toHaveLength(1);
    expect(answers.filter((a) => /Already acknowledged by|already acknowledged/.test(a))).toHaveLength(2);

    const edited = await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m && blockTexts(m).includes('acknowledged in PagerDuty by') ? m : undefined;
    }, { what: 'the card to show the PagerDuty acknowledgement' });
    const winner = answers.some((a) => a.startsWith('Acknowledged by you') && a.includes('by alice')) ? 'alice' : 'bob';
    expect(blockTexts(edited)).toContain(`Acknowledged by ${winner}`);
    expect(blockTexts(edited)).toContain(`acknowledged in PagerDuty by ${winner}`);
    expect(blockTexts(edited)).not.toContain('"Acknowledge"');
    expect(edited.text).toMatch(/^Acknowledged/);

    const puts = pagerduty.calls.filter((c) => c.method === 'PUT' && c.path === '/incidents/Q1ONCALL01');
    expect(puts).toHaveLength(1);
    expect(pagerduty.updates).toEqual([{ id: 'Q1ONCALL01', status: 'acknowledged', from: winner === 'alice' ? 'alice@example.com' : 'oncall@example.com' }]);
    const steps = await tacit.database.db.select().from(incidentSteps).where(eq(incidentSteps.incidentId, incidentId));
    expect(steps.map((s) => s.kind).sort()).toEqual(['ack.pagerduty', 'acknowledged']);
    expect(steps.find((s) => s.kind === 'ack.pagerduty')?.detail).toMatchObject({ state: 'accepted' });
  });

  it('shows on the card that PagerDuty refused a bad token, and calls it once', async () => {
    await putIntegration('not-the-token');
    const { card, incidentId } = await openIncident('Q1ONCALL02', 'Payments queue backlog');
    expect(await click(tacit.url, 'alice', card.id, ACK_ACTION_ID, incidentId)).toMatch(/PagerDuty refused: 401 Unauthorized/);
    const edited = await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m && blockTexts(m).includes('PagerDuty refused') ? m : undefined;
    }, { what: 'the refusal on the card' });
    expect(blockTexts(edited)).toContain('Acknowledged by alice');
    expect(blockTexts(edited)).toContain('PagerDuty refused: 401 Unauthorized — check the API token of the integration');
    expect(pagerduty.calls.filter((c) => c.path === '/incidents/Q1ONCALL02').map((c) => c.status)).toEqual([401]);
    expect(pagerduty.incidents.get('Q1ONCALL02')?.status).toBe('triggered');
    const [row] = await tacit.database.db.select({ status: incidents.status }).from(incidents).where(and(eq(incidents.id, incidentId)));
    expect(row?.status).toBe('acknowledged'); // Tacit's own acknowledgement stands; the card says PagerDuty did not take it
    await putIntegration(TOKEN);
  });

  it('finishes an acknowledgement a dead process left "sending", without calling PagerDuty again when it took it', async () => {
    const { card, incidentId } = await openIncident('Q1ONCALL04', 'Cart service 5xx');
    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.id, incidentId));
    const occurrence = row?.startedAt.toISOString() ?? '';
    // As a process that claimed the click and died right after PagerDuty took the call.
    pagerduty.incidents.set('Q1ONCALL04', { id: 'Q1ONCALL04', status: 'acknowledged' });
    const claim = { occurrence, by: { id: 'alice', name: 'alice' }, at: new Date(Date.now() - 5 * 60_000).toISOString(), sources: { pagerduty: { state: 'sending', detail: '' } } };
    await tacit.database.db.update(incidents).set({ sourceSync: { ack: claim } }).where(eq(incidents.id, incidentId));
    const before = pagerduty.calls.length;

    expect(await tacit.oncall.reconcile()).toBe(1);
    expect(pagerduty.calls.slice(before).map((c) => c.method)).toEqual(['GET']);
    const [after] = await tacit.database.db.select({ sourceSync: incidents.sourceSync }).from(incidents).where(eq(incidents.id, incidentId));
    expect(after?.sourceSync).toMatchObject({ ack: { sources: { pagerduty: { state: 'accepted', detail: 'acknowledged in PagerDuty by alice' } } } });
    expect(await tacit.oncall.reconcile()).toBe(0);
    // A click now finds the claim taken: still no second PUT.
    expect(await click(tacit.url, 'bob', card.id, ACK_ACTION_ID, incidentId)).toMatch(/^Already acknowledged by alice/);
    expect(pagerduty.calls.filter((c) => c.path === '/incidents/Q1ONCALL04' && c.method === 'PUT')).toHaveLength(0);
  });

  it('resolves in PagerDuty from the Resolve button and closes the card', async () => {
    const { card, incidentId } = await openIncident('Q1ONCALL03', 'Search latency high');
    expect(await click(tacit.url, 'bob', card.id, 'incident.resolve', incidentId)).toMatch(/^Resolved by you/);
    const edited = await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m && m.text.startsWith('Resolved') && blockTexts(m).includes('resolved in PagerDuty by bob') ? m : undefined;
    }, { what: 'the card resolved, with PagerDuty' });
    expect(buttonsOf(edited)).toEqual([]);
    expect(pagerduty.incidents.get('Q1ONCALL03')?.status).toBe('resolved');
    const note = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.startsWith('Resolved by bob')), { what: 'the resolve note in the thread' });
    expect(note.text).toBe('Resolved by bob.');
    // PagerDuty's own webhook about the resolve is no news: the incident stays resolved, nothing more is said.
    expect(await click(tacit.url, 'alice', card.id, 'incident.resolve', incidentId)).toMatch(/already resolved/);
  });
});
