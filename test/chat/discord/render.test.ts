// Rendering for Discord: within the 2,000-character limit without losing text, buttons carrying only
// `<actionId>:<value>`, mentions neutralised, and the outbox key as a nonce and an invisible marker.
import { describe, expect, it } from 'vitest';
import { cardText, countComponents, textDisplays } from '../../../src/chat/discord/cards.js';
import { markerFor, nonceFor, renderContent, renderMessage, renderPrivate, threadName } from '../../../src/chat/discord/render.js';
import { parseCustomId } from '../../../src/chat/discord/types.js';

describe('Discord rendering', () => {
  it('renders a card as one Components V2 container in the severity colour, with its lone button beside the headline', () => {
    const { body } = renderMessage({
      text: 'fallback',
      blocks: [
        { kind: 'header', text: 'Firing: disk full', tone: 'danger' },
        { kind: 'fields', fields: [{ label: 'Severity', value: 'critical' }] },
        { kind: 'actions', buttons: [{ actionId: 'incident.acknowledge', value: 'inc_1', label: 'Acknowledge', style: 'primary' }] },
        { kind: 'context', text: 'Tacit (bot) · decision dec_1' },
      ],
    });
    expect(body.content).toBeUndefined();
    expect(body.flags).toBe(1 << 15);
    expect(body.components).toEqual([{
      type: 17, accent_color: 0xd83c3e,
      components: [
        { type: 9, components: [{ type: 10, content: '### 🔴 Firing: disk full' }], accessory: { type: 2, style: 1, label: 'Acknowledge', custom_id: 'incident.acknowledge:inc_1' } },
        { type: 10, content: '**Severity:** critical' },
        { type: 14, divider: true, spacing: 1 },
        { type: 10, content: '-# Tacit (bot) · decision dec_1' },
      ],
    }]);
    expect(parseCustomId('incident.acknowledge:inc_1')).toEqual({ actionId: 'incident.acknowledge', value: 'inc_1' });
  });

  it('puts several buttons in an action row and keeps a card within 40 components and 4,000 characters', () => {
    const long = 'x'.repeat(3000);
    const { body } = renderMessage({
      text: 'fallback',
      blocks: [
        { kind: 'header', text: 'Approval needed: silence', tone: 'warning' },
        { kind: 'section', text: long },
        { kind: 'fields', fields: [{ label: 'Why', value: long }] },
        { kind: 'actions', buttons: [{ actionId: 'approval.approve', value: 'a', label: 'Approve' }, { actionId: 'approval.deny', value: 'a', label: 'Deny', style: 'danger' }] },
      ],
    }, { idempotencyKey: 'k' });
    expect(textDisplays(body.components).join('').length).toBeLessThanOrEqual(4000);
    expect(cardText(body.components)).toContain(markerFor('k'));
    expect(countComponents(body.components)).toBeLessThanOrEqual(40);
    const container = body.components[0] as { accent_color: number; components: { type: number }[] };
    expect(container.accent_color).toBe(0xf0a020);
    expect(container.components.at(-1)).toEqual({ type: 1, components: [expect.objectContaining({ custom_id: 'approval.approve:a' }), expect.objectContaining({ custom_id: 'approval.deny:a', style: 4 })] });
  });

  it('cuts long content to the limit and attaches the whole text', () => {
    const long = 'word '.repeat(1000);
    const { body, files } = renderMessage({ text: long }, { idempotencyKey: 'k' });
    expect(body.content?.length).toBeLessThanOrEqual(2000);
    expect(body.content?.endsWith(markerFor('k'))).toBe(true);
    expect(files).toHaveLength(1);
    expect(files[0]?.data.toString()).toBe(renderContent({ text: long }));
    expect(body.attachments).toEqual([{ id: 0, filename: 'message.txt' }]);
    expect(renderPrivate(long).content.length).toBeLessThanOrEqual(2000);
  });

  it('neutralises mentions from data, allows only the notify person, and suppresses link previews', () => {
    const { body } = renderMessage({ text: '@everyone <@123456789012345678> look at https://x.example', notify: '223456789012345678' }, { mentionNotify: true });
    expect(body.content).not.toMatch(/@everyone|<@123456789012345678>/);
    expect(body.content?.startsWith('<@223456789012345678> ')).toBe(true);
    expect(body.allowed_mentions).toEqual({ parse: [], users: ['223456789012345678'] });
    expect(body.flags).toBe(4);
  });

  it('derives a short nonce and an invisible marker from the outbox key', () => {
    expect(nonceFor('reply:1')).toMatch(/^[0-9a-f]{24}$/);
    expect(nonceFor('reply:1')).not.toBe(nonceFor('reply:2'));
    expect(markerFor('reply:1')).toMatch(/^[\u2063\u200b\u200c\u200d\u2062]+$/);
    expect(renderMessage({ text: 'hi' }, { idempotencyKey: 'reply:1' }).body).toMatchObject({ nonce: nonceFor('reply:1'), enforce_nonce: true });
  });

  it('refuses a button id Discord would cut, and names threads from the first line', () => {
    expect(() => renderMessage({ text: 'x', blocks: [{ kind: 'actions', buttons: [{ actionId: 'a', value: 'v'.repeat(120), label: 'Go' }] }] })).toThrow(/100 characters/);
    expect(threadName({ text: '\nDisk full on db-1\nmore' })).toBe('Disk full on db-1');
    expect(threadName({ text: 'x'.repeat(300) }).length).toBeLessThanOrEqual(60);
  });
});
