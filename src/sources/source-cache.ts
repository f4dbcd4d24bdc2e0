// A short-lived cache of sources with their signing secrets opened, so a burst of webhooks costs one
// lookup and one decryption per source, not one per request. Entries live a few seconds: a rotated
// token or a deleted source takes effect within that time in every process.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sources } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import type { SourceCredentials } from './auth.js';

export type CachedSource = Omit<typeof sources.$inferSelect, 'secretEncrypted'> & SourceCredentials;

export class SourceCache {
  private readonly entries = new Map<string, { source: CachedSource | null; expiresAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The source, or null when there is none; throws what the database or decryption throws. */
  async get(id: string, now = Date.now()): Promise<CachedSource | null> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > now) return hit.source;
    const [row] = await this.db.select().from(sources).where(eq(sources.id, id));
    let source: CachedSource | null = null;
    if (row) {
      const { secretEncrypted, ...rest } = row;
      source = { ...rest, secret: secretEncrypted ? this.box.open(secretEncrypted) : undefined };
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(id, { source, expiresAt: now + this.ttlMs });
    return source;
  }
}
