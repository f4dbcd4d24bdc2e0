// Discord's gateway never redelivers: what Tacit missed (a fresh identify after downtime, or a
// message that failed to store) is read back from each channel's history, from its cursor in
// Postgres (`channels.history_cursor`, advanced only over stored messages, see cursor.ts). A failed
// store schedules a recovery backfill with a capped backoff until the database takes it. Backfill is
// best effort and budgeted (pages per channel, requests per run); live traffic never depends on it.
import type { Client, Message } from 'discord.js';
import { and, eq, like, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Db } from '../../db/client.js';
import { channels } from '../../db/schema.js';
import type { Logger } from '../../log.js';
import { HistoryCursors } from './cursor.js';
import { parseChannelId } from './types.js';

const PAGE = 100;

/** A PostgreSQL data exception (22…) or integrity violation (23…) in the cause chain: no retry can store it. */
export function refusedAsData(err: unknown, depth = 0): string | null {
  if (!(err instanceof Error) || depth > 5) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return `${err.message} (SQLSTATE ${code})`;
  return refusedAsData(err.cause, depth + 1);
}

/** Waiting for the database after the `failures`-th failed attempt: `initialMs` doubled, at most `maxMs` (defaults 2 s, 60 s). */
export function recoveryDelayMs(failures: number, opts: { initialMs?: number; maxMs?: number } = {}): number {
  const { initialMs = 2_000, maxMs = 60_000 } = opts;
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures, 16));
}

export interface BackfillBudget {
  /** History pages (100 messages) read per channel or thread in one run (default 10). */
  pagesPerChannel: number;
  /** REST requests per run, over all channels (default 200). */
  requestsPerRun: number;
}

export interface ChannelHistoryOptions {
  db: Db;
  client: Client;
  log: Logger;
  /** Feeds a message through the live path (stored and tracked); resolves false when it failed to store. */
  feed(message: Message): Promise<boolean>;
  budget?: Partial<BackfillBudget>;
  /** Recovery after a failed store: first delay, doubled up to `maxMs` (defaults 2 s and 60 s). */
  recovery?: { initialMs?: number; maxMs?: number };
  /** The last-seen hash older versions kept in Redis; read once as the cursor of channels that have none. */
  legacy?: { redis: Redis; key: string };
  /** Whether this process's gateway shards carry a guild (default: every guild); only those are read back. */
  owns?(guildId: string): boolean;
}

export class ChannelHistory {
  readonly cursors: HistoryCursors;
  private readonly budget: BackfillBudget;
  private readonly writes = new Map<string, { target: string; running: boolean }>();
  /** Held from a trigger until the cursors were read: nothing advances past what the backfill will read. */
  private held: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** A run over every channel is owed (a trigger whose cursors could not be read yet). */
  private fullPending = false;

  constructor(private readonly opts: ChannelHistoryOptions) {
    this.cursors = new HistoryCursors((channel, id) => this.persist(channel, id));
    this.budget = { pagesPerChannel: 10, requestsPerRun: 200, ...opts.budget };
  }

  /** Call synchronously when the session may have missed events (start, fresh identify), before any live message. */
  hold(): void {
    this.held ??= this.cursors.hold();
  }

  /** Reads back what was missed; runs are serialised. `onlyStuck`: channels behind a failed store. */
  backfill(reason: string, onlyStuck = false): Promise<void> {
    this.hold();
    if (!onlyStuck) this.fullPending = true;
    this.running = this.running.then(() => this.run(reason, onlyStuck)).catch((err: unknown) => {
      this.opts.log.warn({ err, reason }, 'discord backfill failed; retrying later');
      this.scheduleRecovery();
    });
    return this.running;
  }

