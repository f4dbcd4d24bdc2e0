// What the tick does for on-call, in one place: takes due escalation steps, plans their messages and
// the post-incident report of incidents that just resolved, and commits the steps and reports in the
// tick's transaction. Nothing here runs on a quiet tick: it is reached only once the tick has news.
import { eq } from 'drizzle-orm';
import { dueSteps, takeStep } from '../core/escalation.js';
import { rotationShift } from '../core/rotation.js';
import type { Incident, IncidentTransition } from '../core/incidents.js';
import type { PlannedMessage } from '../core/plan.js';
import type { PolicyResult } from '../core/policy.js';
import type { WorkspaceSettings } from '../core/settings.js';
import type { Db, Tx } from '../db/client.js';
import { incidents } from '../db/schema.js';
import type { Logger } from '../log.js';
import { planEscalation, recordSteps, stepsThisTick, type StepRecord } from './escalation.js';
import { planReports, type ReportDrafter, type StoredReport } from './report.js';
import { whoIsOnCall, type OnCallRoster, type WhoDeps } from './who.js';

export { nextStepAt } from '../core/escalation.js';
export { routeNewIncidents, vetoQuietRoutes } from './routing.js';

/** What the tick needs from outside for on-call (main.ts wires it): PagerDuty, and a model for report drafts. */
export interface TickOncall {
  who: WhoDeps;
  /** Drafts the post-incident report with a model; absent or failing, the rules draft stands. */
  drafter?: ReportDrafter;
  log?: Logger;
}

/** Who the brain may DM as the on-call: the `onCall` list and the Tacit rotation's levels now (no network: PagerDuty is asked only by escalation). */
export function onCallPeople(settings: WorkspaceSettings, now: Date): string[] {
  const shift = settings.oncall.rotation ? rotationShift(settings.oncall.rotation, now) : null;
  return [...new Set([...settings.onCall, ...(shift?.levels ?? [])])];
}

/** The due escalation steps, taken: the incidents in `byId` move on, and each step is time-based news. */
export function takeDueSteps(byId: Map<string, Incident>, moved: ReadonlySet<string>, settings: WorkspaceSettings, now: Date): IncidentTransition[] {
  const out: IncidentTransition[] = [];
  for (const due of dueSteps(byId.values(), settings, now)) {
    if (moved.has(due.incidentId)) continue;
    const incident = byId.get(due.incidentId);
    if (!incident) continue;
    byId.set(incident.id, takeStep(incident, due, now));
    out.push({ kind: 'unacknowledged', incidentId: incident.id, eventIds: [] });
  }
  return out;
}

export interface OncallPlan {
  messages: PlannedMessage[];
  steps: StepRecord[];
  reports: StoredReport[];
}

export async function planOncall(
  deps: TickOncall | undefined, db: Db,
  tick: {
    workspaceId: string; settings: WorkspaceSettings; now: Date; decisionId: string | null; byId: ReadonlyMap<string, Incident>;
    transitions: readonly IncidentTransition[]; planned: readonly PlannedMessage[]; signal?: AbortSignal;
  },
): Promise<OncallPlan> {
  const time = { now: tick.now, timezone: tick.settings.timezone };
  const taken = stepsThisTick(tick.byId, tick.settings, tick.now);
  let roster: Promise<OnCallRoster> | undefined;
  // Asked at most once per tick, and only when a step DMs the on-call.
  const ask = () => (roster ??= whoIsOnCall(deps?.who ?? { pagerduty: async () => undefined }, tick.workspaceId, tick.settings, tick.now, tick.signal));
  const escalation = taken.length > 0 ? await planEscalation(taken, tick.settings, tick.planned, tick.decisionId, time, ask) : { messages: [], steps: [] };
  const resolved = tick.transitions.filter((x) => x.kind === 'resolved').flatMap((x) => tick.byId.get(x.incidentId) ?? []);
  const reports = resolved.length > 0
    ? await planReports(db, { workspaceId: tick.workspaceId, decisionId: tick.decisionId, time, signal: tick.signal, log: deps?.log }, resolved, deps?.drafter)
    : { messages: [], reports: [] };
  return { messages: [...escalation.messages, ...reports.messages], steps: escalation.steps, reports: reports.reports };
}

/** Inside the tick's transaction: the steps taken (with what the policy did) and the reports. */
export async function commitOncall(tx: Tx, plan: OncallPlan, policy: PolicyResult | undefined, queuedKeys: ReadonlySet<string>, now: Date): Promise<void> {
  await recordSteps(tx, plan.steps, policy, queuedKeys, now);
  for (const r of plan.reports) await tx.update(incidents).set({ report: r.report }).where(eq(incidents.id, r.incidentId));
}
