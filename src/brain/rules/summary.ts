// Templates for the rules brain's incident summaries: what, where, since when, how bad, and what
// to look at next. Only facts from the alert; nothing invented.
import { firingAlerts, type Incident } from '../../core/incidents.js';
import type { RepoEvent } from '../../core/events.js';
import type { DigestFacts } from '../port.js';

const interestingLabels = ['service', 'job', 'instance', 'namespace', 'cluster', 'env', 'environment', 'region'];

export function duration(from: Date, to: Date): string {
  const s = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

export function openingSummary(incident: Incident, now: Date): string {
  const firing = firingAlerts(incident);
  const first = firing[0]?.[1];
  const lines = [`*${incident.title}* is firing (${incident.severity}) since ${incident.startedAt.toISOString()} — ${duration(incident.startedAt, now)} ago.`];
  if (first?.annotations.description) lines.push(`> ${first.annotations.description}`);
  const where = interestingLabels
    .flatMap((k) => (first?.labels[k] ? [`${k}=${first.labels[k]}`] : []))
    .join(', ');
  if (where) lines.push(`Where: ${where}`);
  if (firing.length > 1) lines.push(`${firing.length} alerts firing in this group.`);
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

export function resolutionSummary(incident: Incident): string {
  const end = incident.resolvedAt ?? new Date();
  return `Resolved: *${incident.title}* after ${duration(incident.startedAt, end)} (at ${end.toISOString()}).`;
}

export function nudgeNote(incident: Incident, now: Date): string {
  return `*${incident.title}* has been firing for ${duration(incident.startedAt, now)} and nobody has acknowledged it. If you are on it, press Acknowledge on the card.`;
}

export function flappingNote(incident: Incident): string {
  return `*${incident.title}* is flapping: it fired ${incident.recurrences + 1} times, resolving in between. I will keep the card up to date and stay quiet about each cycle until it settles.`;
}

export function recurrenceNotice(incident: Incident): string {
  const times = incident.recurrences === 1 ? 'once before' : `${incident.recurrences} times before`;
  return `*${incident.title}* is firing again (${incident.severity}); it had resolved ${times}. Details continue in its thread.`;
}

export function digestText(d: DigestFacts): string {
  const list = (items: Incident[]) => items.map((i) => `• ${i.title} (${i.severity})`).join('\n');
  const lines = [`*Daily digest for ${d.date}* — the last 24 hours.`];
  if (d.opened.length === 0 && d.resolved.length === 0 && d.stillOpen.length === 0) lines.push('No incidents. All quiet.');
  if (d.opened.length > 0) lines.push(`Opened (${d.opened.length}):`, list(d.opened));
  if (d.resolved.length > 0) lines.push(`Resolved (${d.resolved.length}):`, list(d.resolved));
  if (d.stillOpen.length > 0) lines.push(`Still open (${d.stillOpen.length}):`, list(d.stillOpen));
  lines.push(`I made ${d.decisions} decision(s) and posted ${d.messages} message(s).`);
  return lines.join('\n');
}

export function repoNotice(e: RepoEvent): string {
  const what = e.change === 'deploy' ? `Deploy to ${e.environment ?? 'an environment'} failed` : `CI failed on ${e.branch ?? 'the default branch'}`;
  const lines = [`*${what}* in ${e.repo}: ${e.title}`];
  if (e.sha) lines.push(`Commit ${e.sha.slice(0, 7)}${e.actor ? ` by ${e.actor}` : ''}.`);
  if (e.url) lines.push(`Details: ${e.url}`);
  return lines.join('\n');
}
