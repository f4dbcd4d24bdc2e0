// Alert sources: created with a fresh secret that is returned once and stored only as a hash.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sources } from '../db/schema.js';
import { generateToken, hashToken } from './auth.js';

export type SourceKind = (typeof sources.$inferInsert)['kind'];

export async function createSource(
  db: Db,
  input: { workspaceId: string; kind: SourceKind; channelId: string; id?: string },
): Promise<{ id: string; token: string }> {
  const id = input.id ?? `src_${randomBytes(9).toString('base64url')}`;
  const token = generateToken();
  await db.insert(sources).values({ id, workspaceId: input.workspaceId, kind: input.kind, channelId: input.channelId, tokenHash: hashToken(token) });
  return { id, token };
}

/** Issues a new token for an existing source; the old one stops working at once. */
export async function rotateSourceToken(db: Db, sourceId: string): Promise<string> {
  const token = generateToken();
  await db.update(sources).set({ tokenHash: hashToken(token) }).where(eq(sources.id, sourceId));
  return token;
}
