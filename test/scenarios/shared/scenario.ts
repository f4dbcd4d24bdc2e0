// User story, told once and run on every chat platform (playground, Slack, Discord) through a Driver:
// someone mentions Tacit and is answered in the thread; an alert becomes one card with a summary in its
// thread, edited when it resolves; Tacit attaches a timeline and asks to silence the alert; a bystander's
// click changes nothing and is explained privately; the on-call's double click silences it exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID, DENY_ACTION_ID } from '../../../src/core/approval-card.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../../fakes/alertmanager.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../fakes/anthropic.js';
import { fixture } from '../../support/playground.js';
import { REPLY_TEXT, scriptIncidentClaude, summaryText, TIMELINE_FILE, timelineText } from '../../support/scenario-claude.js';
import { parseConnectAnswer, type Driver, type ScenarioButton, type ScenarioMessage } from '../../support/scenario-driver.js';
import type { TestTacit } from '../../support/tacit.js';
import { waitFor } from '../../support/wait.js';

const ADMIN_TOKEN = 'shared-scenario-admin-token-0123456789';
const SECRET_KEY = 'shared-scenario-secret-key-0123456789abcdef';
/** Ticks, the brain and delivery (Slack paces posts at one a second per channel) take a few seconds. */
const SEEN_WITHIN = { timeoutMs: 20_000 };
const STEP_TIMEOUT_MS = 60_000;

const CRASH_LOOP = { alertname: 'KubePodCrashLooping', title: 'Pod is crash looping.' };
const DISK_FULL = { alertname: 'ScenarioDiskFull', title: 'Disk is filling up on the payments database.' };

