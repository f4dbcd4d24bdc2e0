// Templates for the rules brain's incident summaries: what, where, since when, how bad, and what
// to look at next. Only facts from the alert; nothing invented.
import { alertOverview, count, needsAlertFile } from '../../core/alert-list.js';
import { clockTime, spanText, timeWithRelative, type TimeContext } from '../../core/human-time.js';
import { firingAlerts, type Incident } from '../../core/incidents.js';
import type { RepoEvent } from '../../core/events.js';
import type { RepoHealthChange } from '../../core/repo-health.js';
import type { DigestFacts } from '../port.js';

const interestingLabels = ['service', 'job', 'instance', 'namespace', 'cluster', 'env', 'environment', 'region'];

export function duration(from: Date, to: Date): string {
  return spanText(to.getTime() - from.getTime());
}

export function openingSummary(incident: Incident, time: TimeContext): string {
  const firing = firingAlerts(incident);
  const first = firing[0]?.[1];
  const lines = [`*${incident.title}* is firing (${incident.severity}) since ${timeWithRelative(incident.startedAt, time)}.`];
  if (first?.annotations.description) lines.push(`> ${first.annotations.description}`);
  const where = interestingLabels
    .flatMap((k) => (first?.labels[k] ? [`${k}=${first.labels[k]}`] : []))
    .join(', ');
  if (where) lines.push(`Where: ${where}`);
  if (firing.length > 1) lines.push(...groupLines(incident));
  if (incident.suspects.length > 0) {
    lines.push('', 'Changed shortly before it started:');
    for (const s of incident.suspects) {
      const ago = duration(new Date(s.at), incident.startedAt);
      lines.push(`• ${s.repo}: ${s.title} (${ago} before)${s.url ? ` — ${s.url}` : ''}`);
    }
  }
  lines.push('', 'Next steps:');
  const runbook = first?.annotations.runbook_url ?? first?.annotations.runbook;
  if (runbook) lines.push(`• Follow the runbook: ${runbook}`);
  const source = first?.links[0];
  if (source) lines.push(`• Check the source graph: ${source.url}`);
  lines.push('• Acknowledge with the button on the incident card so others know someone is on it.');
  return lines.join('\n');
}

/** A group in a few lines: counts, what all its alerts share, three examples; never one line per alert. */
function groupLines(incident: Incident): string[] {
  const o = alertOverview(incident, 3);
  const lines = [`${count(o.firing)} alerts firing in this group${o.total > o.firing ? ` (${count(o.total)} in all)` : ''}.`];
  const awaiting = incident.awaitingAlerts ?? 0;
  if (awaiting > 0) lines.push(`The group holds ${count(o.total + awaiting)} alerts; the card counts them as they are read.`);
  if (o.common.length > 0) lines.push(`All of them: ${o.common.slice(0, 8).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const examples = o.examples.map((e) => e.labels).filter((l) => l.length > 0);
  if (needsAlertFile(incident) && examples.length > 0) {
    lines.push(`For example: ${examples.join('; ')} — and ${count(o.more)} more, listed in the file in this thread.`);
  }
  return lines;
}

export function resolutionSummary(incident: Incident, time: TimeContext): string {
  const end = incident.resolvedAt ?? time.now;
  return `Resolved: *${incident.title}* at ${clockTime(end, time)}, after ${duration(incident.startedAt, end)}.`;
}

export function nudgeNote(incident: Incident, time: TimeContext): string {
  return `*${incident.title}* has been firing for ${duration(incident.startedAt, time.now)} (since ${clockTime(incident.startedAt, time)}) and nobody has acknowledged it. If you are on it, press Acknowledge on the card.`;
}

export function flappingNote(incident: Incident): string {
  return `*${incident.title}* is flapping: it fired ${incident.recurrences + 1} times, resolving in between. I will keep the card up to date and stay quiet about each cycle until it settles.`;
}

export function recurrenceNotice(incident: Incident): string {
  const times = incident.recurrences === 1 ? 'once before' : `${incident.recurrences} times before`;
  return `*${incident.title}* is firing again (${incident.severity}); it had resolved ${times}. Details continue in its thread.`;
}

export function digestText(d: DigestFacts, time: TimeContext): string {
  const list = (items: Incident[], when: (i: Incident) => string) => items.map((i) => `• ${i.title} (${i.severity}) — ${when(i)}`).join('\n');
  const lines = [`*Daily digest for ${d.date}* — the last 24 hours (since ${clockTime(d.since, time)}).`];
  if (d.opened.length === 0 && d.resolved.length === 0 && d.stillOpen.length === 0) lines.push('No incidents. All quiet.');
  if (d.opened.length > 0) lines.push(`Opened (${d.opened.length}):`, list(d.opened, (i) => `started ${clockTime(i.startedAt, time)}`));
  if (d.resolved.length > 0) {
    const resolved = (i: Incident) => (i.resolvedAt ? `resolved ${clockTime(i.resolvedAt, time)} after ${duration(i.startedAt, i.resolvedAt)}` : 'resolved');
    lines.push(`Resolved (${d.resolved.length}):`, list(d.resolved, resolved));
  }
  if (d.stillOpen.length > 0) lines.push(`Still open (${d.stillOpen.length}):`, list(d.stillOpen, (i) => `since ${timeWithRelative(i.startedAt, time)}`));
  lines.push(`I made ${d.decisions} decision(s) and posted ${d.messages} message(s).`);
  return lines.join('\n');
}

/** The one short notice that a red default branch is green again. */
export function greenNotice(c: RepoHealthChange, time: TimeContext): string {
  const red = c.redSince ? ` after ${duration(c.redSince, c.health.since)} red (since ${clockTime(c.redSince, time)})` : '';
  return `*${c.health.branch} is green again* in ${c.health.repo}: ${c.health.workflow} passed${red}.`;
}

export function repoNotice(e: RepoEvent): string {
  const what = e.change === 'deploy' ? `Deploy to ${e.environment ?? 'an environment'} failed` : `CI failed on ${e.branch ?? 'the default branch'}`;
  const lines = [`*${what}* in ${e.repo}: ${e.title}`];
  if (e.sha) lines.push(`Commit ${e.sha.slice(0, 7)}${e.actor ? ` by ${e.actor}` : ''}.`);
  if (e.url) lines.push(`Details: ${e.url}`);
  return lines.join('\n');
}
