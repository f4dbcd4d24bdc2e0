// Per-channel history cursors for Discord, gap-aware: the gateway never redelivers, so a channel's
// cursor (persisted as `channels.history_cursor`) moves only over messages that were stored — if
// message 5 failed, the cursor stays before 5 even when 6 was stored — and a backfill from the cursor
// brings back what was missed. Pure bookkeeping; the adapter persists each advance.
//
// Snowflakes are time-ordered across channels, so one cursor covers a channel and its threads.

type State = 'inflight' | 'stored' | 'failed';
interface Entry { id: bigint; state: State; token: object }
interface Channel {
  /** Everything up to and including this id is stored (null: nothing known yet). */
  cursor: bigint | null;
  /** Messages above the cursor whose outcome matters, oldest first. */
  entries: Entry[];
  /** A backfill is reading what came after the cursor: nothing above it is known to be complete. */
  gap: boolean;
}

/** A message being stored; hand it back to `done`. */
export interface Attempt { channel: string; id: bigint; token: object }

/** Stored entries kept behind a blocker at most; dropping stored ones is always safe (they are stored). */
const MAX_ENTRIES = 5_000;

export class HistoryCursors {
  private readonly channels = new Map<string, Channel>();
  private holds = 0;

  /** `advanced` is told each new cursor (forward only), to persist it. */
  constructor(private readonly advanced: (channel: string, messageId: string) => void) {}

  begin(channel: string, messageId: string): Attempt | null {
    const id = BigInt(messageId);
    const ch = this.channel(channel);
    if (ch.cursor !== null && id <= ch.cursor) return null;
    const token = {};
    const existing = ch.entries.find((e) => e.id === id);
    if (existing) Object.assign(existing, { state: 'inflight', token });
    else insertSorted(ch.entries, { id, state: 'inflight', token });
    return { channel, id, token };
  }

  /** The outcome of an attempt; a stale attempt (the message was fed again since) changes nothing. */
  done(attempt: Attempt, stored: boolean): void {
    const ch = this.channels.get(attempt.channel);
    const entry = ch?.entries.find((e) => e.id === attempt.id);
    if (!ch || !entry || entry.token !== attempt.token) return;
    entry.state = stored ? 'stored' : 'failed';
    this.advance(attempt.channel, ch);
  }

  /** Holds every cursor where it is (a backfill is about to read them); call the result to release. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      for (const [name, ch] of this.channels) this.advance(name, ch);
    };
  }

  /**
   * A backfill starts reading after the channel's stored cursor: the cursor rewinds to it (or to just
   * before the oldest failure when none is stored) and stays until `closeGap`. Returns where to read
   * from, or null when there is nothing to start from.
   */
  openGap(channel: string, storedCursor: string | null): string | null {
    const ch = this.channel(channel);
    const failed = ch.entries.find((e) => e.state === 'failed');
    const from = storedCursor !== null ? BigInt(storedCursor) : failed ? failed.id - 1n : null;
    if (from === null) return null;
    ch.cursor = from;
    // The backfill feeds again whatever failed; a message it does not find (deleted) must not block.
    ch.entries = ch.entries.filter((e) => e.id > from && e.state !== 'failed');
    ch.gap = true;
    return String(from);
  }

  closeGap(channel: string): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    ch.gap = false;
    this.advance(channel, ch);
  }

  /** Channels whose cursor is stuck behind a failed message or an unfinished backfill. */
  stuck(): string[] {
    return [...this.channels].filter(([, ch]) => ch.gap || ch.entries.some((e) => e.state === 'failed')).map(([name]) => name);
  }

  cursorOf(channel: string): string | null {
    const c = this.channels.get(channel)?.cursor;
    return c === undefined || c === null ? null : String(c);
  }

  private advance(name: string, ch: Channel): void {
    if (this.holds > 0 || ch.gap) return this.trim(ch);
    let last: bigint | null = null;
    while (ch.entries[0]?.state === 'stored') last = ch.entries.shift()?.id ?? last;
    if (last !== null && (ch.cursor === null || last > ch.cursor)) {
      ch.cursor = last;
      this.advanced(name, String(last));
    }
    this.trim(ch);
  }

  private trim(ch: Channel): void {
    if (ch.entries.length > MAX_ENTRIES) ch.entries = ch.entries.filter((e) => e.state !== 'stored');
  }

  private channel(name: string): Channel {
    let ch = this.channels.get(name);
    if (!ch) this.channels.set(name, (ch = { cursor: null, entries: [], gap: false }));
    return ch;
  }
}

function insertSorted(list: Entry[], entry: Entry): void {
  let i = list.length;
  while (i > 0 && (list[i - 1]?.id ?? 0n) > entry.id) i--;
  list.splice(i, 0, entry);
}
