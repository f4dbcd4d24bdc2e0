// What Discord's markdown may never do with text Tacit did not write itself: format it, hide a link
// behind other words, ping anyone, or turn a line into a heading or a quote. Every text that reaches
// Discord (messages, cards, private answers, DMs, thread names) passes through one of these; modals
// are plain text Discord never formats, and carry no data.
import { neutraliseMentions } from '../../core/mentions.js';

/** Inline markup Discord reads anywhere: bold/italic, strike, code, spoilers, masked-link brackets. */
const INLINE = /[\\*~`|[\]]/g;
/** `_` starts or ends emphasis only next to a non-word character (`apr_1a2b` stays as it is). */
const UNDERSCORE = /(^|\W)_|_(?=\W|$)/g;
/** Line starts that change a whole line: headings, subtext, quotes, lists. */
const LINE_START = /^(\s*)(#{1,3}\s|-#\s|>{1,3}\s|[-*+]\s|\d+\.\s)/gm;
/** The ones that make a line shout or whisper (a quote or a list from data only indents). */
const HEADINGS = /^(\s*)(#{1,3}\s|-#\s)/gm;
/** Code blocks and inline code spans, captured so `split` keeps them at odd positions. */
const CODE = /(```[\s\S]*?```|`[^`\n]+`)/;

/** Data shown as it is: every markdown character escaped, mentions neutralised. */
export function escapeData(text: string): string {
  return neutraliseMentions(text)
    .replace(INLINE, (c) => `\\${c}`)
    .replace(UNDERSCORE, (m) => m.replace('_', '\\_'))
    .replace(LINE_START, (_m, space: string, mark: string) => `${space}\\${mark}`);
}

/**
 * Prose Tacit composed around data (summaries, private answers), whose own emphasis, quotes and
 * `code` spans stay: it cannot ping, hide a link (`[words](url)` shows its brackets) or turn a line
 * into a heading.
 */
export function escapeProse(text: string): string {
  // Code spans and blocks show their text as it is (Discord links and pings nothing in them, and a
  // backslash there would show): only the text between them is escaped.
  return neutraliseMentions(text)
    .split(CODE)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[[\]]/g, (c) => `\\${c}`).replace(HEADINGS, (_m, space: string, mark: string) => `${space}\\${mark}`)))
    .join('');
}

/** Discord allows thread names of 1–100 characters; this short a name reads whole in the sidebar. */
export const THREAD_NAME_CHARS = 60;

/** A card's status word is not part of the name: the thread outlives "Firing". */
const STATUS_PREFIX = /^(firing|acknowledged|resolved|recurring|approval needed|approved|denied|expired|done|failed)\s*:\s*/i;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;

/**
 * A thread name from a title: no markup, no mentions or links, no frozen timestamp, no status word,
 * cut on a word boundary to about 60 characters. Empty input gives `fallback`.
 */
export function cleanThreadName(title: string, fallback = 'Tacit'): string {
  const plain = title
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? '';
  const cleaned = plain
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a masked link keeps its words, never its target
    .replace(/<(?:[@#][!&]?|a?:\w+:|t:)[^>]*>/g, ' ') // mentions, channels, custom emoji, timestamps
    .replace(/@(everyone|here|channel)\b/gi, ' ')
    .replace(/https?:\/\/\S+/gi, ' ')
    .replace(ISO_TIME, ' ')
    .replace(/^#{1,3}\s+|^-#\s+|^>+\s+/, '')
    .replace(/\p{Extended_Pictographic}\uFE0F?/gu, ' ')
    .replace(/[\\*_~`|<>[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(STATUS_PREFIX, '')
    .replace(/[\s:;,.·—-]+$/u, '')
    .trim();
  if (!cleaned) return fallback;
  if (cleaned.length <= THREAD_NAME_CHARS) return cleaned;
  const cut = cleaned.slice(0, THREAD_NAME_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > THREAD_NAME_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
