// The escalation policy as time-based news: which step an unacknowledged incident is due for, and
// when the next one falls due. Step 1 of every policy is the thread reminder ("nudge") that used to
// stand alone; incidents outside the policy's severities keep that single reminder. Pure.
import type { EscalationStep } from './oncall-settings.js';
import type { Incident, IncidentTransition } from './incidents.js';
import { quietHoursEnd, type WorkspaceSettings } from './settings.js';

type EscalationSettings = Pick<WorkspaceSettings, 'escalation' | 'unacknowledgedAfterMs' | 'quietHours' | 'timezone'>;

/** The steps an incident goes through while nobody acknowledges it. */
export function stepsFor(incident: Incident, settings: EscalationSettings): EscalationStep[] {
  if (settings.escalation.severities.includes(incident.severity)) return settings.escalation.steps;
  return [{ afterMs: settings.unacknowledgedAfterMs, to: 'thread' }];
}

/** Steps already taken in this occurrence (a recurrence starts again from the first). */
export function stepsTaken(i: Incident): number {
  const level = i.escalatedAt && i.escalatedAt >= i.startedAt ? (i.escalationLevel ?? 0) : 0;
  // Reminded before escalation existed: that reminder was step 1.
  const nudged = i.nudgedAt !== null && i.nudgedAt >= i.startedAt ? 1 : 0;
  return Math.max(level, nudged);
}

/** Reminders count from the card (an old alert is not news to nag about) and stop at the first acknowledgement. */
function base(i: Incident): number {
  return Math.max(i.startedAt.getTime(), i.announcedAt?.getTime() ?? 0);
}

function awaiting(i: Incident): boolean {
  return i.status === 'firing' && i.announced && !i.stormId;
}

/** During the workspace's quiet hours a non-critical incident's steps wait for them to end (critical ones never wait). */
function heldUntil(i: Incident, settings: EscalationSettings, now: Date): Date | null {
  return i.severity === 'critical' ? null : quietHoursEnd(settings, now);
}

export interface DueStep {
  incidentId: string;
  /** 0-based index into stepsFor(incident). */
  index: number;
  step: EscalationStep;
}

/** The next step of each incident that is due now (one per incident per tick: a missed step is taken on the next). */
export function dueSteps(incidents: Iterable<Incident>, settings: EscalationSettings, now: Date): DueStep[] {
  const out: DueStep[] = [];
  for (const i of incidents) {
    if (!awaiting(i)) continue;
    const index = stepsTaken(i);
    const step = stepsFor(i, settings)[index];
    if (step && now.getTime() >= base(i) + step.afterMs && !heldUntil(i, settings, now)) out.push({ incidentId: i.id, index, step });
  }
  return out;
}

/** When the next step of any incident falls due, if any. */
export function nextStepAt(incidents: Iterable<Incident>, settings: EscalationSettings, now: Date): Date | null {
  let next: number | null = null;
  for (const i of incidents) {
    if (!awaiting(i)) continue;
    const step = stepsFor(i, settings)[stepsTaken(i)];
    if (!step) continue;
    const at = Math.max(now.getTime(), base(i) + step.afterMs, heldUntil(i, settings, now)?.getTime() ?? 0);
    next = next === null ? at : Math.min(next, at);
  }
  return next === null ? null : new Date(next);
}

/** The incident once the step is taken: its level, when, and (for the thread reminder) nudgedAt as before. */
export function takeStep(incident: Incident, due: DueStep, now: Date): Incident {
  return {
    ...incident,
    escalationLevel: due.index + 1,
    escalatedAt: now,
    nudgedAt: due.step.to === 'thread' ? now : incident.nudgedAt,
  };
}

/** Due steps as the tick's time-based news (the gate wakes on `unacknowledged`). */
export function stepTransitions(due: readonly DueStep[]): IncidentTransition[] {
  return due.map((d) => ({ kind: 'unacknowledged', incidentId: d.incidentId, eventIds: [] }));
}

/** The step an incident took in this tick, from its new level (for planning its messages). */
export function stepJustTaken(incident: Incident, settings: EscalationSettings, now: Date): DueStep | null {
  if (!incident.escalatedAt || incident.escalatedAt.getTime() !== now.getTime()) return null;
  const index = (incident.escalationLevel ?? 0) - 1;
  const step = stepsFor(incident, settings)[index];
  return step ? { incidentId: incident.id, index, step } : null;
}
