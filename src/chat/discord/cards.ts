// Cards (incident and approval messages: a header and buttons) as Discord Components V2: one container
// with the severity's accent colour, text displays, a section carrying a lone button beside the
// headline, separators and action rows. With the IS_COMPONENTS_V2 flag Discord takes no `content` or
// embeds, at most 40 components and 4,000 characters of text, and the flag stays on the message for
// good, so a card is edited with the same shape. Text is escaped here: cards carry data.
import { ButtonStyle, ComponentType, MessageFlags } from 'discord.js';
import type { Block, Button, OutgoingMessage } from '../../core/message.js';
import { escapeData, escapeProse } from './text.js';
import { CUSTOM_ID_MAX, customId } from './types.js';

/** Discord's Components V2 limits (platforms.md). */
export const V2_LIMITS = { components: 40, textChars: 4000, buttonsPerRow: 5, label: 80 } as const;

/** Accent colours: by severity where the card names one, else by the header's tone. */
const SEVERITY_COLOUR: Record<string, number> = { critical: 0xd83c3e, warning: 0xf0a020, info: 0x3b82f6 };
const TONE_COLOUR = { danger: 0xd83c3e, warning: 0xf0a020, success: 0x2e9e5b } as const;
const NEUTRAL_COLOUR = 0x5865f2;
const toneEmoji = { danger: '🔴', warning: '🟠', success: '🟢' } as const;

export interface V2Button { type: ComponentType.Button; style: ButtonStyle; label: string; custom_id: string }
export interface V2Text { type: ComponentType.TextDisplay; content: string }
export interface V2Section { type: ComponentType.Section; components: V2Text[]; accessory: V2Button }
export interface V2Separator { type: ComponentType.Separator; divider: boolean; spacing: 1 | 2 }
export interface V2Row { type: ComponentType.ActionRow; components: V2Button[] }
export type V2Child = V2Text | V2Section | V2Separator | V2Row;
export interface V2Container { type: ComponentType.Container; accent_color: number; components: V2Child[] }

/** Whether a message is a card: it has a headline or buttons, and no file (a V2 file needs its own component). */
export function isCard(message: OutgoingMessage): boolean {
  return !message.file && Boolean(message.blocks?.some((b) => b.kind === 'header' || b.kind === 'actions'));
}

