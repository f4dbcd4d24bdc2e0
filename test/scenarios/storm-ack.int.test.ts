// User story, on Slack: six PagerDuty incidents open within seconds (one outage), so the channel gets
// one storm card. Alice presses Acknowledge on it: every member incident is acknowledged in PagerDuty
// (as alice), once, and the card says so, including the member PagerDuty refused; an incident joining
// the storm afterwards is acknowledged too. Her Resolve on the storm card resolves them in PagerDuty. On PostgreSQL and on the embedded database (the members
// are told a few at a time, over PGlite's one connection).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type SlackMessage } from '../fakes/slack.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';
import { fixture } from '../support/playground.js';
import { parseConnectAnswer } from '../support/scenario-driver.js';
import { pagerDutyHeaders, post } from '../support/sign.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-storm-ack';
const ADMIN_TOKEN = 'admin-token-storm-ack';
const PD_TOKEN = 'pd-token-storm-ack';
const CHANNEL = 'C0GENERAL';
const PEOPLE = [{ id: 'U0ALICE', name: 'alice', role: 'admin' as const }, { id: 'U0BOB', name: 'bob' }];
/** Six PagerDuty incidents; the last one PagerDuty no longer knows (merged away), so it refuses it. */
const IDS = ['Q0STORM000001', 'Q0STORM000002', 'Q0STORM000003', 'Q0STORM000004', 'Q0STORM000005', 'Q0STORM000006'];
/** One more, opening after the storm was acknowledged. */
const LATE = 'Q0STORM000007';

interface Button { action_id: string; value: string }

const visible = (m: SlackMessage): string => [m.text, JSON.stringify(m.blocks ?? [])].join('\n');
const buttons = (m: SlackMessage): Button[] =>
  ((m.blocks ?? []) as { type: string; elements?: (Button & { type: string })[] }[])
    .filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).filter((e) => e.type === 'button');

function triggered(id: string, n: number): string {
  const body = JSON.parse(fixture('pagerduty/incident.triggered.json').toString());
  body.event.id = `01STORMEVENT${n}`;
  body.event.occurred_at = new Date().toISOString();
  Object.assign(body.event.data, {
    id, self: `https://api.pagerduty.com/incidents/${id}`, html_url: `https://acme.pagerduty.com/incidents/${id}`, number: 5000 + n,
    incident_key: `storm-${n}`, created_at: new Date().toISOString(), title: `Service ${n} cannot reach orders-db`,
  });
  return JSON.stringify(body);
}

