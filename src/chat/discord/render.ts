// Renders the neutral message model as a Discord message: markdown content within the 2,000-character
// limit (the whole text attached as a file when longer, never rejected), buttons as components, mentions
// neutralised and allowed only for `notify`, embeds suppressed when the content carries links, and the
// outbox key as a nonce plus an invisible marker so a later retry can find the post.
import { createHash } from 'node:crypto';
import { ButtonStyle, ComponentType, MessageFlags } from 'discord.js';
import type { Block, Button, OutgoingMessage } from '../../core/message.js';
import { neutraliseMentions } from '../../core/mentions.js';
import { CUSTOM_ID_MAX, customId } from './types.js';

/** Discord's limits: content 2,000; 5 rows of 5 buttons; label 80; thread name 100; nonce 25. */
export const LIMITS = { content: 2000, rows: 5, buttonsPerRow: 5, label: 80, threadName: 100 } as const;

const toneEmoji = { danger: '🔴', warning: '🟠', success: '🟢' } as const;
const OVERFLOW_FILE = 'message.txt';

/** A file as discord.js's REST client sends it (multipart `files[n]`). */
export interface RenderedFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface RenderedMessage {
  body: {
    content: string;
    components: { type: ComponentType.ActionRow; components: RenderedButton[] }[];
    allowed_mentions: { parse: []; users: string[] };
    flags?: number;
    nonce?: string;
    enforce_nonce?: boolean;
    attachments?: { id: number; filename: string }[];
  };
  files: RenderedFile[];
}

interface RenderedButton {
  type: ComponentType.Button;
  style: ButtonStyle;
  label: string;
  custom_id: string;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The nonce Discord dedupes creates on for a few minutes (at most 25 characters). */
export function nonceFor(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24);
}

// Discord does not return a nonce from later fetches, so the key also rides in the content as
// zero-width characters: invisible to people, searchable by `findPosted` long after the nonce expired.
const MARK = '\u2063';
const DIGITS = ['\u200b', '\u200c', '\u200d', '\u2062'] as const;

export function markerFor(idempotencyKey: string): string {
  const hex = nonceFor(idempotencyKey);
  let out = MARK;
  for (const ch of hex) {
    const n = parseInt(ch, 16);
    out += (DIGITS[n >> 2] ?? '') + (DIGITS[n & 3] ?? '');
  }
  return out + MARK;
}

function renderBlock(b: Block): string {
  switch (b.kind) {
    case 'header':
      return `### ${b.tone ? `${toneEmoji[b.tone]} ` : ''}${neutraliseMentions(b.text)}`;
    case 'section':
      return neutraliseMentions(b.text);
    case 'fields':
      return b.fields.map((f) => `**${neutraliseMentions(f.label)}:** ${neutraliseMentions(f.value)}`).join('\n');
    case 'context':
      return neutraliseMentions(b.text).split('\n').map((line) => `-# ${line}`).join('\n');
    case 'actions':
      return '';
    default: {
      const never: never = b;
      throw new Error(`unhandled block ${JSON.stringify(never)}`);
    }
  }
}

function renderButtons(blocks: Block[]): RenderedMessage['body']['components'] {
  const buttons = blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons : []));
  const rows: RenderedMessage['body']['components'] = [];
  for (let i = 0; i < buttons.length && rows.length < LIMITS.rows; i += LIMITS.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + LIMITS.buttonsPerRow).map(renderButton) });
  }
  return rows;
}

function renderButton(b: Button): RenderedButton {
  const id = customId(b.actionId, b.value);
  // A truncated id would act on something else: refuse instead (ids are short by construction).
  if (id.length > CUSTOM_ID_MAX) throw new Error(`button id ${id.slice(0, 40)}… is longer than Discord's ${CUSTOM_ID_MAX} characters`);
  const style = b.style === 'primary' ? ButtonStyle.Primary : b.style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Secondary;
  return { type: ComponentType.Button, style, label: cut(b.label, LIMITS.label), custom_id: id };
}

/** The visible text of a message, as markdown, before any length limit. */
export function renderContent(message: OutgoingMessage): string {
  const blocks = message.blocks ?? [{ kind: 'section', text: message.text }];
  return blocks.map(renderBlock).filter((s) => s.length > 0).join('\n');
}

export interface RenderOptions {
  /** The outbox key: sent as the nonce (with enforce_nonce) and as an invisible marker. */
  idempotencyKey?: string;
  /** Ping `notify` by mention (not in a DM, where the message itself notifies). */
  mentionNotify?: boolean;
}

/** A create or edit body and its files. Long content is cut and the whole text attached. */
export function renderMessage(message: OutgoingMessage, opts: RenderOptions = {}): RenderedMessage {
  const notify = message.notify && /^\d{15,25}$/.test(message.notify) ? message.notify : undefined;
  const prefix = notify && opts.mentionNotify ? `<@${notify}> ` : '';
  const marker = opts.idempotencyKey ? markerFor(opts.idempotencyKey) : '';
  const full = renderContent(message);
  const files: RenderedFile[] = [];
  if (message.file) files.push({ name: message.file.filename, data: Buffer.from(message.file.content, 'utf8'), contentType: 'text/plain; charset=utf-8' });

  const room = LIMITS.content - prefix.length - marker.length;
  let content = full;
  if (full.length > room) {
    const note = `\n… (the whole message is attached as ${OVERFLOW_FILE})`;
    content = `${full.slice(0, room - note.length).trimEnd()}${note}`;
    files.push({ name: OVERFLOW_FILE, data: Buffer.from(full, 'utf8'), contentType: 'text/plain; charset=utf-8' });
  }
  // A link from data must not expand into a preview: Discord's SUPPRESS_EMBEDS on any post with links.
  const flags = /https?:\/\//i.test(full) ? MessageFlags.SuppressEmbeds : 0;
  return {
    body: {
      content: `${prefix}${content}${marker}`,
      components: renderButtons(message.blocks ?? []),
      allowed_mentions: { parse: [], users: notify && prefix ? [notify] : [] },
      ...(flags ? { flags } : {}),
      ...(opts.idempotencyKey ? { nonce: nonceFor(opts.idempotencyKey), enforce_nonce: true } : {}),
      ...(files.length ? { attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
    },
    files,
  };
}

/** A thread's name, from what is posted first in it. */
export function threadName(message: OutgoingMessage): string {
  const header = message.blocks?.find((b) => b.kind === 'header');
  const source = header?.kind === 'header' ? header.text : message.text;
  const line = source.split('\n').find((l) => l.trim().length > 0)?.trim() ?? '';
  return cut(line || 'Tacit', LIMITS.threadName);
}

/** Private text (an ephemeral reply or a DM) within the limit, mentions neutralised. */
export function renderPrivate(text: string): { content: string; files: RenderedFile[] } {
  const safe = neutraliseMentions(text);
  if (safe.length <= LIMITS.content) return { content: safe, files: [] };
  const note = `\n… (the whole answer is attached as ${OVERFLOW_FILE})`;
  return {
    content: `${safe.slice(0, LIMITS.content - note.length).trimEnd()}${note}`,
    files: [{ name: OVERFLOW_FILE, data: Buffer.from(text, 'utf8'), contentType: 'text/plain; charset=utf-8' }],
  };
}
