// Who is on call, level by level: from PagerDuty when the workspace has a PagerDuty integration and
// says whose on-call to ask; else from the rotation kept in Tacit; else the `onCall` list (level 1).
// PagerDuty people become chat people through the workspace's email mapping (`oncall.people`).
import type { Integration } from '../actions/integrations.js';
import { rotationShift } from '../core/rotation.js';
import type { WorkspaceSettings } from '../core/settings.js';
import { OncallError } from './errors.js';
import { fetchOnCalls } from './pagerduty-oncalls.js';

export interface OnCallPerson {
  /** The chat person id, or null when Tacit cannot reach them (a PagerDuty user with no mapping). */
  personId: string | null;
  /** As people read it: the chat id, or PagerDuty's name and email. */
  label: string;
}

export interface OnCallRoster {
  via: 'pagerduty' | 'rotation' | 'on-call list' | 'nobody';
  /** Index 0 is level 1. */
  levels: OnCallPerson[][];
  until: Date | null;
  /** Why PagerDuty could not answer, when it was asked and the roster fell back. */
  problem?: string;
}

export interface WhoDeps {
  /** The workspace's PagerDuty integration, if any (actions/integrations loadIntegrations). */
  pagerduty(workspaceId: string): Promise<Integration | undefined>;
  timeoutMs?: number;
}

function fromRotationOrList(settings: WorkspaceSettings, now: Date, problem?: string): OnCallRoster {
  const rotation = settings.oncall.rotation;
  const shift = rotation ? rotationShift(rotation, now) : null;
  const extra = problem ? { problem } : {};
  if (shift && shift.levels.length > 0) {
    return { via: 'rotation', levels: shift.levels.map((id) => [{ personId: id, label: id }]), until: shift.until, ...extra };
  }
  if (settings.onCall.length > 0) {
    return { via: 'on-call list', levels: [settings.onCall.map((id) => ({ personId: id, label: id }))], until: null, ...extra };
  }
  return { via: 'nobody', levels: [], until: null, ...extra };
}

export async function whoIsOnCall(deps: WhoDeps, workspaceId: string, settings: WorkspaceSettings, now: Date, signal?: AbortSignal): Promise<OnCallRoster> {
  const target = settings.oncall.pagerduty;
  if (!target || (target.escalationPolicyIds.length === 0 && target.scheduleIds.length === 0)) return fromRotationOrList(settings, now);
  const integration = await deps.pagerduty(workspaceId);
  if (!integration) return fromRotationOrList(settings, now, 'PagerDuty on-call is configured but the workspace has no PagerDuty integration');
  const bounded = AbortSignal.any([AbortSignal.timeout(deps.timeoutMs ?? 5_000), ...(signal ? [signal] : [])]);
  try {
    const oncalls = await fetchOnCalls({
      apiUrl: String(integration.settings.apiUrl), token: String(integration.secrets.token),
      escalationPolicyIds: target.escalationPolicyIds, scheduleIds: target.scheduleIds,
    }, now, bounded);
    const byLevel = new Map<number, OnCallPerson[]>();
    let until: number | null = null;
    for (const o of oncalls) {
      const personId = o.email ? (settings.oncall.people[o.email] ?? null) : null;
      const label = personId ?? `${o.name}${o.email ? ` (${o.email})` : ''}`;
      byLevel.set(o.level, [...(byLevel.get(o.level) ?? []), { personId, label }]);
      const end = o.level === 1 && o.end ? Date.parse(o.end) : NaN;
      if (Number.isFinite(end)) until = until === null ? end : Math.min(until, end);
    }
    const levels = [...byLevel.entries()].sort(([a], [b]) => a - b).map(([, people]) => people);
    if (levels.length === 0) return fromRotationOrList(settings, now, 'PagerDuty says nobody is on call for the configured policies');
    return { via: 'pagerduty', levels, until: until === null ? null : new Date(until) };
  } catch (err) {
    if (err instanceof OncallError || (err instanceof Error && err.name === 'TimeoutError')) return fromRotationOrList(settings, now, err.message);
    throw err;
  }
}

/** `/tacit oncall` and `/tacit status`: one line per level. */
export function describeRoster(roster: OnCallRoster, when: (d: Date) => string): string[] {
  if (roster.levels.length === 0) {
    return [`Nobody is on call in Tacit's view${roster.problem ? ` (${roster.problem})` : ''}. Set a rotation (\`/tacit oncall rotation @a @b mon 09:00 Europe/Berlin\`) or PagerDuty (\`/tacit oncall pagerduty <policy id>\`).`];
  }
  const lines = roster.levels.map((people, i) => `Level ${i + 1}: ${people.map((p) => `${p.label}${p.personId ? '' : ' — no chat person mapped, cannot be messaged'}`).join(', ')}`);
  return [
    `On call (from ${roster.via}${roster.until ? `, until ${when(roster.until)}` : ''}):`,
    ...lines,
    ...(roster.problem ? [`Note: ${roster.problem}.`] : []),
  ];
}
