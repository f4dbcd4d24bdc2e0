// When an incident resolves: its timeline and a post-incident draft (summary, impact window, what
// helped, open questions) as two files in its thread, and kept in incidents.report for the dashboard.
// The rules draft needs no network; a model (ReportDrafter) may write a better one when configured.
import { clockTime, spanText, type TimeContext } from '../core/human-time.js';
import { botFooter } from '../core/incident-card.js';
import type { Incident } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import type { PlannedMessage } from '../core/plan.js';
import type { Usage } from '../core/decisions.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../log.js';
import { incidentTimeline, type Timeline } from './timeline.js';

/** What a drafter is given: facts only, every text in it untrusted data. */
export interface ReportFacts {
  incident: Incident;
  timeline: Timeline;
  timezone: string;
  now: Date;
}

export interface ReportDrafter {
  readonly name: string;
  /** A draft in Markdown, or null to keep the rules draft. */
  draft(facts: ReportFacts, signal?: AbortSignal): Promise<{ text: string; usage: Usage } | null>;
}

export interface StoredReport {
  incidentId: string;
  report: Record<string, unknown>;
}

export function timelineText(incident: Incident, t: Timeline, time: TimeContext): string {
  const lines = [
    `# Timeline: ${incident.title}`,
    '',
    `Incident ${incident.id} · ${incident.severity} · ${clockTime(incident.startedAt, time)} → ${incident.resolvedAt ? clockTime(incident.resolvedAt, time) : 'open'}`,
    '',
    ...t.entries.map((e) => `- ${clockTime(e.at, time)} [${e.kind}] ${e.text}`),
    ...(t.moreAlerts > 0 ? [`- … and ${t.moreAlerts} more alert events`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The rules brain's draft: facts from the timeline, and the questions they leave open. */
export function rulesDraft(f: ReportFacts): string {
  const { incident, timeline: t } = f;
  const time = { now: f.now, timezone: f.timezone };
  const end = incident.resolvedAt ?? f.now;
  const alerts = Object.keys(incident.alerts).length;
  const firstAck = t.acknowledgedBy[0];
  const helped = [
    ...(firstAck ? [`${firstAck.who} acknowledged it at ${clockTime(firstAck.at, time)}, ${spanText(firstAck.at.getTime() - incident.startedAt.getTime())} after it started.`] : []),
    ...t.actions.filter((a) => a.status === 'executed').map((a) => `Action ${a.action} was approved${a.by ? ` by ${a.by}` : ''} and ran.`),
    ...(t.escalationSteps > 0 ? [`Escalation took ${t.escalationSteps} step${t.escalationSteps === 1 ? '' : 's'} before it ended.`] : []),
  ];
  const questions = [
    ...(!firstAck ? ['Nobody acknowledged it: did the right people know? Is the escalation policy right for this alert?'] : []),
    ...(firstAck && firstAck.at.getTime() - incident.startedAt.getTime() > 15 * 60_000 ? ['Acknowledgement took over 15 minutes: why?'] : []),
    ...incident.suspects.slice(0, 3).map((s) => `Did ${s.repo} "${s.title}" (${s.change}) cause it?`),
    ...t.actions.filter((a) => a.status === 'failed' || a.status === 'denied' || a.status === 'expired').map((a) => `Action ${a.action} ${a.status}: was it needed?`),
    ...(incident.recurrences > 0 ? [`It has fired ${incident.recurrences + 1} times: is there a lasting fix?`] : []),
    'What ended it: a fix, a rollback, or did it resolve by itself?',
  ];
  return [
    `# Post-incident draft: ${incident.title}`,
    '',
    '_A draft by Tacit (bot) from what it saw; edit before sharing._',
    '',
    '## Summary',
    `${incident.title} (${incident.severity}) fired at ${clockTime(incident.startedAt, time)} with ${alerts} alert${alerts === 1 ? '' : 's'} and resolved at ${clockTime(end, time)}.`,
    '',
    '## Impact window',
    `${clockTime(incident.startedAt, time)} → ${clockTime(end, time)} (${spanText(end.getTime() - incident.startedAt.getTime())}).`,
    '',
    '## What helped',
    ...(helped.length > 0 ? helped.map((h) => `- ${h}`) : ['- Nothing recorded: no acknowledgement, action or escalation.']),
    '',
    '## Open questions',
    ...questions.map((q) => `- ${q}`),
    '',
  ].join('\n');
}

function fileName(prefix: string, incident: Incident): string {
  return `${prefix}-${incident.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 60)}.md`;
}

/** Resolved incidents whose card is posted (and not flapping, not inside a storm) get their report. */
export async function planReports(
  db: Db, ctx: { workspaceId: string; decisionId: string | null; time: TimeContext; signal?: AbortSignal; log?: Logger },
  resolved: readonly Incident[], drafter?: ReportDrafter,
): Promise<{ messages: PlannedMessage[]; reports: StoredReport[] }> {
  const messages: PlannedMessage[] = [];
  const reports: StoredReport[] = [];
  for (const incident of resolved) {
    if (!incident.announced || incident.flapping || incident.stormId) continue;
    const timeline = await incidentTimeline(db, incident);
    const facts: ReportFacts = { incident, timeline, timezone: ctx.time.timezone, now: ctx.time.now };
    let draft = rulesDraft(facts);
    let by = 'rules';
    if (drafter) {
      try {
        const drafted = await drafter.draft(facts, ctx.signal);
        if (drafted) {
          draft = drafted.text;
          by = drafter.name;
        }
      } catch (err) {
        ctx.log?.warn({ err, incidentId: incident.id }, 'model draft of the post-incident report failed; the rules draft stands');
      }
    }
    const timelineFile = timelineText(incident, timeline, ctx.time);
    const occurrence = incident.startedAt.toISOString();
    const post = (part: string, text: string, filename: string, content: string): PlannedMessage => ({
      idempotencyKey: boundKey(`incident:${incident.id}:report:${occurrence}:${part}`),
      purpose: 'report', kind: 'post', channelId: incident.channelId, anchor: { type: 'incident_thread' },
      incidentId: incident.id, incidentVersion: incident.version,
      message: { text, blocks: [{ kind: 'section', text }, { kind: 'context', text: botFooter(ctx.decisionId) }], file: { filename, content } },
    });
    messages.push(
      post('timeline', `📎 Timeline of this incident (${timeline.entries.length} entries).`, fileName('timeline', incident), timelineFile),
      post('draft', `📎 Post-incident draft (${by === 'rules' ? 'from the rules' : `written by ${by}`}): summary, impact window, what helped, open questions. Edit before sharing.`, fileName('post-incident', incident), draft),
    );
    reports.push({
      incidentId: incident.id,
      report: {
        occurrence, generatedAt: ctx.time.now.toISOString(), by, draft, timeline: timelineFile,
        impact: { from: occurrence, to: (incident.resolvedAt ?? ctx.time.now).toISOString() },
      },
    });
  }
  return { messages, reports };
}
