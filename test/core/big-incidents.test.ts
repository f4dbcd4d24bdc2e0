// A group of thousands of alerts is one incident with a bounded card (inside Slack's and Discord's
// limits), one file with the full list in its thread once the group has been read, and a short
// prompt and summary: counts, shared labels and a few examples, never one row per alert.
import { describe, expect, it } from 'vitest';
import { decisionPrompt } from '../../src/brain/claude/prompt.js';
import { RulesBrain } from '../../src/brain/rules/rules-brain.js';
import { countComponents, textDisplays } from '../../src/chat/discord/cards.js';
import { renderMessage as renderDiscord } from '../../src/chat/discord/render.js';
import { renderMessage as renderSlack } from '../../src/chat/slack/render.js';
import type { AlertEvent } from '../../src/core/events.js';
import { incidentCard } from '../../src/core/incident-card.js';
import { applyAlerts, type AlertInput, type Incident } from '../../src/core/incidents.js';
import { planMessages } from '../../src/core/plan.js';

const NOW = new Date('2026-12-01T10:05:00Z');

function alert(i: number, o: { size: number; fingerprint?: string; title?: string; status?: 'firing' | 'resolved' } = { size: 1 }): AlertEvent {
  return {
    kind: 'alert', source: 'alertmanager', sourceId: 'src_am', fingerprint: o.fingerprint ?? `fp${i}`, groupKey: '{}:{alertname="NodeDown"}',
    status: o.status ?? 'firing', severity: 'critical', title: o.title ?? 'Node down',
    labels: { alertname: 'NodeDown', cluster: 'prod-eu-1', instance: `node-${i}.prod-eu-1.example.com:9100` },
    annotations: { summary: o.title ?? 'Node down', description: `node-${i} has not answered for 5 minutes` },
    startsAt: '2026-12-01T10:00:00Z', endsAt: null, links: [{ label: 'alertmanager', url: 'http://alertmanager.example.com:9093' }],
    actor: null, channelId: 'c1', groupSize: o.size,
  };
}

function inputs(from: number, to: number, size: number, extra: Partial<Parameters<typeof alert>[1]> = {}): AlertInput[] {
  return Array.from({ length: to - from }, (_, j) => ({ eventId: from + j + 1, alert: alert(from + j, { size, ...extra }) }));
}

function only(map: ReadonlyMap<string, Incident>): Incident {
  const [incident, ...rest] = map.values();
  if (!incident || rest.length > 0) throw new Error(`expected one incident, got ${map.size}`);
  return incident;
}

/** Reads a group the way ticks do: 500 events at a time. */
function readInTicks(size: number, extra: Partial<Parameters<typeof alert>[1]> = {}): Incident[] {
  const seen: Incident[] = [];
  let known = new Map<string, Incident>();
  for (let from = 0; from < size; from += 500) {
    const { changed } = applyAlerts('w1', known, inputs(from, Math.min(size, from + 500), size, extra), () => 'inc_big');
    const incident = { ...only(changed), announced: true };
    seen.push(incident);
    known = new Map([[incident.groupKey, incident]]);
  }
  return seen;
}

