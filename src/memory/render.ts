// The compact memory index: one line per active or stale entry, newest first, bounded in lines and
// bytes. It goes into the prompt's cached prefix, so it contains no clock-dependent text.
export interface IndexEntry {
  id: string;
  topic: string;
  hint: string;
  sourceRefs: string[];
  status: 'active' | 'stale';
  staleReason: string | null;
}

export interface IndexBounds {
  maxLines: number;
  maxBytes: number;
}

export const defaultIndexBounds: IndexBounds = { maxLines: 200, maxBytes: 25 * 1024 };

const MAX_TOPIC = 40;
const MAX_HINT = 120;
const MAX_SOURCES = 60;
const MAX_REASON = 100;

function cap(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function indexLine(e: IndexEntry): string {
  const stale = e.status === 'stale' ? ` [STALE: ${cap(e.staleReason ?? 'failed a live check', MAX_REASON)}]` : '';
  return `${e.id} ${cap(e.topic, MAX_TOPIC)}: ${cap(e.hint, MAX_HINT)} (sources: ${cap(e.sourceRefs.join(' '), MAX_SOURCES)})${stale}`;
}

/** Entries in the order given (newest first); what does not fit is counted in a last line. */
export function renderIndex(entries: readonly IndexEntry[], bounds: IndexBounds = defaultIndexBounds): { text: string; shown: number; omitted: number } {
  const lines: string[] = [];
  let bytes = 0;
  for (const e of entries) {
    const line = indexLine(e);
    const size = Buffer.byteLength(line, 'utf8') + 1;
    // One line and ~60 bytes are kept free for the "more entries" line.
    if (lines.length + 1 >= bounds.maxLines || bytes + size + 60 > bounds.maxBytes) break;
    lines.push(line);
    bytes += size;
  }
  const omitted = entries.length - lines.length;
  if (omitted > 0) lines.push(`… and ${omitted} older entr${omitted === 1 ? 'y' : 'ies'} not shown (the index is full).`);
  return { text: lines.join('\n'), shown: entries.length - omitted, omitted };
}
