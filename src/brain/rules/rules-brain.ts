// RulesBrain: the offline, deterministic brain. Templates for incident news and simple answers to
// mentions; no network, no tokens. The default without ANTHROPIC_API_KEY and the fallback otherwise.
import { noUsage, type Decision, type Intent, type Reply } from '../../core/decisions.js';
import type { Brain, Conversation, DecideContext } from '../port.js';
import type { ActionInfo } from '../../core/actions.js';
import type { Incident } from '../../core/incidents.js';
import { sharedMatchers } from '../../core/silence.js';
import { repoNeedsAttention } from '../../core/gate.js';
import { healthNoticeKey, tracksHealth } from '../../core/repo-health.js';
import { timeWithRelative } from '../../core/human-time.js';
import { findingsText } from './findings.js';
import { digestText, flappingNote, greenNotice, repoNotice, nudgeNote, openingSummary, recurrenceNotice, resolutionSummary } from './summary.js';

export class RulesBrain implements Brain {
  readonly name = 'rules';

  async decide(context: DecideContext): Promise<Decision> {
    const intents: Intent[] = [];
    const time = { now: context.now, timezone: context.timezone ?? 'UTC' };
    for (const t of context.transitions) {
      const incident = context.incidents.get(t.incidentId);
      if (!incident) continue;
      switch (t.kind) {
        case 'opened':
          intents.push({ type: 'post_summary', incidentId: incident.id, text: openingSummary(incident, time) });
          break;
        case 'resolved':
          intents.push({ type: 'post_summary', incidentId: incident.id, text: resolutionSummary(incident, time) });
          break;
        case 'recurred':
          intents.push({ type: 'announce_recurrence', incidentId: incident.id, text: recurrenceNotice(incident) });
          intents.push({ type: 'post_summary', incidentId: incident.id, text: openingSummary(incident, time) });
          break;
        case 'unacknowledged':
          intents.push({ type: 'nudge', incidentId: incident.id, text: nudgeNote(incident, time) });
          break;
        case 'flapping': {
          // Said in the channel, where the re-fire is seen: the thread would hide it.
          intents.push({ type: 'announce_recurrence', incidentId: incident.id, text: flappingNote(incident) });
          // A flapping alert is noise while someone looks: offer to silence it (a person decides).
          const silence = silenceProposal(incident, context.actions ?? []);
          if (silence) intents.push(silence);
          break;
        }
        case 'changed':
          break;
        default: {
          const never: never = t.kind;
          throw new Error(`unhandled transition ${String(never)}`);
        }
      }
    }
    for (const e of context.events) {
      if (e.payload.kind !== 'repo' || !repoNeedsAttention(e.payload)) continue;
      // With branch health known, CI is told as the branch's change of state (below), once.
      if (context.repoHealth && tracksHealth(e.payload)) continue;
      intents.push({ type: 'notice', channelId: e.payload.channelId, key: `repo-event:${e.id}`, text: repoNotice(e.payload) });
    }
    for (const c of context.repoHealth ?? []) {
      const event = context.events.find((e) => e.id === c.eventId)?.payload;
      if (event?.kind !== 'repo') continue;
      intents.push({ type: 'notice', channelId: c.channelId, key: healthNoticeKey(c), text: c.kind === 'broke' ? repoNotice(event) : greenNotice(c, time) });
    }
    if (context.digest) intents.push({ type: 'digest', channelId: context.digest.channelId, date: context.digest.date, text: digestText(context.digest, time) });
    for (const report of context.investigations ?? []) {
      const incident = context.incidents.get(report.incidentId);
      if (!incident || incident.status === 'resolved') continue;
      const { text, hypotheses } = findingsText(report, incident, time);
      intents.push({ type: 'post_findings', incidentId: incident.id, investigationId: report.investigationId, text, hypotheses, ...(report.chart ? { chart: report.chart } : {}) });
    }
    if (intents.length === 0) return { kind: 'quiet', reasons: [...context.reasons, 'nothing worth saying'], usage: noUsage };
    return { kind: 'speak', reasons: context.reasons, intents, usage: noUsage };
  }

  async reply(conversation: Conversation): Promise<Reply> {
    return { text: answer(conversation), usage: noUsage };
  }
}

/** Offers to silence a flapping incident's alerts (its shared labels); a person decides. */
function silenceProposal(incident: Incident, actions: readonly ActionInfo[]): Intent | null {
  if (!actions.some((a) => a.name === 'alertmanager.silence')) return null;
  const matchers = sharedMatchers(incident);
  if (matchers.length === 0) return null;
  return {
    type: 'propose_action',
    action: 'alertmanager.silence',
    incidentId: incident.id,
    params: { matchers, durationMinutes: 60, comment: `Flapping: ${incident.title}` },
    reason: `"${incident.title}" is flapping (${incident.cycleTimes.length + 1} firings recently). Silence it for 1h while someone looks?`,
  };
}

function answer(c: Conversation): string {
  const text = c.text.toLowerCase();
  if (/\b(help|commands?|what can you do)\b/.test(text)) return help();
  if (/\b(watch|watching|sources?|monitor)/.test(text)) return watching(c);
  if (/\b(status|incidents?|what'?s (up|going on)|anything)\b/.test(text) || text.trim() === '') return status(c);
  return [`I'm Tacit, a bot. I did not understand that, so here is where things stand.`, status(c), '', help()].join('\n');
}

function status(c: Conversation): string {
  if (c.openIncidents.length === 0) return `All quiet: no open incidents. ${watching(c)}`;
  const lines = c.openIncidents.map(
    (i) => `• *${i.title}* — ${i.status} (${i.severity}) since ${timeWithRelative(i.startedAt, { now: c.now, timezone: c.timezone ?? 'UTC' })}`,
  );
  return [`${c.openIncidents.length} open incident(s):`, ...lines].join('\n');
}

function watching(c: Conversation): string {
  if (c.watching.length === 0) return 'I am not watching any alert sources yet.';
  const list = c.watching.map((w) => `${w.kind} → #${w.channelName}`).join(', ');
  return `I am watching: ${list}.`;
}

function help(): string {
  return [
    'I watch alerts and post incident summaries in threads, and stay quiet otherwise. Ask me:',
    '• `@tacit status` — open incidents',
    '• `@tacit what are you watching` — connected alert sources',
  ].join('\n');
}
