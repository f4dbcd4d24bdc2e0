// The one way text reaches Slack: posts, edits, streamed answers, private answers (ephemeral and
// response_url), the App Home and modals all render here. Text from data is escaped for mrkdwn (model
// Markdown has its links spelled out) and its mentions neutralised; the outbox key rides along as
// message metadata so a retry can find the post.
import type { ActionsBlock, Button as SlackButton, KnownBlock } from '@slack/types';
import { disarm, spellOutLinks } from '../../core/disarm.js';
import { isFeedbackBlock } from '../../core/feedback.js';
import type { Block, OutgoingMessage } from '../../core/message.js';
import { neutraliseMentions } from '../../core/mentions.js';

/** Slack's limits: header text 150, section text 3000, button label 75, 10 fields, 50 blocks. */
const LIMITS = { header: 150, section: 3000, field: 2000, button: 75, fields: 10, blocks: 50, text: 40_000, markdown: 12_000 } as const;

export const OUTBOX_EVENT_TYPE = 'tacit_outbox';

const toneEmoji = { danger: ':red_circle:', warning: ':large_orange_circle:', success: ':large_green_circle:' } as const;

/** Escapes the three characters Slack treats as markup, then breaks mention syntax that survived. */
export function escapeMrkdwn(text: string): string {
  return neutraliseMentions(spellOutLinks(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** Standard Markdown from the model (or quoting data): links spelled out, mentions neutralised (core/disarm). */
export function safeMarkdown(text: string): string {
  return disarm(text);
}

/** A private answer (ephemeral, response_url, a form's result): the same escaping as a post. */
export function renderPrivate(text: string): { text: string } {
  return { text: cut(escapeMrkdwn(text), LIMITS.text) };
}

/** Plain text for modals and headers (no markup is parsed there; mentions are still broken). */
export function plainText(text: string, max: number): { type: 'plain_text'; text: string; emoji: true } {
  return { type: 'plain_text', text: cut(disarm(text), max), emoji: true };
}

/** An answer's Markdown in parts for chat.appendStream, cut at line ends (never inside a word). */
export function streamChunks(markdown: string, size = 240): string[] {
  const text = cut(safeMarkdown(markdown), LIMITS.markdown);
  const parts: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const at = Math.max(rest.lastIndexOf('\n', size - 1), rest.lastIndexOf(' ', size - 1));
    const end = at > size / 4 ? at + 1 : size;
    parts.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  if (rest) parts.push(rest);
  return parts;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function renderBlock(b: Block): KnownBlock {
  switch (b.kind) {
    case 'header':
      return { type: 'header', text: { type: 'plain_text', text: cut(`${b.tone ? `${toneEmoji[b.tone]} ` : ''}${disarm(b.text)}`, LIMITS.header), emoji: true } };
    case 'section':
      if (b.markdown) return { type: 'markdown', text: cut(safeMarkdown(b.text), LIMITS.markdown) };
      return { type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), LIMITS.section) } };
    case 'fields':
      return {
        type: 'section',
        fields: b.fields.slice(0, LIMITS.fields).map((f) => ({ type: 'mrkdwn' as const, text: cut(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.field) })),
      };
    case 'context':
      return { type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), LIMITS.section) }] };
    case 'actions': {
      if (isFeedbackBlock(b)) return feedbackBlock(b);
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

/** Slack's own thumbs up/down control (feedback_buttons in a context_actions block). */
function feedbackBlock(b: Extract<Block, { kind: 'actions' }>): KnownBlock {
  const [good, bad] = b.buttons;
  const button = (x: typeof good) => ({ text: { type: 'plain_text' as const, text: cut(x?.label ?? '', LIMITS.button) }, value: x?.value ?? '' });
  return { type: 'context_actions', elements: [{ type: 'feedback_buttons', action_id: good?.actionId ?? 'feedback', positive_button: button(good), negative_button: button(bad) }] };
}

/** Blocks alone (the end of a streamed answer carries them). */
export function renderBlocks(blocks: readonly Block[]): KnownBlock[] {
  return blocks.slice(0, LIMITS.blocks).map(renderBlock);
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
