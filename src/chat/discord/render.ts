// Renders the neutral message model as a Discord message: cards (a headline or buttons) as Components
// V2 (cards.ts), anything else as markdown content within the 2,000-character limit (the whole text
// attached as a file when longer, never rejected); data escaped and mentions neutralised (text.ts),
// pings allowed only for `notify`, embeds suppressed when the text carries links, and the outbox key
// as a nonce plus an invisible marker so a later retry can find the post.
import { createHash } from 'node:crypto';
import { ComponentType, MessageFlags, type ButtonStyle } from 'discord.js';
import { fileBytes, type Block, type OutgoingMessage } from '../../core/message.js';
import { blockText, button, cardFlags, isCard, renderCard, type V2Container } from './cards.js';
import { cleanThreadName, escapeProse } from './text.js';

/** Discord's limits: content 2,000; 5 rows of 5 buttons; label 80; thread name 100; nonce 25. */
export const LIMITS = { content: 2000, rows: 5, buttonsPerRow: 5, label: 80, threadName: 100 } as const;

const OVERFLOW_FILE = 'message.txt';

/** A file as discord.js's REST client sends it (multipart `files[n]`). */
export interface RenderedFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface RenderedMessage {
  body: {
    /** Absent on a Components V2 card: Discord refuses content with the V2 flag. */
    content?: string;
    components: { type: ComponentType.ActionRow; components: RenderedButton[] }[] | V2Container[];
    allowed_mentions: { parse: []; users: string[] };
    flags?: number;
    nonce?: string;
    enforce_nonce?: boolean;
    /** A reply in a DM (which has no threads) refers to the message it answers. */
    message_reference?: { message_id: string; fail_if_not_exists: boolean };
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
  return b.kind === 'actions' ? '' : blockText(b);
}

function renderButtons(blocks: Block[]): { type: ComponentType.ActionRow; components: RenderedButton[] }[] {
  const buttons = blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons : []));
  const rows: { type: ComponentType.ActionRow; components: RenderedButton[] }[] = [];
  for (let i = 0; i < buttons.length && rows.length < LIMITS.rows; i += LIMITS.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + LIMITS.buttonsPerRow).map(button) });
  }
  return rows;
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
  const nonce = opts.idempotencyKey ? { nonce: nonceFor(opts.idempotencyKey), enforce_nonce: true } : {};
  if (isCard(message)) {
    // A card pings nobody: its `notify` person is told by a DM of their own.
    const container = renderCard(message, marker);
    return { body: { components: [container], allowed_mentions: { parse: [], users: [] }, flags: cardFlags(container), ...nonce }, files: [] };
  }
  const full = renderContent(message);
  const files: RenderedFile[] = [];
  if (message.file) files.push({ name: message.file.filename, data: fileBytes(message.file), contentType: message.file.contentType ?? 'text/plain; charset=utf-8' });

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
      ...nonce,
      ...(files.length ? { attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
    },
    files,
  };
}

/** A thread's name from a message's headline (or first line): cleaned and short (text.ts). */
export function threadName(message: OutgoingMessage): string {
  const header = message.blocks?.find((b) => b.kind === 'header');
  return cut(cleanThreadName(header?.kind === 'header' ? header.text : message.text), LIMITS.threadName);
}

/** Private text (an ephemeral reply or a DM) within the limit, mentions neutralised. */
export function renderPrivate(text: string): { content: string; files: RenderedFile[] } {
  const safe = escapeProse(text);
  if (safe.length <= LIMITS.content) return { content: safe, files: [] };
  const note = `\n… (the whole answer is attached as ${OVERFLOW_FILE})`;
  return {
    content: `${safe.slice(0, LIMITS.content - note.length).trimEnd()}${note}`,
    files: [{ name: OVERFLOW_FILE, data: Buffer.from(text, 'utf8'), contentType: 'text/plain; charset=utf-8' }],
  };
}
