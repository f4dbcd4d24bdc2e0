// The hostile alert title of issue 20 and what "disarmed" means for it, shared by every platform's
// hostile-title test (Slack and playground in hostile-title.int.test.ts; Discord may add its own file).
// Every text Tacit writes about the alert — posts, edits, streamed answers, private answers, App Home,
// DMs, modals — must show it without a live @channel, a fake mention or a link that hides its address.
import { expect } from 'vitest';

/** A broadcast, a mention of someone else and a link whose label hides where it goes. */
export const HOSTILE_TITLE = 'Disk full <!channel> <@U123> <https://evil.example|open the runbook>';

/** The words of the title that must still be readable on every surface (proof the surface showed it). */
export const HOSTILE_TITLE_WORDS = 'Disk full';

/** What must never reach people live from data, by name. Platforms add their own syntax (Discord: `@everyone`, `<@&…>`). */
export const LIVE_MARKUP: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'a live @channel', pattern: /<!channel>|<!here>|<!everyone>/ },
  { name: 'a fake mention', pattern: /<@U123(\|[^>]*)?>/ },
  { name: 'a disguised link (Slack syntax)', pattern: /<https?:\/\/evil\.example[^>]*\|/ },
  { name: 'a disguised link (Markdown)', pattern: /\[[^\]]*\]\(\s*<?https?:\/\/evil\.example/ },
];

/** The names of the live markup found in a text (empty: disarmed). */
export function liveMarkup(text: string, extra: ReadonlyArray<{ name: string; pattern: RegExp }> = []): string[] {
  return [...LIVE_MARKUP, ...extra].filter((m) => m.pattern.test(text)).map((m) => m.name);
}

/** A JSON payload of an Alertmanager webhook whose one alert carries the hostile title (its summary). */
export function hostileAlertmanagerPayload(alertname = 'DiskFullHostile', status: 'firing' | 'resolved' = 'firing'): string {
  const labels = { alertname, severity: 'critical', instance: 'db-1:9100' };
  const annotations = { summary: HOSTILE_TITLE, description: `${HOSTILE_TITLE} on db-1` };
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  return JSON.stringify({
    receiver: 'tacit', status, version: '4', groupKey: `{}:{alertname="${alertname}"}`, truncatedAlerts: 0, externalURL: 'http://alertmanager:9093',
    groupLabels: { alertname }, commonLabels: labels, commonAnnotations: annotations,
    alerts: [{
      status, labels, annotations, startsAt, endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph', fingerprint: `f${Buffer.from(alertname).toString('hex').slice(0, 15)}`,
    }],
  });
}

/**
 * Asserts, for each named surface, that it showed the title (its readable words) and that nothing live
 * came through. `surfaces` maps a surface's name to every text it sent (message text, block JSON…).
 */
export function expectDisarmedEverywhere(surfaces: Record<string, string[]>, extra: ReadonlyArray<{ name: string; pattern: RegExp }> = []): void {
  for (const [surface, texts] of Object.entries(surfaces)) {
    const all = texts.join('\n');
    expect(all, `${surface} should show the alert's title`).toContain(HOSTILE_TITLE_WORDS);
    expect(liveMarkup(all, extra), `${surface} must not carry live markup from the alert`).toEqual([]);
  }
}