  /** A store failed: a recovery backfill follows once the database is back (capped backoff, never a tight loop). */
  scheduleRecovery(): void {
    if (this.timer || this.stopped) return;
    const delay = recoveryDelayMs(this.failures, this.opts.recovery);
    this.failures++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.backfill('recovery', true).then(() => {
        if (this.held || this.cursors.stuck().length > 0) this.scheduleRecovery();
        else this.failures = 0;
      });
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async run(reason: string, onlyStuck: boolean): Promise<void> {
    if (this.stopped) return;
    const stored = await this.readCursors();
    const full = this.fullPending || !onlyStuck;
    this.fullPending = false;
    // Cursors known: open a gap at each, then let live traffic advance again.
    const stuck = new Set(this.cursors.stuck());
    const plan: { channel: string; from: string }[] = [];
    for (const channel of new Set([...stored.keys(), ...stuck])) {
      if (!full && !stuck.has(channel)) continue;
      const from = this.cursors.openGap(channel, stored.get(channel) ?? null);
      if (from !== null) plan.push({ channel, from });
    }
    this.held?.();
    this.held = undefined;

    const spent = { requests: 0 };
    let fetched = 0;
    let failed = 0;
    for (const { channel, from } of plan) {
      if (this.stopped) break;
      const result = await this.backfillChannel(channel, from, spent).catch((err: unknown) => {
        this.opts.log.warn({ err, channelId: channel }, 'backfill of a Discord channel failed');
        return { fetched: 0, failed: 0, complete: false };
      });
      fetched += result.fetched;
      failed += result.failed;
      this.cursors.closeGap(channel);
    }
    this.opts.log.info({ reason, channels: plan.length, fetched, failed, requests: spent.requests }, 'discord backfill done');
    if (failed > 0) this.scheduleRecovery();
  }

  private async backfillChannel(channel: string, from: string, spent: { requests: number }) {
    const ref = parseChannelId(channel);
    if (!ref) return { fetched: 0, failed: 0, complete: true };
    const found = await this.opts.client.channels.fetch(ref.channelId);
    if (!found || !('messages' in found)) return { fetched: 0, failed: 0, complete: true };
    // The channel and its active threads: one cursor covers both (snowflakes are time-ordered).
    const threads = 'threads' in found && found.threads ? [...found.threads.cache.values()] : [];
    const sources = [found, ...threads].filter((c) => 'messages' in c);
    const missed: Message[] = [];
    let complete = true;
    for (const source of sources) {
      // Discord names each channel's newest message (GUILD_CREATE, kept current by the gateway): when
      // it is not past the cursor, nothing was missed there and no history is read.
      const newest = 'lastMessageId' in source ? source.lastMessageId : undefined;
      if (newest !== undefined && (newest === null || BigInt(newest) <= BigInt(from))) continue;
      let after = from;
      for (let page = 0; ; page++) {
        if (page >= this.budget.pagesPerChannel || spent.requests >= this.budget.requestsPerRun) {
          complete = false;
          break;
        }
        spent.requests++;
        const batch = await source.messages.fetch({ after, limit: PAGE, cache: false });
        const list = [...batch.values()];
        missed.push(...list);
        const newest = list.reduce<string | undefined>((max, m) => (max === undefined || BigInt(m.id) > BigInt(max) ? m.id : max), undefined);
        if (!newest || list.length < PAGE) break;
        after = newest;
      }
    }
    if (!complete) this.opts.log.warn({ channelId: channel, from, budget: this.budget }, 'discord backfill budget spent; older missed messages may stay missing');
    missed.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    let failed = 0;
    for (const m of missed) if (!(await this.opts.feed(m))) failed++;
    return { fetched: missed.length, failed, complete };
  }

  /** Each Discord channel's stored cursor; a channel without one may take the legacy Redis pointer. */
  private async readCursors(): Promise<Map<string, string>> {
    const rows = await this.opts.db.select({ id: channels.id, cursor: channels.historyCursor }).from(channels).where(like(channels.id, 'discord:%'));
    const legacy = await this.readLegacy();
    const out = new Map<string, string>();
    for (const row of rows) {
      const ref = parseChannelId(row.id);
      if (ref && this.opts.owns && !this.opts.owns(ref.guildId)) continue;
      const raw = ref?.channelId;
      const cursor = row.cursor ?? (raw ? legacy[raw] : undefined);
      if (cursor) out.set(row.id, cursor);
    }
    return out;
  }

  private async readLegacy(): Promise<Record<string, string>> {
    const legacy = this.opts.legacy;
    if (!legacy) return {};
    return legacy.redis.hgetall(legacy.key).catch((err: unknown) => {
      this.opts.log.debug({ err }, 'no legacy Discord last-seen pointers');
      return {};
    });
  }

  /** Writes a channel's cursor forward only; writes per channel are coalesced (the newest target wins). */
  private persist(channel: string, id: string): void {
    const pending = this.writes.get(channel);
    if (pending) {
      pending.target = id;
      if (pending.running) return;
    }
    const state = pending ?? { target: id, running: false };
    this.writes.set(channel, state);
    state.running = true;
    void (async () => {
      let written: string | undefined;
      try {
        while (written !== state.target) {
          const target = state.target;
          await this.opts.db
            .update(channels)
            .set({ historyCursor: target })
            .where(and(eq(channels.id, channel), sql`(${channels.historyCursor} is null or ${channels.historyCursor}::numeric < ${target}::numeric)`));
          written = target;
        }
        this.writes.delete(channel);
      } catch (err) {
        // A cursor left behind only means more duplicates in the next backfill.
        this.opts.log.debug({ err, channelId: channel }, 'discord history cursor not written');
        state.running = false;
      }
    })();
  }
}