/** The Alertmanager fixture as another alert group: its own alertname, fingerprint and summary. */
function alertFor(alert: { alertname: string; title: string }): string {
  const body = JSON.parse(fixture('alertmanager/firing.json').toString('utf8'));
  const [first] = body.alerts;
  const labels = { ...first.labels, alertname: alert.alertname };
  const annotations = { ...first.annotations, summary: alert.title };
  return JSON.stringify({
    ...body,
    groupKey: `{}/{severity="critical"}:{alertname="${alert.alertname}"}`,
    groupLabels: { alertname: alert.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    alerts: [{ ...first, labels, annotations, startsAt: new Date().toISOString(), fingerprint: `fp-${alert.alertname}` }],
  });
}

export function describeScenario(driver: Driver): void {
  describe(`Tacit on ${driver.platform}: mentions, incident threads, files and approvals`, () => {
    let claude: FakeAnthropic;
    let alertmanager: FakeAlertmanager;
    let tacit: TestTacit;
    let source: { url: string; token: string };
    let diskFullCard: Promise<ScenarioMessage> | undefined;

    const admin = async (method: string, path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${tacit.url}${path}`, {
        method, headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    };
    const sendAlert = async (body: string | Buffer): Promise<void> => {
      const res = await fetch(source.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${source.token}` }, body });
      if (res.status !== 200) throw new Error(`the alert webhook answered ${res.status}: ${await res.text()}`);
    };
    const seen = <T>(what: string, probe: (messages: ScenarioMessage[]) => T | undefined): Promise<T> =>
      waitFor(async () => probe(await driver.botMessages()), { ...SEEN_WITHIN, what });
    const cardOf = (title: string, messages: ScenarioMessage[]): ScenarioMessage | undefined =>
      messages.find((m) => m.threadId === null && m.text.includes(title));
    const inThread = (card: ScenarioMessage, messages: ScenarioMessage[]): ScenarioMessage[] => messages.filter((m) => m.threadId === card.id);
    const silencesOf = (alertname: string) => alertmanager.silences.filter((s) => s.matchers.some((m) => m.name === 'alertname' && m.value === alertname));
    /** The disk alert fires once, for every step that needs an open incident. */
    const openDiskFull = (): Promise<ScenarioMessage> =>
      (diskFullCard ??= sendAlert(alertFor(DISK_FULL)).then(() => seen('the disk incident card', (ms) => cardOf(DISK_FULL.title, ms))));

    beforeAll(async () => {
      alertmanager = await startFakeAlertmanager();
      claude = await startFakeAnthropic();
      scriptIncidentClaude(claude);
      tacit = await driver.start({ ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: claude.url, TACIT_SECRET_KEY: SECRET_KEY, TACIT_ADMIN_TOKEN: ADMIN_TOKEN });
      // The on-call connects Alertmanager from the channel; the command also makes the workspace known.
      source = parseConnectAnswer(await driver.command(driver.people.approver, 'connect alertmanager'));
      await admin('PUT', `/api/workspaces/${driver.workspaceId}/integrations/alertmanager/default`, { settings: { url: alertmanager.url } });
      await admin('PUT', `/api/workspaces/${driver.workspaceId}/approvers`, { users: [driver.people.approver] });
    });
    afterAll(async () => {
      await driver.stop();
      await claude?.close();
      await alertmanager?.close();
    });

    it('answers a mention in its thread', { timeout: STEP_TIMEOUT_MS }, async () => {
      const asked = await driver.mention(driver.people.bystander, 'are you there?');
      const reply = await seen('the reply in the mention\'s thread', (ms) => ms.find((m) => m.threadId === asked));
      expect(reply.text).toContain(REPLY_TEXT);
      // One answer, however many copies of the mention the platform delivered (Slack sends two).
      expect((await driver.botMessages()).filter((m) => m.threadId === asked)).toHaveLength(1);
      expect((await tacit.signals.counters()).replies).toBe(1);
    });

    it('posts one card per alert with a summary in its thread, and edits that card when the alert resolves', { timeout: STEP_TIMEOUT_MS }, async () => {
      await sendAlert(fixture('alertmanager/firing.json'));
      const card = await seen('the incident card', (ms) => cardOf(CRASH_LOOP.title, ms));
      expect(card.text).toContain('Firing');
      await seen('the summary in the card\'s thread', (ms) => inThread(card, ms).find((m) => m.text.includes(summaryText(CRASH_LOOP.alertname))));

      await sendAlert(fixture('alertmanager/resolved.json'));
      const edited = await seen('the card edited to Resolved', (ms) => ms.find((m) => m.id === card.id && m.edited && m.text.includes('Resolved')));
      expect(edited.threadId).toBeNull();
      const cards = (await driver.botMessages()).filter((m) => m.threadId === null && m.text.includes(CRASH_LOOP.title));
      expect(cards.map((m) => m.id)).toEqual([card.id]);
    });

    it('uploads the timeline Tacit wrote into the incident thread', { timeout: STEP_TIMEOUT_MS }, async () => {
      const card = await openDiskFull();
      const file = await seen(`${TIMELINE_FILE} in the incident thread`, (ms) => inThread(card, ms).flatMap((m) => m.files).find((f) => f.filename === TIMELINE_FILE));
      expect(file.content).toBe(timelineText(DISK_FULL.alertname));
    });

    it('silences the alert once for the approver\'s double click; a bystander\'s click changes nothing and is explained privately', { timeout: STEP_TIMEOUT_MS }, async () => {
      const card = await openDiskFull();
      const request = await seen('the approval card in the incident thread', (ms) =>
        inThread(card, ms).find((m) => m.headline.startsWith('Approval needed') && m.buttons.some((b) => b.actionId === APPROVE_ACTION_ID)));
      const approve = request.buttons.find((b) => b.actionId === APPROVE_ACTION_ID) as ScenarioButton;
      expect(approve.value).toMatch(/^apr_/);
      expect(request.buttons.find((b) => b.actionId === DENY_ACTION_ID)?.value).toBe(approve.value);

      expect(await driver.click(driver.people.bystander, request, approve)).toMatch(/not one of the people/);
      expect(silencesOf(DISK_FULL.alertname)).toHaveLength(0);
      expect((await driver.botMessages()).find((m) => m.id === request.id)?.headline).toMatch(/^Approval needed/);

      const answers = await Promise.all([driver.click(driver.people.approver, request, approve), driver.click(driver.people.approver, request, approve)]);
      expect(answers.filter((a) => /^Approved/.test(a))).toHaveLength(1);
      expect(answers.filter((a) => /already approved/.test(a))).toHaveLength(1);

      const done = await seen('the approval card edited to Done', (ms) => ms.find((m) => m.id === request.id && m.headline.startsWith('Done')));
      expect(done.edited).toBe(true);
      expect(done.text).toContain('Approved by');
      expect(done.text).toContain('Verified');
      expect(done.buttons).toHaveLength(0);
      const silences = silencesOf(DISK_FULL.alertname);
      expect(silences).toHaveLength(1);
      expect(silences[0]?.matchers).toEqual([expect.objectContaining({ name: 'alertname', value: DISK_FULL.alertname, isRegex: false })]);
    });
  });
}
