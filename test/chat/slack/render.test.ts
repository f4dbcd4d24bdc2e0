// Block Kit rendering: structure, Slack's limits, escaping and neutralised mentions, unfurls off,
// and the outbox key in message metadata.
import { describe, expect, it } from 'vitest';
import { OUTBOX_EVENT_TYPE, escapeMrkdwn, renderMessage } from '../../../src/chat/slack/render.js';
import { incidentCard } from '../../../src/core/incident-card.js';
import { makeIncident } from '../../support/incident.js';

describe('Slack rendering', () => {
  it('renders an incident card as header, fields, buttons and a bot footer', () => {
    const slack = renderMessage(incidentCard(makeIncident(), 'dec_1'), 'incident:inc_1:parent');
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions', 'context']);
    expect(JSON.stringify(slack.blocks[0])).toContain(':red_circle: Firing: Pod is crash looping.');
    expect(JSON.stringify(slack.blocks[2])).toContain('"action_id":"incident.acknowledge"');
    expect(JSON.stringify(slack.blocks[3])).toContain('Tacit (bot) · decision dec_1');
    expect(slack.metadata).toEqual({ event_type: OUTBOX_EVENT_TYPE, event_payload: { idempotency_key: 'incident:inc_1:parent' } });
    expect(slack.unfurl_links).toBe(false);
    expect(slack.unfurl_media).toBe(false);
  });

  it('escapes markup and breaks mentions that come from data', () => {
    const escaped = escapeMrkdwn('a <!channel> b <@U123> & <https://x|y> @here');
    expect(escaped).not.toContain('<!channel>');
    expect(escaped).not.toContain('<@U123>');
    expect(escaped).not.toMatch(/@here\b/);
    expect(escaped).toContain('&amp;');
  });

  it("keeps within Slack's limits instead of being rejected", () => {
    const long = 'x'.repeat(5000);
    const slack = renderMessage({ text: long, blocks: [{ kind: 'header', text: long }, { kind: 'section', text: long }] });
    const [header, section] = slack.blocks as unknown as [{ text: { text: string } }, { text: { text: string } }];
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(section.text.text.length).toBeLessThanOrEqual(3000);
  });
});
