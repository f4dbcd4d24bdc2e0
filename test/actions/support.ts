// Shared set-up for approval tests: a Tacit whose (fake) Claude proposes silencing each new incident,
// a fake Alertmanager configured as the workspace's integration, and alice as the only approver.
import { eq, sql } from 'drizzle-orm';
import { workspaces } from '../../src/db/schema.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import type { WireMessage } from '../../src/chat/playground/types.js';
import { channelMessages, fixture } from '../support/playground.js';
import { scriptOpenedIncidents } from '../support/scenario-claude.js';
import { post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

export const WS = 'playground:local';

export interface ApprovalWorld {
  tacit: TestTacit;
  claude: FakeAnthropic;
  alertmanager: FakeAlertmanager;
  /** Sends a firing alert with this alertname; resolves with the approval card once it is posted. */
  fire(alertname: string): Promise<WireMessage>;
  close(): Promise<void>;
}

export async function api(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/**
 * Clicks a button of a message, as the page does. Given a bare approval id, it clicks with the value the
 * card's button carries now (id and parameters hash); any other value is sent as it is.
 */
export async function click(base: string, userId: string, messageId: string, actionId: string, value: string): Promise<string> {
  const shown = value.includes(':') ? undefined : (await channelMessages(base)).find((m) => m.id === messageId);
  const sent = shown && hasButtons(shown) && approvalIdOf(shown) === value ? buttonValueOf(shown) : value;
  const res = await api(base, 'POST', '/playground/api/actions', { userId, messageId, actionId, value: sent });
  if (!res.ok) throw new Error(`click: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { privateText?: string }).privateText ?? '';
}

function hasButtons(card: WireMessage): boolean {
  return card.blocks.some((b) => (b as { kind: string }).kind === 'actions');
}

/** What the card's Approve button carries: `apr_…:<parameters hash>`. */
export function buttonValueOf(card: WireMessage): string {
  const actions = card.blocks.find((b) => (b as { kind: string }).kind === 'actions') as { buttons: { value: string }[] } | undefined;
  const value = actions?.buttons[0]?.value;
  if (!value) throw new Error('card has no buttons');
  return value;
}

export function approvalIdOf(card: WireMessage): string {
  return buttonValueOf(card).split(':')[0] ?? '';
}

/** What the fake Claude proposes for each new incident (by default: silence it for an hour). */
export type Proposal = (alertname: string) => { action: string; params: Record<string, unknown>; reason?: string };

const silenceFor: Proposal = (alertname) => ({
  action: 'alertmanager.silence', reason: 'It is flapping; silence it for 1h while someone looks.', params: { matchers: [{ name: 'alertname', value: alertname }], durationMinutes: 60 },
});

/** `embedded`: on PGlite (no DATABASE_URL) instead of PostgreSQL; there is no database URL to query then. */
export async function startApprovalWorld(opts: { approvers?: unknown; propose?: Proposal; embedded?: boolean } = {}): Promise<ApprovalWorld> {
  const alertmanager = await startFakeAlertmanager();
  const claude = await startFakeAnthropic();
  const propose = opts.propose ?? silenceFor;
  scriptOpenedIncidents(claude, (id, alertname) => [
    { type: 'tool_use', name: 'post_summary', input: { incidentId: id, text: `New incident ${alertname}.` } },
    {
      type: 'tool_use',
      name: 'propose_action',
      input: { incidentId: id, reason: 'Proposed by the test.', ...propose(alertname) },
    },
    // What it would remember if the silence happens: kept only once the action ran and verified.
    {
      type: 'tool_use',
      name: 'remember',
      input: { topic: `silence ${alertname}`, hint: `${alertname} was silenced for 1h`, body: `action:alertmanager.silence — ${alertname} silenced for an hour after flapping.`, sources: [`incident:${id}`] },
    },
  ]);
  const tacit = await startTestTacit({ embedded: opts.embedded, env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: claude.url, TACIT_SECRET_KEY: 'approval-tests-secret-key-0123456789abcdef' } });
  const put = await api(tacit.url, 'PUT', `/api/workspaces/${WS}/integrations/alertmanager/default`, { settings: { url: alertmanager.url } });
  if (!put.ok) throw new Error(`integration: ${put.status} ${await put.text()}`);
  // These tests fire many unrelated alerts within seconds, which would otherwise be one alert storm
  // (one card, no per-incident proposals): storms are not what they are about.
  await tacit.database.db.update(workspaces).set({ settings: sql`${workspaces.settings} || '{"storm": null}'::jsonb` }).where(eq(workspaces.id, WS));
  const approvers = await api(tacit.url, 'PUT', `/api/workspaces/${WS}/approvers`, opts.approvers ?? { users: ['alice'] });
  if (!approvers.ok) throw new Error(`approvers: ${approvers.status} ${await approvers.text()}`);
  const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
  const base = JSON.parse(fixture('alertmanager/firing.json').toString());

  return {
    tacit,
    claude,
    alertmanager,
    async fire(alertname) {
      const alert = structuredClone(base);

      alert.groupKey = `{}:{alertname="${alertname}"}`;
      alert.commonLabels = { alertname };
      alert.groupLabels = { alertname };
      alert.alerts = [{ ...alert.alerts[0], fingerprint: `fp-${alertname}`, labels: { ...alert.alerts[0].labels, alertname } }];
      const res = await post(source.url, JSON.stringify(alert), { 'content-type': 'application/json', authorization: `Bearer ${source.token}` });
      if (res.status !== 200 && res.status !== 202) throw new Error(`alert: ${res.status}`);
      return waitFor(
        async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.text.startsWith('Approval needed') && JSON.stringify(m.blocks).includes(alertname)),
        { what: `approval card for ${alertname}`, timeoutMs: 15_000 },
      );
    },
    async close() {
      await tacit.cleanup();
      await claude.close();
      await alertmanager.close();
    },
  };
}
