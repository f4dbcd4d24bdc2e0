// Carrying a person's acknowledge or resolve to where the incident lives, one source at a time:
// PagerDuty (REST API v2 `PUT /incidents/{id}` as the person, through the From header), Alertmanager
// (a silence of the group until it is resolved), and an honest "cannot" for Grafana, Sentry and
// generic senders. Reuses the action executors' HTTP calls; every outcome is a TargetState.
import { sharedMatchers } from '../core/silence.js';
import type { Incident } from '../core/incidents.js';
import type { SyncTarget, TargetState } from '../core/source-sync.js';
import { alertmanagerActions } from '../actions/executors/alertmanager.js';
import { pagerdutyActions } from '../actions/executors/pagerduty.js';
import type { Integration } from '../actions/integrations.js';
import type { AnyAction } from '../actions/registry.js';
import { callJson } from '../actions/executors/http.js';
import { ActionNotSentError, PermanentActionError, type ExecuteContext } from '../actions/types.js';
import type { SyncSettings } from './sync-settings.js';

export type SyncVerb = 'ack' | 'resolve';

/** What to do for one target: call it, ask for an approval first, or record at once why not. */
export type TargetPlan =
  | { target: SyncTarget; call: (signal: AbortSignal) => Promise<TargetState> }
  | { target: SyncTarget; approval: { action: string; params: Record<string, unknown>; reason: string } }
  | { target: SyncTarget; state: TargetState };

export interface PlanContext {
  verb: SyncVerb;
  incident: Incident;
  /** The person, for the From header and the silence's comment. */
  by: { id: string; name: string };
  integrations: readonly Integration[];
  settings: SyncSettings;
  /** A stable id of this claim: marks the silence so an earlier one can be found. */
  claimId: string;
  /** The silence created when it was acknowledged, to expire on resolve. */
  ackSilenceId?: string;
  now: Date;
  /** After an interrupted attempt: look at the source first, and call only if it has not taken effect. */
  recheck?: boolean;
}

/** The kinds of sender an incident's alerts came from; `fallbackKind` for alerts stored before the kind was kept. */
export function targetsOf(incident: Incident, fallbackKind: SyncTarget | undefined): SyncTarget[] {
  const kinds = new Set<SyncTarget>();
  for (const a of Object.values(incident.alerts)) {
    const kind = a.source ?? fallbackKind;
    if (kind) kinds.add(kind);
  }
  return [...kinds];
}

export function planTargets(ctx: PlanContext, targets: readonly SyncTarget[]): TargetPlan[] {
  return targets.map((target): TargetPlan => {
    switch (target) {
      case 'pagerduty':
        return pagerdutyPlan(ctx);
      case 'alertmanager':
        return alertmanagerPlan(ctx);
      case 'grafana':
        return { target, state: { state: 'unsupported', detail: ctx.verb === 'ack' ? 'Grafana alerting has no per-alert acknowledge; recorded in Tacit only' : 'Grafana resolves its alerts itself when the condition clears; recorded in Tacit only' } };
      case 'sentry':
        return sentryPlan(ctx);
      case 'generic':
        return { target, state: { state: 'unsupported', detail: 'a generic webhook has no API to tell; recorded in Tacit only' } };
      default: {
        const never: never = target;
        throw new Error(`unknown sync target ${String(never)}`);
      }
    }
  });
}

/** PagerDuty incident ids: PagerDuty incidents are grouped by their own id (sources/alerts/pagerduty.ts). */
function pagerdutyIds(incident: Incident): string[] {
  return Object.entries(incident.alerts).filter(([id, a]) => a.source === 'pagerduty' && /^[A-Z0-9]{5,20}$/.test(id)).map(([id]) => id);
}

