// The messages of the escalation steps a tick just took (core/escalation.ts decides which are due):
// the reminder in the thread (unless the brain wrote it already) and DMs to the on-call at a level.
// Each step is recorded in incident_steps, with what the restraint policy let through.
import { clockTime, type TimeContext } from '../core/human-time.js';
import { botFooter } from '../core/incident-card.js';
import { stepJustTaken, type DueStep } from '../core/escalation.js';
import type { Incident } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import type { PersonalQuietHours } from '../core/oncall-settings.js';
import type { PlannedMessage } from '../core/plan.js';
import type { PolicyResult } from '../core/policy.js';
import { localMinutes, type WorkspaceSettings } from '../core/settings.js';
import type { Tx } from '../db/client.js';
import { incidentSteps } from '../db/schema.js';
import type { OnCallRoster } from './who.js';

export interface StepRecord {
  workspaceId: string;
  incidentId: string;
  /** 1-based, as people read it. */
  step: number;
  to: string;
  via?: string;
  problem?: string;
  /** People messaged (chat ids) and people passed over, with why. */
  notified: string[];
  skipped: { who: string; why: string }[];
  /** The outbox keys of this step's messages, to report what the policy did with each. */
  keys: string[];
}

export interface EscalationPlan {
  messages: PlannedMessage[];
  steps: StepRecord[];
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export function reminderKey(incident: Incident): string {
  return boundKey(`incident:${incident.id}:nudge:${incident.startedAt.toISOString()}`);
}

function message(text: string, decisionId: string | null, notify?: string) {
  return { text, blocks: [{ kind: 'section' as const, text }, { kind: 'context' as const, text: botFooter(decisionId) }], ...(notify ? { notify } : {}) };
}

/** True when local time in the person's zone is inside their quiet hours. */
export function inPersonalQuietHours(q: PersonalQuietHours, now: Date): boolean {
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const start = toMin(q.start);
  const end = toMin(q.end);
  if (start === end) return false;
  const local = localMinutes(now, q.timezone);
  return start < end ? local >= start && local < end : local >= start || local < end;
}

/** Incidents that took a step in this tick, with the step. */
export function stepsThisTick(byId: ReadonlyMap<string, Incident>, settings: WorkspaceSettings, now: Date): { incident: Incident; due: DueStep }[] {
  return [...byId.values()].flatMap((incident) => {
    const due = stepJustTaken(incident, settings, now);
    return due ? [{ incident, due }] : [];
  });
}

/**
 * @param planned messages already planned this tick (the brain's nudge has the reminder's key)
 * @param roster asked only when a step needs the on-call
 */
export async function planEscalation(
  taken: readonly { incident: Incident; due: DueStep }[], settings: WorkspaceSettings, planned: readonly PlannedMessage[],
  decisionId: string | null, time: TimeContext, roster: () => Promise<OnCallRoster>,
): Promise<EscalationPlan> {
  const out: EscalationPlan = { messages: [], steps: [] };
  for (const { incident, due } of taken) {
    const base = { workspaceId: incident.workspaceId, incidentId: incident.id, step: due.index + 1 };
    const post = (key: string, purpose: PlannedMessage['purpose'], anchor: PlannedMessage['anchor'], text: string, notify?: string): PlannedMessage => ({
      idempotencyKey: key, purpose, kind: 'post', channelId: incident.channelId, anchor, incidentId: incident.id, incidentVersion: incident.version,
      message: message(text, decisionId, notify),
    });
    if (due.step.to === 'thread') {
      const key = reminderKey(incident);
      if (!planned.some((m) => m.idempotencyKey === key)) {
        const text = `*${incident.title}* has been firing for ${minutes(time.now.getTime() - incident.startedAt.getTime())} (since ${clockTime(incident.startedAt, time)}) and nobody has acknowledged it. If you are on it, press Acknowledge on the card.`;
        out.messages.push(post(key, 'nudge', { type: 'incident_thread' }, text));
      }
      out.steps.push({ ...base, to: 'thread', notified: [], skipped: [], keys: [key] });
      continue;
    }
    const level = due.step.to.level;
    const who = await roster();
    // Fewer levels than the policy has steps: the last level is asked again rather than nobody.
    const people = who.levels[level - 1] ?? who.levels[who.levels.length - 1] ?? [];
    const record: StepRecord = { ...base, to: `level ${level}`, via: who.via, ...(who.problem ? { problem: who.problem } : {}), notified: [], skipped: [], keys: [] };
    if (people.length === 0) record.skipped.push({ who: `level ${level}`, why: 'nobody is on call' });
    for (const p of people) {
      if (!p.personId) {
        record.skipped.push({ who: p.label, why: 'no chat person mapped (oncall.people)' });
        continue;
      }
      const quiet = settings.oncall.quietHours[p.personId];
      if (incident.severity !== 'critical' && quiet && inPersonalQuietHours(quiet, time.now)) {
        record.skipped.push({ who: p.personId, why: `personal quiet hours ${quiet.start}–${quiet.end} ${quiet.timezone} (${incident.severity})` });
        continue;
      }
      const key = boundKey(`incident:${incident.id}:escalation:${incident.startedAt.toISOString()}:${due.index + 1}:${p.personId}`);
      const text = `You are on call (level ${level}${who.via === 'pagerduty' ? ', from PagerDuty' : ''}): *${incident.title}* (${incident.severity}) has been firing for ${minutes(time.now.getTime() - incident.startedAt.getTime())} and nobody has acknowledged it. Its card is in the incident channel; press Acknowledge there if you are on it.`;
      out.messages.push(post(key, 'escalation', { type: 'dm', personId: p.personId }, text, p.personId));
      record.notified.push(p.personId);
      record.keys.push(key);
    }
    out.steps.push(record);
  }
  return out;
}

/** Inside the tick's transaction: one incident_steps row per step, with what became of each message. */
export async function recordSteps(tx: Tx, steps: readonly StepRecord[], policy: PolicyResult | undefined, queuedKeys: ReadonlySet<string>, now: Date): Promise<void> {
  if (steps.length === 0) return;
  const fate = (key: string): string => {
    if (queuedKeys.has(key)) return 'queued';
    const held = policy?.held.find((h) => h.message.idempotencyKey === key);
    if (held) return `held: ${held.reason}`;
    const vetoed = policy?.vetoed.find((v) => v.message.idempotencyKey === key);
    if (vetoed) return `vetoed: ${vetoed.reason}`;
    return 'already queued earlier';
  };
  await tx.insert(incidentSteps).values(steps.map((s) => ({
    workspaceId: s.workspaceId, incidentId: s.incidentId, kind: 'escalation', actor: 'tacit', at: now,
    detail: {
      step: s.step, to: s.to, ...(s.via ? { via: s.via } : {}), ...(s.problem ? { problem: s.problem } : {}),
      notified: s.notified, skipped: s.skipped, messages: Object.fromEntries(s.keys.map((k) => [k, fate(k)])),
    },
  })));
}
