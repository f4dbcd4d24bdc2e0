// When Tacit last heard Slack, per team, in Redis: the start after a restart reads it to know whether
// there is a gap to backfill at all. Slack retries an event it could not deliver (at once, after about
// a minute and after about five), so a downtime shorter than that loses nothing and needs no history
// read; only a longer one does (docs.slack.dev, Events API retries).
import type { Redis } from 'ioredis';

/** Downtime Slack's retries cover: under this, every missed event comes again by itself. */
export const RETRIES_COVER_MS = 4 * 60_000;
/** How often a running process renews its mark (a crash loses at most this much certainty). */
const RENEW_MS = 20_000;
/** Marks outlive any plausible downtime, then go (a team uninstalled long ago leaves nothing behind). */
const MARK_TTL_SECONDS = 30 * 86_400;

export class AliveMarks {
  private timer: NodeJS.Timeout | undefined;
  private teams: string[] = [];

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly now: () => number = Date.now) {}

  private key(teamId: string): string {
    return `${this.prefix}:slack:alive:${teamId}`;
  }

  /** The marks as the previous run left them (read before this run renews them); null: never seen. */
  async previous(teamIds: readonly string[]): Promise<Map<string, number | null>> {
    if (teamIds.length === 0) return new Map();
    const values = await this.redis.mget(...teamIds.map((t) => this.key(t)));
    return new Map(teamIds.map((t, i) => {
      const v = Number(values[i] ?? NaN);
      return [t, Number.isFinite(v) ? v : null];
    }));
  }

  /** Renews the marks now and every RENEW_MS while this process runs. */
  async start(teamIds: readonly string[]): Promise<void> {
    this.teams = [...teamIds];
    await this.renew();
    this.timer = setInterval(() => void this.renew().catch(() => undefined), RENEW_MS);
    this.timer.unref();
  }

  /** A team installed while running is marked from now on. */
  async add(teamId: string): Promise<void> {
    if (!this.teams.includes(teamId)) this.teams.push(teamId);
    await this.renew();
  }

  /** A clean stop marks the moment it stopped hearing Slack. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renew().catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.teams.length === 0) return;
    const at = String(this.now());
    const multi = this.redis.multi();
    for (const t of this.teams) multi.set(this.key(t), at, 'EX', MARK_TTL_SECONDS);
    await multi.exec();
  }
}

/** Whether the time since `last` (ms) is a gap Slack's retries do not cover. Unknown counts as a gap. */
export function hasGap(last: number | null, now: number): boolean {
  return last === null || now - last >= RETRIES_COVER_MS;
}
