// Sets up the playground workspace: its channel and an Alertmanager source whose token is issued
// afresh at every start (the page's "send sample alert" uses it).
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../db/secret-box.js';
import { channels, sources, workspaces } from '../../db/schema.js';
import { createSource, rotateSourceToken } from '../../sources/sources.js';
import { PLAYGROUND_CHANNEL, PLAYGROUND_WORKSPACE_ID } from './types.js';

export const PLAYGROUND_SOURCE_ID = 'src_playground_alertmanager';

export async function bootstrapPlayground(db: Db, box: SecretBox, publicUrl: string): Promise<{ workspaceId: string; sourceId: string; token: string }> {
  await db.insert(workspaces).values({ id: PLAYGROUND_WORKSPACE_ID, platform: 'playground', name: 'Playground' }).onConflictDoNothing();
  await db
    .insert(channels)
    .values({ id: PLAYGROUND_CHANNEL.id, workspaceId: PLAYGROUND_WORKSPACE_ID, name: PLAYGROUND_CHANNEL.name })
    .onConflictDoNothing();
  const [existing] = await db.select({ id: sources.id }).from(sources).where(eq(sources.id, PLAYGROUND_SOURCE_ID));
  if (existing) return { workspaceId: PLAYGROUND_WORKSPACE_ID, sourceId: existing.id, token: await rotateSourceToken(db, existing.id) };
  const created = await createSource(
    db,
    box,
    { workspaceId: PLAYGROUND_WORKSPACE_ID, kind: 'alertmanager', channelId: PLAYGROUND_CHANNEL.id },
    publicUrl,
    PLAYGROUND_SOURCE_ID,
  );
  if (!created.token) throw new Error('an Alertmanager source always has a token');
  return { workspaceId: PLAYGROUND_WORKSPACE_ID, sourceId: created.id, token: created.token };
}