function pagerdutyPlan(ctx: PlanContext): TargetPlan {
  const integration = ctx.integrations.find((i) => i.kind === 'pagerduty');
  if (!integration) return { target: 'pagerduty', state: { state: 'skipped', detail: 'no PagerDuty integration configured (admin API: PUT /api/workspaces/<id>/integrations/pagerduty/default); not told' } };
  const ids = pagerdutyIds(ctx.incident);
  if (ids.length === 0) return { target: 'pagerduty', state: { state: 'skipped', detail: 'no PagerDuty incident id on this incident' } };
  const action: AnyAction | undefined = pagerdutyActions.find((a) => a.name === (ctx.verb === 'ack' ? 'pagerduty.acknowledge' : 'pagerduty.resolve'));
  if (!action) throw new Error('PagerDuty actions missing');
  // As the person when their PagerDuty login is known; otherwise as the integration's own From.
  const email = ctx.settings.pagerdutyEmails[ctx.by.id];
  const as: Integration = email ? { ...integration, settings: { ...integration.settings, fromEmail: email } } : integration;
  return {
    target: 'pagerduty',
    call: async (signal) => {
      for (const id of ids) {
        const params: unknown = action.params.parse({ pagerdutyIncidentId: id });
        // PagerDuty already in the wanted state (an interrupted attempt got through): no second call.
        if (ctx.recheck && (await action.verify(context(ctx, as, signal), params, { summary: '', data: {} })).ok) continue;
        await action.execute(context(ctx, as, signal), params);
      }
      const done = ctx.verb === 'ack' ? 'acknowledged' : 'resolved';
      return { state: 'accepted', detail: `${done} in PagerDuty by ${ctx.by.name}${email ? '' : ` (as ${String(integration.settings.fromEmail)})`}` };
    },
  };
}

function alertmanagerPlan(ctx: PlanContext): TargetPlan {
  const integration = ctx.integrations.find((i) => i.kind === 'alertmanager');
  const mode = ctx.settings.alertmanagerSilence;
  if (ctx.verb === 'resolve') {
    // The silence made on acknowledge ends with the incident, so the next firing is heard again.
    if (!ctx.ackSilenceId || !integration) return { target: 'alertmanager', state: { state: 'skipped', detail: 'Alertmanager resolves its alerts itself; no silence to end' } };
    const expire: AnyAction | undefined = alertmanagerActions.find((a) => a.name === 'alertmanager.expire_silence');
    const silenceId = ctx.ackSilenceId;
    if (!expire) throw new Error('Alertmanager actions missing');
    return {
      target: 'alertmanager',
      call: async (signal) => {
        await expire.execute(context(ctx, integration, signal), expire.params.parse({ silenceId }));
        return { state: 'accepted', detail: `Alertmanager silence ${silenceId} expired`, silenceId };
      },
    };
  }
  if (mode === 'off') return { target: 'alertmanager', state: { state: 'skipped', detail: 'silence on acknowledge is off in this workspace' } };
  if (!integration) return { target: 'alertmanager', state: { state: 'skipped', detail: 'no Alertmanager integration (`/tacit integration alertmanager <url>`); not silenced' } };
  const matchers = sharedMatchers(ctx.incident);
  if (matchers.length === 0) return { target: 'alertmanager', state: { state: 'skipped', detail: 'its alerts share no labels to silence them by' } };
  const silence: AnyAction | undefined = alertmanagerActions.find((a) => a.name === 'alertmanager.silence');
  if (!silence) throw new Error('Alertmanager actions missing');
  const params = silence.params.parse({ matchers, durationMinutes: ctx.settings.silenceMinutes, comment: `Acknowledged by ${ctx.by.name} in Tacit: ${ctx.incident.title}`.slice(0, 400) }) as Record<string, unknown>;
  // The workspace wants silences approved: the acknowledgement asks, an approver decides on the card.
  if (mode === 'approval') return { target: 'alertmanager', approval: { action: silence.name, params, reason: `${ctx.by.name} acknowledged "${ctx.incident.title}": silence its alerts until it is resolved?` } };
  return {
    target: 'alertmanager',
    call: async (signal) => {
      const c = context(ctx, integration, signal);
      // A crash after Alertmanager took it leaves the marked silence behind: reuse it, never a second.
      const result = (await silence.findDone?.(c, params)) ?? (await silence.execute(c, params));
      const id = String(result.data.silenceId);
      const until = new Date(ctx.now.getTime() + ctx.settings.silenceMinutes * 60_000);
      return { state: 'accepted', detail: `silenced in Alertmanager by ${ctx.by.name} (silence ${id.slice(0, 8)}, until resolved or ${until.toISOString().slice(0, 16).replace('T', ' ')} UTC)`, silenceId: id };
    },
  };
}

