// The fake Claude the shared scenarios run with: it answers mentions, and for every incident the prompt
// reports as opened it posts a summary, attaches a timeline and proposes silencing the alert for an hour.
import type { FakeAnthropic, FakeBlock, FakeRequest } from '../fakes/anthropic.js';

export const REPLY_TEXT = 'I am Tacit, a bot; I am watching this channel.';
export const TIMELINE_FILE = 'timeline.md';

export function summaryText(alertname: string): string {
  return `Summary: ${alertname} is firing; a silence is proposed below.`;
}

export function timelineText(alertname: string): string {
  return `# ${alertname}\n\n- fired\n- Tacit proposed a 1h silence\n`;
}

const toolNames = (req: FakeRequest): string[] => (req.tools ?? []).flatMap((t) => ('name' in t ? [t.name] : []));

/** The alertname in the incident's own block of the prompt (the prompt JSON-quotes the alert's labels). */
function alertnameOf(prompt: string, incidentId: string): string {
  const block = prompt.slice(prompt.lastIndexOf(`incident ${incidentId}`));
  return /alertname\\+": ?\\+"([\w-]+)/.exec(block)?.[1] ?? /alertname\\+": ?\\+"([\w-]+)/.exec(prompt)?.[1] ?? 'unknown';
}

/**
 * A fake Claude that says yes at triage, answers mentions with REPLY_TEXT, and for each incident the
 * prompt reports as opened calls the tools `perIncident` returns; otherwise it stays quiet.
 */
export function scriptOpenedIncidents(claude: FakeAnthropic, perIncident: (incidentId: string, alertname: string) => FakeBlock[]): void {
  claude.script((req) => {
    // Tool use is never forced: a triage request is the one offering only the triage tool.
    if (toolNames(req).includes('triage')) {
      return { content: [{ type: 'tool_use', name: 'triage', input: { worth_it: true, reason: 'something changed' } }] };
    }
    if (toolNames(req).includes('reply')) return { content: [{ type: 'tool_use', name: 'reply', input: { text: REPLY_TEXT } }] };
    if (!toolNames(req).includes('propose_action')) return undefined;
    const prompt = JSON.stringify(req.messages[0]);
    const opened = [...prompt.matchAll(/(inc_[0-9a-f-]{36}) opened/g)].map((m) => m[1] ?? '');
    // Later rounds carry tool results: the decision was made in the first.
    if (opened.length === 0 || req.messages.length > 1) return { content: [{ type: 'tool_use', name: 'stay_quiet', input: { reason: 'nothing new' } }] };
    return { content: opened.flatMap((incidentId) => perIncident(incidentId, alertnameOf(prompt, incidentId))) };
  });
}

/** The shared scenarios: a summary, a timeline file and a proposed 1-hour silence per new incident. */
export function scriptIncidentClaude(claude: FakeAnthropic): void {
  scriptOpenedIncidents(claude, (incidentId, alertname) => [
    { type: 'tool_use', name: 'post_summary', input: { incidentId, text: summaryText(alertname) } },
    { type: 'tool_use', name: 'attach_file', input: { incidentId, filename: TIMELINE_FILE, content: timelineText(alertname) } },
    {
      type: 'tool_use',
      name: 'propose_action',
      input: {
        action: 'alertmanager.silence', incidentId, reason: 'It is flapping; silence it for 1h while someone looks.',
        params: { matchers: [{ name: 'alertname', value: alertname }], durationMinutes: 60 },
      },
    },
  ]);
}
