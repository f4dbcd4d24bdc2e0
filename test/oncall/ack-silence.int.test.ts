// What Acknowledge does in Alertmanager is the workspace's choice, set from chat by an admin: a
// silence at once (the default), one behind an approval, or nothing. And who may set it. Sentry:
// no acknowledge there (the card says so), but a resolve resolves the issue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { startFakeSentry, type FakeSentry } from '../fakes/sentry.js';
import { buttonsOf, click, command } from '../support/oncall.js';
import { blockTexts, channelMessages, fixture, postAlert } from '../support/playground.js';
import { post, sentryHeaders } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

/** The playground with the fake Alertmanager as its Alertmanager integration. */
async function withAlertmanager(): Promise<{ tacit: TestTacit; alertmanager: FakeAlertmanager }> {
  const alertmanager = await startFakeAlertmanager();
  const tacit = await startTestTacit();
  const res = await fetch(`${tacit.url}/api/workspaces/playground:local/integrations/alertmanager/default`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ settings: { url: alertmanager.url } }),
  });
  expect(res.status).toBeLessThan(300);
  return { tacit, alertmanager };
}

describe('Acknowledge and Alertmanager, as the workspace configures it', () => {
  let tacit: TestTacit;
  let alertmanager: FakeAlertmanager;

  beforeAll(async () => ({ tacit, alertmanager } = await withAlertmanager()));
  afterAll(async () => {
    await tacit?.cleanup();
    await alertmanager?.close();
  });

  it('lets an admin choose (and only an admin), and shows the choice to everyone', async () => {
    expect(await command(tacit.url, 'bob', 'ack-silence approval')).toMatch(/Only workspace admins/);
    expect(await command(tacit.url, 'bob', 'ack-silence')).toMatch(/^Acknowledge silences the Alertmanager group: direct/);
    expect(await command(tacit.url, 'alice', 'ack-silence approval 2h')).toMatch(/asks for an approval to silence the Alertmanager group for at most 2 h/);
    expect(await command(tacit.url, 'alice', 'auto-resolve generic 90m')).toMatch(/after 1 h 30 min without an alert/);
    expect(await command(tacit.url, 'bob', 'auto-resolve')).toMatch(/generic 1 h 30 min, sentry 24 h, alertmanager off/);
    expect(await command(tacit.url, 'bob', 'pagerduty-email bob@example.com')).toMatch(/reach PagerDuty as bob@example.com/);
  });

  it('asks an approver for the silence instead of silencing at once, when the workspace wants that', async () => {
    const source = tacit.playgroundSource;
    if (!source) throw new Error('no playground source');
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes('Pod is crash looping')), { what: 'the card' });
    const ack = buttonsOf(card).find((b) => b.actionId === 'incident.acknowledge');
    expect(await click(tacit.url, 'bob', card.id, 'incident.acknowledge', ack?.value ?? '')).toMatch(/a silence waits for an approver/);
    expect(alertmanager.silences).toHaveLength(0);

    const request = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.startsWith('Approval needed')), { what: 'the approval card in the thread' });
    await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m && blockTexts(m).includes('Alertmanager: a silence waits for an approver');
    }, { what: 'the incident card saying so' });
    const approve = buttonsOf(request).find((b) => b.actionId === APPROVE_ACTION_ID);
    expect(await click(tacit.url, 'alice', request.id, APPROVE_ACTION_ID, approve?.value ?? '')).toMatch(/^Approved/);
    await waitFor(() => alertmanager.silences.length === 1, { what: 'the approved silence' });
    expect(alertmanager.silences[0]?.matchers).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'alertname', value: 'KubePodCrashLooping' })]));
    expect(alertmanager.silences[0]?.endsAt).toBeDefined();
  });
});

