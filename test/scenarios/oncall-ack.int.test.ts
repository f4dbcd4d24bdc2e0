// User story, on Slack: an Alertmanager alert and a PagerDuty incident fire into #general. A guest's
// Acknowledge is refused; alice's silences the Alertmanager group (the card says so) and her resolve
// ends the silence; bob and alice pressing Acknowledge on the PagerDuty card at the same moment
// acknowledge it in PagerDuty once, and the card says who.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack, type SlackMessage } from '../fakes/slack.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';
import { fixture, postAlert } from '../support/playground.js';
import { parseConnectAnswer } from '../support/scenario-driver.js';
import { pagerDutyHeaders, post } from '../support/sign.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-oncall-scenario';
const ADMIN_TOKEN = 'admin-token-oncall-scenario';
const PD_TOKEN = 'pd-token-oncall-scenario';
const CHANNEL = 'C0GENERAL';
const PEOPLE = [
  { id: 'U0ALICE', name: 'alice', role: 'admin' as const },
  { id: 'U0BOB', name: 'bob' },
  { id: 'U0GINA', name: 'gina', role: 'guest' as const },
];

interface Button { action_id: string; value: string }

const nameOf = (id: string): string => PEOPLE.find((p) => p.id === id)?.name ?? id;

function visible(m: SlackMessage): string {
  return [m.text, JSON.stringify(m.blocks ?? [])].join('\n');
}

function buttons(m: SlackMessage): Button[] {
  return ((m.blocks ?? []) as { type: string; elements?: (Button & { type: string })[] }[])
    .filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).filter((e) => e.type === 'button');
}

