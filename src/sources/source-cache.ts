// A short-lived cache of sources with their signing secrets opened, so a burst of webhooks costs one
// lookup and one decryption per source, not one per request. A rotated or revoked source must stop
// working at once in every process: each entry remembers the source's version in Redis (bumped by
// every rotation and revocation), and a hit is served only while that version is unchanged. Without
// Redis (or when it cannot answer) the database is asked; entries also expire after a few seconds.
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.js';
import { sources } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import type { SourceCredentials } from './auth.js';

export type CachedSource = Omit<typeof sources.$inferSelect, 'secretEncrypted'> & SourceCredentials;

/** A per-source version shared by every process: bumped when its credentials change. */
export interface SourceVersions {
  current(sourceId: string): Promise<string>;
  bump(sourceId: string): Promise<void>;
}

const VERSION_TIMEOUT_MS = 250;

/** Versions in Redis: one INCR per change, one GET per cached webhook. */
export function redisSourceVersions(redis: Redis, prefix: string): SourceVersions {
  const key = (id: string) => `${prefix}:source-version:${id}`;
  return {
    // The shared connection queues commands while Redis is away: answer within a moment or not at
    // all (the caller then reads the database), so a webhook never waits for Redis to come back.
    current: async (id) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          redis.get(key(id)).then((v) => v ?? '0'),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('no answer from Redis')), VERSION_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    bump: async (id) => {
      await redis.incr(key(id));
    },
  };
}

export interface SourceCacheOptions {
  versions?: SourceVersions;
  ttlMs?: number;
  maxEntries?: number;
}

export class SourceCache {
  private readonly entries = new Map<string, { source: CachedSource | null; version: string | null; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly opts: SourceCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** The source, or null when there is none; throws what the database or decryption throws. */
  async get(id: string, now = Date.now()): Promise<CachedSource | null> {
    const version = await this.version(id);
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > now && version !== null && hit.version === version) return hit.source;
    // The version is read before the row: a change committed in between makes the next hit miss.
    const [row] = await this.db.select().from(sources).where(eq(sources.id, id));
    let source: CachedSource | null = null;
    if (row) {
      const { secretEncrypted, ...rest } = row;
      source = { ...rest, secret: secretEncrypted ? this.box.open(secretEncrypted) : undefined };
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(id, { source, version, expiresAt: now + this.ttlMs });
    return source;
  }

  /** After a rotation or revocation is committed: no process serves the old entry again. */
  async invalidate(id: string): Promise<void> {
    this.entries.delete(id);
    await this.opts.versions?.bump(id);
  }

  /** null when there is no shared version (or Redis cannot answer): only the TTL then bounds a hit. */
  private async version(id: string): Promise<string | null> {
    if (!this.opts.versions) return 'local';
    try {
      return await this.opts.versions.current(id);
    } catch {
      return null; // not cached against: the database answers every request until Redis is back
    }
  }
}
