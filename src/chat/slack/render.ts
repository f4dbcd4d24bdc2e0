// Renders the neutral message model as Slack Block Kit. Text from data is escaped for mrkdwn and its
// mentions neutralised; the outbox key rides along as message metadata so a retry can find the post.
import type { ActionsBlock, Button as SlackButton, KnownBlock } from '@slack/types';
import type { Block, OutgoingMessage } from '../../core/message.js';
import { neutraliseMentions } from '../../core/mentions.js';

/** Slack's limits: header text 150, section text 3000, button label 75, 10 fields, 50 blocks. */
const LIMITS = { header: 150, section: 3000, field: 2000, button: 75, fields: 10, blocks: 50, text: 40_000 } as const;

export const OUTBOX_EVENT_TYPE = 'tacit_outbox';

const toneEmoji = { danger: ':red_circle:', warning: ':large_orange_circle:', success: ':large_green_circle:' } as const;

/** Escapes the three characters Slack treats as markup, then breaks mention syntax that survived. */
export function escapeMrkdwn(text: string): string {
  return neutraliseMentions(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function renderBlock(b: Block): KnownBlock {
  switch (b.kind) {
    case 'header':
      return { type: 'header', text: { type: 'plain_text', text: cut(`${b.tone ? `${toneEmoji[b.tone]} ` : ''}${neutraliseMentions(b.text)}`, LIMITS.header), emoji: true } };
    case 'section':
      return { type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), LIMITS.section) } };
    case 'fields':
      return {
        type: 'section',
        fields: b.fields.slice(0, LIMITS.fields).map((f) => ({ type: 'mrkdwn' as const, text: cut(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.field) })),
      };
    case 'context':
      return { type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), LIMITS.section) }] };
    case 'actions': {
      const elements: SlackButton[] = b.buttons.map((x) => ({
        type: 'button',
        action_id: x.actionId,
        value: x.value,
        text: { type: 'plain_text', text: cut(x.label, LIMITS.button), emoji: true },
        ...(x.style ? { style: x.style } : {}),
      }));
      const actions: ActionsBlock = { type: 'actions', elements };
      return actions;
    }
    default: {
      const never: never = b;
      throw new Error(`unhandled block ${JSON.stringify(never)}`);
    }
  }
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
  unfurl_links: false;
  unfurl_media: false;
  metadata?: { event_type: string; event_payload: { idempotency_key: string } };
}

/** A post or update body. Unfurls are always off: a link from data must not expand into a preview. */
export function renderMessage(message: OutgoingMessage, idempotencyKey?: string): SlackMessage {
  const blocks = (message.blocks ?? [{ kind: 'section', text: message.text }]).slice(0, LIMITS.blocks).map(renderBlock);
  return {
    text: cut(escapeMrkdwn(message.text), LIMITS.text),
    blocks,
    unfurl_links: false,
    unfurl_media: false,
    ...(idempotencyKey ? { metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { idempotency_key: idempotencyKey } } } : {}),
  };
}