describe('acknowledging where it counts, on Slack', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let alertmanager: FakeAlertmanager;
  let pagerduty: FakePagerduty;
  let hook: string;

  const command = async (userId: string, text: string): Promise<string> => {
    const res = await slack.sendSlashCommand(hook, SIGNING_SECRET, { text, user_id: userId, user_name: nameOf(userId), channel_id: CHANNEL });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: `the answer to /tacit ${text}` });
    return (answer.body as { text?: string }).text ?? '';
  };
  const click = async (userId: string, card: SlackMessage, button: Button): Promise<string> => {
    const res = await slack.sendInteraction(hook, SIGNING_SECRET, { user_id: userId, user_name: nameOf(userId), channel_id: CHANNEL, message_ts: card.ts, action_id: button.action_id, value: button.value });
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === res.responseUrl), { what: `the answer to ${userId}'s click` });
    return (answer.body as { text?: string }).text ?? '';
  };
  const card = (what: string, pick: (m: SlackMessage) => boolean): Promise<SlackMessage> =>
    waitFor(() => slack.history(CHANNEL).find((m) => m.bot_id !== undefined && !m.thread_ts && pick(m)), { what, timeoutMs: 15_000 });

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: PEOPLE }] });
    alertmanager = await startFakeAlertmanager();
    pagerduty = await startFakePagerduty({ token: PD_TOKEN, users: ['oncall@example.com'] });
    tacit = await startTestTacit({
      env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off', TACIT_ADMIN_TOKEN: ADMIN_TOKEN, TACIT_SECRET_KEY: 'ab'.repeat(32) },
    });
    hook = `${tacit.url}/slack/events`;
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
    await alertmanager?.close();
    await pagerduty?.close();
  });

  it('refuses a guest, silences the Alertmanager group for alice, and ends the silence when she resolves', async () => {
    const connected = parseConnectAnswer(await command('U0ALICE', 'connect alertmanager'));
    expect(await command('U0ALICE', `integration alertmanager ${alertmanager.url}`)).not.toMatch(/not|cannot/i);
    expect((await postAlert(tacit.url, connected.url.split('/').pop() ?? '', connected.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const firing = await card('the Alertmanager card', (m) => m.text.startsWith('Firing') && m.text.includes('Pod is crash looping'));
    const ack = buttons(firing).find((b) => b.action_id === 'incident.acknowledge');
    if (!ack) throw new Error('no Acknowledge button');

    expect(await click('U0GINA', firing, ack)).toMatch(/Guests cannot acknowledge/);
    expect(alertmanager.silences).toHaveLength(0);

    const answer = await click('U0ALICE', firing, ack);
    expect(answer).toMatch(/^Acknowledged by you/);
    expect(answer).toContain('silenced in Alertmanager by alice');
    const acked = await card('the card acknowledged and silenced', (m) => m.ts === firing.ts && visible(m).includes('silenced in Alertmanager by alice'));
    expect(visible(acked)).toContain('Acknowledged by alice');
    expect(alertmanager.silences).toHaveLength(1);
    expect(alertmanager.silences[0]?.matchers).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'alertname', value: 'KubePodCrashLooping', isRegex: false })]));
    expect(alertmanager.silences[0]?.comment).toContain('Acknowledged by alice in Tacit');

    expect(await command('U0ALICE', 'resolve crash loop fixed by the rollback')).toMatch(/^Resolved by you/);
    await card('the card resolved', (m) => m.ts === firing.ts && m.text.startsWith('Resolved') && visible(m).includes('expired'));
    expect(alertmanager.silences[0]?.status.state).toBe('expired');
    await waitFor(() => slack.history(CHANNEL).find((m) => m.thread_ts === firing.ts && m.text.startsWith('Resolved by alice: crash loop fixed')), { what: 'the resolve note in the thread' });
  });

  it('acknowledges a PagerDuty incident once when bob and alice press Acknowledge together', async () => {
    const secret = `pd-webhook-${randomUUID()}`;
    const connected = parseConnectAnswer(await command('U0ALICE', `connect pagerduty secret=${secret}`).then((t) => t.replace(/Signing secret: \S+/, 'Token: none')));
    const put = await fetch(`${tacit.url}/api/workspaces/slack:${DEFAULT_TEAM.teamId}/integrations/pagerduty/default`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ settings: { apiUrl: pagerduty.apiUrl, fromEmail: 'oncall@example.com' }, secrets: { token: PD_TOKEN } }),
    });
    expect(put.status).toBeLessThan(300);
    pagerduty.incidents.set('Q2MXQ7K1ZF9YB3', { id: 'Q2MXQ7K1ZF9YB3', status: 'triggered' });
    const body = fixture('pagerduty/incident.triggered.json').toString();
    expect((await post(connected.url, body, pagerDutyHeaders([secret], body))).status).toBe(200);
    const firing = await card('the PagerDuty card', (m) => m.text.startsWith('Firing') && m.text.includes('Checkout error rate'));
    const ack = buttons(firing).find((b) => b.action_id === 'incident.acknowledge');
    if (!ack) throw new Error('no Acknowledge button');

    const answers = await Promise.all([click('U0BOB', firing, ack), click('U0ALICE', firing, ack)]);
    expect(answers.filter((a) => a.startsWith('Acknowledged by you'))).toHaveLength(1);
    expect(answers.filter((a) => a.startsWith('Already acknowledged by'))).toHaveLength(1);
    const acked = await card('the card with PagerDuty\'s answer', (m) => m.ts === firing.ts && visible(m).includes('acknowledged in PagerDuty by'));
    expect(visible(acked)).toMatch(/acknowledged in PagerDuty by (alice|bob)/);
    expect(pagerduty.calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
    expect(pagerduty.incidents.get('Q2MXQ7K1ZF9YB3')?.status).toBe('acknowledged');

    // PagerDuty then tells Tacit about the acknowledgement it made: no second card edit war, no second call.
    const echoed = fixture('pagerduty/incident.acknowledged.json').toString();
    expect((await post(connected.url, echoed, pagerDutyHeaders([secret], echoed))).status).toBe(200);
    const ticks = (await tacit.signals.counters(`slack:${DEFAULT_TEAM.teamId}`)).ticks;
    await waitFor(async () => (await tacit.signals.counters(`slack:${DEFAULT_TEAM.teamId}`)).ticks >= ticks + 3, { what: 'three more ticks' });
    expect(pagerduty.calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
  });
});