/** The V2 flag, plus SUPPRESS_EMBEDS when the text carries links from data. */
export function cardFlags(container: V2Container): number {
  return MessageFlags.IsComponentsV2 | (/https?:\/\//i.test(cardText(container)) ? MessageFlags.SuppressEmbeds : 0);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** A button as Discord takes it, in a V2 card or a legacy action row alike. */
export function button(b: Button): V2Button {
  const id = customId(b.actionId, b.value);
  // A truncated id would act on something else: refuse instead (ids are short by construction).
  if (id.length > CUSTOM_ID_MAX) throw new Error(`button id ${id.slice(0, 40)}… is longer than Discord's ${CUSTOM_ID_MAX} characters`);
  const style = b.style === 'primary' ? ButtonStyle.Primary : b.style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Secondary;
  return { type: ComponentType.Button, style, label: cut(b.label, V2_LIMITS.label), custom_id: id };
}

/** A block's text as Discord markdown, data escaped, in a V2 text display or legacy content alike. */
export function blockText(b: Exclude<Block, { kind: 'actions' }>): string {
  switch (b.kind) {
    case 'header':
      return `### ${b.tone ? `${toneEmoji[b.tone]} ` : ''}${escapeData(b.text)}`;
    case 'section':
      // Sections carry Tacit's own prose (summaries, the reason asked for) around data.
      return escapeProse(b.text);
    case 'fields':
      return b.fields.map((f) => `**${escapeData(f.label)}:** ${escapeData(f.value)}`).join('\n');
    case 'context':
      return escapeData(b.text).split('\n').map((line) => `-# ${line}`).join('\n');
    default: {
      const never: never = b;
      throw new Error(`unhandled block ${JSON.stringify(never)}`);
    }
  }
}

function accentOf(blocks: Block[]): number {
  const header = blocks.find((b) => b.kind === 'header');
  const tone = header?.kind === 'header' ? header.tone : undefined;
  // Resolved or done reads green whatever the severity was.
  if (tone === 'success') return TONE_COLOUR.success;
  const severity = blocks.flatMap((b) => (b.kind === 'fields' ? b.fields : [])).find((f) => f.label.toLowerCase() === 'severity')?.value.toLowerCase();
  const bySeverity = severity ? SEVERITY_COLOUR[severity] : undefined;
  return bySeverity ?? (tone ? TONE_COLOUR[tone] : NEUTRAL_COLOUR);
}

/**
 * The card as one container. `marker` (the outbox key, invisible) ends the last text so a retry can
 * find the post. Text beyond the 4,000-character budget is cut from the longest displays first.
 */
export function renderCard(message: OutgoingMessage, marker = ''): V2Container {
  const blocks = message.blocks ?? [];
  const buttons = blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons : []));
  const texts = blocks.flatMap((b) => (b.kind === 'actions' ? [] : [{ kind: b.kind, content: blockText(b) }]));
  // Buttons alone still need words beside them: the message's text.
  if (texts.length === 0) texts.push({ kind: 'section', content: escapeData(message.text) || '…' });
  fitText(texts, V2_LIMITS.textChars - marker.length);
  const last = texts.at(-1);
  if (last) last.content += marker;

  const children: V2Child[] = [];
  // A lone button (Acknowledge) sits beside the headline; several (Approve, Deny) get their own row.
  const lone = buttons.length === 1 ? buttons[0] : undefined;
  texts.forEach((t, i) => {
    const display: V2Text = { type: ComponentType.TextDisplay, content: t.content };
    if (i === 0 && lone) children.push({ type: ComponentType.Section, components: [display], accessory: button(lone) });
    else {
      if (t.kind === 'context' && i > 0) children.push({ type: ComponentType.Separator, divider: true, spacing: 1 });
      children.push(display);
    }
  });
  if (!lone && buttons.length > 0) {
    // Leave room under the 40-component limit for the container itself and the texts above.
    const room = V2_LIMITS.components - 1 - countComponents(children);
    const rows: V2Row[] = [];
    for (let i = 0; i < buttons.length; i += V2_LIMITS.buttonsPerRow) {
      const row = buttons.slice(i, i + V2_LIMITS.buttonsPerRow).map(button);
      if (countComponents([...rows, { type: ComponentType.ActionRow, components: row }]) > room) break;
      rows.push({ type: ComponentType.ActionRow, components: row });
    }
    children.push(...rows);
  }
  return { type: ComponentType.Container, accent_color: accentOf(blocks), components: children };
}

/** Cuts the longest texts until all fit in `budget` characters. */
function fitText(texts: { content: string }[], budget: number): void {
  let total = texts.reduce((n, t) => n + t.content.length, 0);
  while (total > budget) {
    const longest = texts.reduce((a, b) => (b.content.length > a.content.length ? b : a));
    const over = total - budget;
    const keep = Math.max(1, longest.content.length - over - 1);
    const before = longest.content.length;
    longest.content = `${longest.content.slice(0, keep).trimEnd()}…`;
    total -= before - longest.content.length;
    if (before === longest.content.length) break;
  }
}

/** Every component counts toward Discord's 40, nested ones included. */
export function countComponents(list: readonly unknown[]): number {
  let n = 0;
  for (const c of list) {
    n++;
    if (typeof c !== 'object' || c === null) continue;
    const o = c as { components?: unknown[]; accessory?: unknown };
    if (Array.isArray(o.components)) n += countComponents(o.components);
    if (o.accessory) n++;
  }
  return n;
}

/** Each text display's content in a V2 component tree, in order (Discord's 4,000 counts these). */
export function textDisplays(component: unknown): string[] {
  if (Array.isArray(component)) return component.flatMap(textDisplays);
  if (typeof component !== 'object' || component === null) return [];
  const o = component as { type?: number; content?: unknown; components?: unknown };
  if (o.type === ComponentType.TextDisplay && typeof o.content === 'string') return [o.content];
  return Array.isArray(o.components) ? textDisplays(o.components) : [];
}

/** What people read of a V2 message (and where its marker is), one display a line. */
export function cardText(component: unknown): string {
  return textDisplays(component).join('\n');
}