describe('a 12,000-alert incident', () => {
  const ticks = readInTicks(12_000);
  const incident = ticks.at(-1) as Incident;

  it('is one incident holding every alert, read over 24 ticks', () => {
    expect(ticks).toHaveLength(24);
    expect(Object.keys(incident.alerts)).toHaveLength(12_000);
    expect(ticks.slice(0, -1).every((t) => (t.awaitingAlerts ?? 0) > 0)).toBe(true);
    expect(incident.awaitingAlerts).toBe(0);
  });

  it('has a card listing six alerts, what they share, and how many more', () => {
    const card = incidentCard(incident, 'dec_1');
    const list = card.blocks?.find((b) => b.kind === 'section');
    if (list?.kind !== 'section') throw new Error('no alert list on the card');

    expect(list.text.split('\n').filter((l) => l.startsWith('• firing'))).toHaveLength(6);
    expect(list.text).toContain('Common labels: alertname=NodeDown, cluster=prod-eu-1');
    expect(list.text).toContain('…and 11,994 more (the full list is a file in the thread)');
    expect(JSON.stringify(card).length).toBeLessThan(3_000);
  });

  it('says the group is still being read while it is', () => {
    const card = incidentCard(ticks[0] as Incident, null);
    expect(JSON.stringify(card.blocks)).toContain('…and 494 more so far (12,000 in the group, still being read)');
  });

  it('renders inside Slack Block Kit and Discord limits, without spilling the card into a file', () => {
    const long = readInTicks(1_000, { title: `Node down ${'x'.repeat(3_000)}`, fingerprint: undefined }).at(-1) as Incident;
    for (const i of [incident, long]) {
      const slack = renderSlack(incidentCard(i, 'dec_1'), 'incident:inc_big:parent');
      expect(slack.blocks.length).toBeLessThanOrEqual(50);
      for (const b of slack.blocks) {
        if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
        if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3_000);
        if (b.type === 'section' && b.fields) expect(b.fields.length).toBeLessThanOrEqual(10);
      }
      const discord = renderDiscord(incidentCard(i, 'dec_1'), { idempotencyKey: 'incident:inc_big:parent' });
      // A card is Components V2: at most 40 components and 4,000 characters of text.
      expect(textDisplays(discord.body.components).join('').length).toBeLessThanOrEqual(4_000);
      expect(countComponents(discord.body.components)).toBeLessThanOrEqual(40);
      expect(discord.files).toEqual([]);
    }
  });

  it('gets its full list as one file in its thread once the group has been read, not on every tick', () => {
    const planned = ticks.map((t) => planMessages([], new Map([[t.id, t]]), [t], null).messages.filter((m) => m.purpose === 'alert_list'));
    expect(planned.slice(0, -1).flat()).toEqual([]);
    const [file] = planned.at(-1) ?? [];

    expect(file?.anchor).toEqual({ type: 'incident_thread' });
    const lines = file?.message.file?.content.split('\n') ?? [];
    expect(lines.filter((l) => l.startsWith('firing\t'))).toHaveLength(12_000);
    expect(file?.message.file?.filename).toBe('alerts-inc_big.txt');

    // Resolving alerts changes the card, not the list's size: no second file.
    const { changed } = applyAlerts('w1', new Map([[incident.groupKey, incident]]), inputs(0, 500, 12_000, { status: 'resolved' }), () => 'x');
    const resolved = only(changed);
    expect(planMessages([], new Map([[resolved.id, resolved]]), [resolved], null).messages.map((m) => m.purpose)).toEqual(['card_update']);
  });

  it('bounds every idempotency key, whatever the state signature holds', () => {
    const plan = planMessages([{ type: 'post_summary', incidentId: incident.id, text: 'summary' }], new Map([[incident.id, incident]]), [], null);
    for (const m of plan.messages) expect(m.idempotencyKey.length).toBeLessThanOrEqual(200);
  });

  it('is described to the model by counts, shared labels and five examples', () => {
    const events = inputs(11_500, 12_000, 12_000).map((x) => ({ id: x.eventId, workspaceId: 'w1', occurredAt: NOW, payload: x.alert }));
    const prompt = decisionPrompt({
      workspaceId: 'w1', now: NOW, reasons: ['incident opened: Node down (critical)'],
      transitions: [{ kind: 'opened', incidentId: incident.id, eventIds: [] }], incidents: new Map([[incident.id, incident]]), events,
    });

    expect(prompt.length).toBeLessThan(10_000);
    expect(prompt).toContain('"alertCount": 12000');
    expect(prompt).toContain('"moreAlerts": 11995');
    expect(prompt).toContain('500 × alert firing: Node down (critical)');
    expect(prompt.match(/node-\d+ has not answered/g)).toHaveLength(5);
  });

  it('gets a rules-brain summary with counts, shared labels and three examples', async () => {
    const decision = await new RulesBrain().decide({
      workspaceId: 'w1', now: NOW, reasons: [], transitions: [{ kind: 'opened', incidentId: incident.id, eventIds: [] }],
      incidents: new Map([[incident.id, incident]]), events: [],
    });
    const summary = decision.kind === 'speak' && decision.intents[0]?.type === 'post_summary' ? decision.intents[0].text : '';

    expect(summary).toContain('12,000 alerts firing in this group.');
    expect(summary).toContain('All of them: alertname=NodeDown, cluster=prod-eu-1');
    expect(summary).toContain('— and 11,997 more, listed in the file in this thread.');
    expect(summary.length).toBeLessThan(2_000);
  });
});

describe('alerts with 3,000-character fingerprints', () => {
  it('are kept apart, and shown to people and the model by a bounded form', () => {
    const long = (c: string) => c.repeat(3_000);
    const { changed } = applyAlerts('w1', new Map(), [
      { eventId: 1, alert: { ...alert(0, { size: 2, fingerprint: long('a') }), labels: {} } },
      { eventId: 2, alert: { ...alert(1, { size: 2, fingerprint: long('b') }), labels: {} } },
    ], () => 'inc_fp');
    const incident = only(changed);

    expect(Object.keys(incident.alerts)).toHaveLength(2);
    const card = JSON.stringify(incidentCard(incident, null));
    expect(card).not.toContain(long('a').slice(0, 100));
    const prompt = decisionPrompt({ workspaceId: 'w1', now: NOW, reasons: [], transitions: [{ kind: 'opened', incidentId: incident.id, eventIds: [] }], incidents: new Map([[incident.id, incident]]), events: [] });
    expect(prompt).not.toContain(long('a').slice(0, 100));
  });
});