describe('an acknowledged Alertmanager incident whose alerts resolve while silenced', () => {
  let tacit: TestTacit;
  let alertmanager: FakeAlertmanager;

  beforeAll(async () => ({ tacit, alertmanager } = await withAlertmanager()));
  afterAll(async () => {
    await tacit?.cleanup();
    await alertmanager?.close();
  });

  it('is resolved by Tacit once Alertmanager no longer holds its alerts (no resolved notification comes while silenced)', async () => {
    const source = tacit.playgroundSource;
    if (!source) throw new Error('no playground source');
    const payload = JSON.parse(fixture('alertmanager/firing.json').toString()) as { alerts: { fingerprint: string; labels: Record<string, string> }[] };
    const alert = payload.alerts[0];
    if (!alert) throw new Error('fixture has no alert');
    alertmanager.alerts.push({ fingerprint: alert.fingerprint, labels: alert.labels });
    expect((await postAlert(tacit.url, source.id, source.token, JSON.stringify(payload))).status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes('Pod is crash looping')), { what: 'the card' });
    const ack = buttonsOf(card).find((b) => b.actionId === 'incident.acknowledge');
    expect(await click(tacit.url, 'bob', card.id, 'incident.acknowledge', ack?.value ?? '')).toContain('silenced in Alertmanager by bob');
    expect(alertmanager.silences.filter((s) => s.status.state === 'active')).toHaveLength(1);

    expect(await tacit.oncall.reconcile()).toBe(0); // still firing (suppressed) in Alertmanager
    alertmanager.alerts.splice(0); // it resolved; Alertmanager tells no receiver about a silenced alert
    expect(await tacit.oncall.reconcile()).toBe(1);
    await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m?.text.startsWith('Resolved') && blockTexts(m).includes('Resolved by Tacit');
    }, { what: 'the card resolved by Tacit' });
    expect(alertmanager.silences[0]?.status.state).toBe('expired');
    const note = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.startsWith('Resolved by Tacit')), { what: 'the note' });
    expect(note.text).toContain('resolved while silenced');
    expect(await tacit.oncall.reconcile()).toBe(0);
  });
});

describe('resolving a Sentry issue alert through Tacit', () => {
  let tacit: TestTacit;
  let sentry: FakeSentry;
  const secret = 'sentry-client-secret-oncall';

  beforeAll(async () => {
    sentry = await startFakeSentry({ token: 'sntrys-token' });
    tacit = await startTestTacit();
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await sentry?.close();
  });

  it('resolves the issue in Sentry once and says so on the card', async () => {
    const source = await createSourceViaApi(tacit.url, { kind: 'sentry', secret });
    const body = fixture('sentry/event_alert.triggered.json').toString();
    expect((await post(source.url, body, sentryHeaders(secret, body, 'event_alert'))).status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes('TypeError')), { what: 'the Sentry card' });
    sentry.issues.set('4820193754', { id: '4820193754', status: 'unresolved' });

    // Acknowledge: Sentry has none, and the card says so rather than pretending.
    const ack = buttonsOf(card).find((b) => b.actionId === 'incident.acknowledge');
    expect(await click(tacit.url, 'bob', card.id, 'incident.acknowledge', ack?.value ?? '')).toContain('Sentry: Sentry issues have no acknowledge; recorded in Tacit only');

    const put = (token: string) => fetch(`${tacit.url}/api/workspaces/playground:local/integrations/sentry/default`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ settings: { apiUrl: sentry.apiUrl }, secrets: { token } }),
    });
    expect((await put('sntrys-token')).status).toBe(200);
    expect(await command(tacit.url, 'alice', 'resolve fixed in 2.4.1')).toContain('resolved in Sentry by alice');
    expect(sentry.calls.filter((c) => c.method === 'PUT')).toEqual([expect.objectContaining({ path: '/api/0/issues/4820193754/', status: 200, body: { status: 'resolved' } })]);
    expect(sentry.issues.get('4820193754')?.status).toBe('resolved');
    await waitFor(async () => {
      const m = (await channelMessages(tacit.url)).find((x) => x.id === card.id);
      return m?.text.startsWith('Resolved') && blockTexts(m).includes('resolved in Sentry by alice');
    }, { what: 'the card resolved in Sentry' });
  });
});
