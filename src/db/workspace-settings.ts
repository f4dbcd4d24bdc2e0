// Writes into a workspace's settings: one JSON merge, so concurrent changes to different keys (an
// approver list from the admin API, a pause from chat) never overwrite each other.
import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './client.js';
import { workspaces } from './schema.js';

/** Merges `patch` into the workspace's settings; false when there is no such workspace. */
export async function patchWorkspaceSettings(db: Db | Tx, workspaceId: string, patch: Record<string, unknown>): Promise<boolean> {
  const rows = await db
    .update(workspaces)
    .set({ settings: sql`${workspaces.settings} || ${JSON.stringify(patch)}::jsonb` })
    .where(eq(workspaces.id, workspaceId))
    .returning({ id: workspaces.id });
  return rows.length > 0;
}