/** Sentry issue ids: issue alerts are grouped by `sentry:issue:<id>` (sources/alerts/sentry.ts); metric alerts have none. */
function sentryIssueIds(incident: Incident): string[] {
  const m = /\|sentry:issue:(\d{1,20})$/.exec(incident.groupLabel ?? incident.groupKey);
  return m?.[1] ? [m[1]] : [];
}

function sentryPlan(ctx: PlanContext): TargetPlan {
  if (ctx.verb === 'ack') return { target: 'sentry', state: { state: 'unsupported', detail: 'Sentry issues have no acknowledge; recorded in Tacit only' } };
  const ids = sentryIssueIds(ctx.incident);
  if (ids.length === 0) return { target: 'sentry', state: { state: 'unsupported', detail: 'a Sentry metric alert resolves itself in Sentry; recorded in Tacit only' } };
  const integration = ctx.integrations.find((i) => i.kind === 'sentry');
  if (!integration) return { target: 'sentry', state: { state: 'skipped', detail: 'no Sentry integration (admin API: PUT /api/workspaces/<id>/integrations/sentry/default); resolve it in Sentry' } };
  const base = String(integration.settings.apiUrl).replace(/\/+$/, '');
  return {
    target: 'sentry',
    call: async (signal) => {
      // Sentry's issue update: PUT /api/0/issues/{issue_id}/ with the new status; resolving twice leaves it resolved.
      for (const id of ids) {
        await callJson(`${base}/api/0/issues/${encodeURIComponent(id)}/`, {
          method: 'PUT', signal, headers: { authorization: `Bearer ${String(integration.secrets.token)}` }, body: { status: 'resolved' },
        });
      }
      return { state: 'accepted', detail: `resolved in Sentry by ${ctx.by.name}` };
    },
  };
}

function context(ctx: PlanContext, integration: Integration, signal: AbortSignal): ExecuteContext {
  return { approvalId: ctx.claimId, integration, signal };
}

/** An executor's failure as the card shows it: refused (what to fix) or failed (unreachable). */
export function failureState(target: SyncTarget, err: unknown): TargetState {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof PermanentActionError) return { state: 'refused', detail: explain(target, message) };
  if (err instanceof ActionNotSentError) return { state: 'failed', detail: `unreachable (${message.slice(0, 200)})` };
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return { state: 'failed', detail: 'no answer in time; it may or may not have taken it' };
  return { state: 'failed', detail: message.slice(0, 300) };
}

const hints: Partial<Record<SyncTarget, Record<number, string>>> = {
  pagerduty: {
    400: 'check the From email is a PagerDuty user',
    401: 'check the API token of the integration',
    403: 'the token may not change incidents',
    404: 'the incident is not known there',
  },
  sentry: { 401: 'check the auth token of the integration', 403: 'the token needs the event:write scope', 404: 'the issue is not known there' },
  alertmanager: { 401: 'check the integration\'s authorization', 403: 'check the integration\'s authorization' },
};

/** "PUT /incidents/Q1 answered 401: {…"message":"Unauthorized"…}" → "401 Unauthorized — check the API token of the integration". */
function explain(target: SyncTarget, message: string): string {
  const m = /answered (\d{3}): (.*)$/s.exec(message);
  if (!m) return message.slice(0, 300);
  const status = Number(m[1]);
  let reason = (m[2] ?? '').slice(0, 200);
  try {
    const body = JSON.parse(m[2] ?? '') as { error?: { message?: string; errors?: string[] } };
    reason = [body.error?.message, ...(body.error?.errors ?? [])].filter(Boolean).join(': ') || reason;
  } catch {
    // not JSON (the detail is cut at 200 characters): keep the text
  }
  const hint = hints[target]?.[status];
  return `${status} ${reason}${hint ? ` — ${hint}` : ''}`.slice(0, 300);
}