describe.each([{ backend: 'PostgreSQL', embedded: false }, { backend: 'the embedded database', embedded: true }])('acknowledging an alert storm where its incidents live, on $backend', ({ embedded }) => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let pagerduty: FakePagerduty;
  let hook: string;

  const command = async (text: string): Promise<string> => {
    const res = await slack.sendSlashCommand(hook, SIGNING_SECRET, { text, user_id: 'U0ALICE', user_name: 'alice', channel_id: CHANNEL });
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: `the answer to /tacit ${text}` });
    return (answer.body as { text?: string }).text ?? '';
  };
  const click = async (card: SlackMessage, button: Button): Promise<string> => {
    const res = await slack.sendInteraction(hook, SIGNING_SECRET, { user_id: 'U0ALICE', user_name: 'alice', channel_id: CHANNEL, message_ts: card.ts, action_id: button.action_id, value: button.value });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: "the answer to alice's click", timeoutMs: 20_000 });
    return (answer.body as { text?: string }).text ?? '';
  };
  const stormCard = (what: string, pick: (m: SlackMessage) => boolean = () => true): Promise<SlackMessage> =>
    waitFor(() => slack.history(CHANNEL).find((m) => m.bot_id !== undefined && !m.thread_ts && m.text.includes('Alert storm') && pick(m)), { what, timeoutMs: 30_000 });

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: PEOPLE }] });
    pagerduty = await startFakePagerduty({ token: PD_TOKEN, users: ['oncall@example.com', 'alice@example.com'] });
    tacit = await startTestTacit({
      embedded,
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: ADMIN_TOKEN, TACIT_SECRET_KEY: 'cd'.repeat(32) },
    });
    hook = `${tacit.url}/slack/events`;
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
    await pagerduty?.close();
  });

  it('acknowledges every member incident in PagerDuty with one press, and resolves them with another', async () => {
    const secret = `pd-webhook-${randomUUID()}`;
    const connected = parseConnectAnswer(await command(`connect pagerduty secret=${secret}`).then((t) => t.replace(/Signing secret: \S+/, 'Token: none')));
    const put = await fetch(`${tacit.url}/api/workspaces/slack:${DEFAULT_TEAM.teamId}/integrations/pagerduty/default`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ settings: { apiUrl: pagerduty.apiUrl, fromEmail: 'oncall@example.com' }, secrets: { token: PD_TOKEN } }),
    });
    expect(put.status).toBeLessThan(300);
    expect(await command('pagerduty-email alice@example.com')).toMatch(/alice@example\.com/);
    for (const id of IDS.slice(0, 5)) pagerduty.incidents.set(id, { id, status: 'triggered' });
    for (const [n, id] of IDS.entries()) {
      const body = triggered(id, n);
      expect((await post(connected.url, body, pagerDutyHeaders([secret], body))).status).toBe(200);
    }

    const storm = await stormCard('the storm card of six incidents', (m) => m.text.includes('6 incidents'));
    const ack = buttons(storm).find((b) => b.action_id === 'incident.acknowledge');
    if (!ack) throw new Error('the storm card has no Acknowledge button');
    const answer = await click(storm, ack);
    expect(answer).toMatch(/^Acknowledged by you/);
    expect(answer).toContain('Members: 6 of 6 member incidents acknowledged with it');
    expect(answer).toContain('PagerDuty refused: 5 of 6 member incidents acknowledged; 1 refused');

    // Each member once, as alice; the one PagerDuty does not know is refused and shown, not hidden.
    const acks = pagerduty.calls.filter((c) => c.method === 'PUT' && c.wanted === 'acknowledged');
    expect(acks.map((c) => c.path).sort()).toEqual(IDS.map((id) => `/incidents/${id}`).sort());
    expect(new Set(acks.map((c) => c.from))).toEqual(new Set(['alice@example.com']));
    for (const id of IDS.slice(0, 5)) expect(pagerduty.incidents.get(id)?.status).toBe('acknowledged');
    const shown = await stormCard('the storm card with PagerDuty\'s answer', (m) => m.ts === storm.ts && visible(m).includes('5 of 6 member incidents acknowledged'));
    expect(visible(shown)).toMatch(/Acknowledged by alice/);
    // Nothing is left for the minutely check to carry.
    expect(await tacit.oncall.reconcile()).toBe(0);

    // A second press changes nothing anywhere.
    expect(await click(storm, ack)).toMatch(/already acknowledged/i);
    expect(pagerduty.calls.filter((c) => c.method === 'PUT' && c.wanted === 'acknowledged')).toHaveLength(IDS.length);

    // A seventh incident joins the acknowledged storm: the minutely on-call check (run here at once)
    // acknowledges it in PagerDuty as alice too, and the card's count follows.
    pagerduty.incidents.set(LATE, { id: LATE, status: 'triggered' });
    const late = triggered(LATE, 7);
    expect((await post(connected.url, late, pagerDutyHeaders([secret], late))).status).toBe(200);
    await stormCard('the storm card of seven incidents', (m) => m.ts === storm.ts && m.text.includes('7 incidents'));
    expect(await tacit.oncall.reconcile()).toBe(1);
    expect(pagerduty.incidents.get(LATE)?.status).toBe('acknowledged');
    expect(pagerduty.calls.filter((c) => c.method === 'PUT' && c.path === `/incidents/${LATE}`).map((c) => c.from)).toEqual(['alice@example.com']);
    await stormCard('the storm card counting the late member', (m) => m.ts === storm.ts && visible(m).includes('6 of 7 member incidents acknowledged'));
    expect(await tacit.oncall.reconcile()).toBe(0);

    const resolve = buttons(shown).find((b) => b.action_id === 'incident.resolve');
    if (!resolve) throw new Error('the storm card has no Resolve button');
    const resolved = await click(shown, resolve);
    expect(resolved).toMatch(/^Resolved by you/);
    expect(resolved).toContain('Members: 7 of 7 member incidents resolved with it');
    for (const id of [...IDS.slice(0, 5), LATE]) expect(pagerduty.incidents.get(id)?.status).toBe('resolved');
    await stormCard('the storm card edited to Resolved', (m) => m.ts === storm.ts && m.text.startsWith('Resolved'));
  });
});
