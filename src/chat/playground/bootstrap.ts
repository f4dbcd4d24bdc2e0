// Sets up the playground workspace so everything can be tried at once: its channel, an Alertmanager
// source whose token is issued afresh at every start (the page's "send sample alert" uses it), the
// approver policy the sidebar describes, and the demo Alertmanager as its silences integration.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../db/secret-box.js';
import { channels, integrations, sources, workspaces } from '../../db/schema.js';
import { createSource, rotateSourceToken } from '../../sources/sources.js';
import { PLAYGROUND_CHANNEL, PLAYGROUND_WORKSPACE_ID, playgroundUsers } from './types.js';

export const PLAYGROUND_SOURCE_ID = 'src_playground_alertmanager';

export interface PlaygroundBoot {
  workspaceId: string;
  sourceId: string;
  token: string;
  /** True when this start set the approver policy (there was none). */
  approversSet: boolean;
  /** True when the workspace's Alertmanager integration is the demo one. */
  demoAlertmanager: boolean;
}

/** @param demoAlertmanagerUrl where this process serves the demo Alertmanager (its port may change between starts) */
export async function bootstrapPlayground(db: Db, box: SecretBox, publicUrl: string, demoAlertmanagerUrl: string): Promise<PlaygroundBoot> {
  await db.insert(workspaces).values({ id: PLAYGROUND_WORKSPACE_ID, platform: 'playground', name: 'Playground' }).onConflictDoNothing();
  await db
    .insert(channels)
    .values({ id: PLAYGROUND_CHANNEL.id, workspaceId: PLAYGROUND_WORKSPACE_ID, name: PLAYGROUND_CHANNEL.name })
    .onConflictDoNothing();
  const approversSet = await defaultApprovers(db);
  const demoAlertmanager = await demoIntegration(db, demoAlertmanagerUrl);
  return { ...(await alertSource(db, box, publicUrl)), approversSet, demoAlertmanager };
}

/** The people the sidebar marks as approvers, when nobody has set a policy (one set by a person, even empty, stays). */
async function defaultApprovers(db: Db): Promise<boolean> {
  const policy = { users: playgroundUsers.filter((u) => u.approver).map((u) => u.id), groups: [], twoPerson: false };
  const rows = await db
    .update(workspaces)
    .set({ settings: sql`${workspaces.settings} || jsonb_build_object('approvers', ${JSON.stringify(policy)}::jsonb)` })
    .where(and(eq(workspaces.id, PLAYGROUND_WORKSPACE_ID), sql`${workspaces.settings} -> 'approvers' is null`))
    .returning({ id: workspaces.id });
  return rows.length > 0;
}

/**
 * The demo Alertmanager as the workspace's Alertmanager when none is configured; marked `demo` so a
 * later start can follow its URL, and so a real one (put through the admin API, unmarked) is never touched.
 */
async function demoIntegration(db: Db, url: string): Promise<boolean> {
  const settings = { url, demo: true };
  await db
    .insert(integrations)
    .values({ id: `int_${randomUUID()}`, workspaceId: PLAYGROUND_WORKSPACE_ID, kind: 'alertmanager', name: 'default', settings })
    .onConflictDoNothing({ target: [integrations.workspaceId, integrations.kind, integrations.name] });
  const demo = await db
    .update(integrations)
    .set({ settings })
    .where(and(
      eq(integrations.workspaceId, PLAYGROUND_WORKSPACE_ID), eq(integrations.kind, 'alertmanager'), eq(integrations.name, 'default'),
      sql`${integrations.settings} ->> 'demo' = 'true'`,
    ))
    .returning({ id: integrations.id });
  return demo.length > 0;
}

async function alertSource(db: Db, box: SecretBox, publicUrl: string): Promise<{ workspaceId: string; sourceId: string; token: string }> {
  const [existing] = await db.select({ id: sources.id }).from(sources).where(eq(sources.id, PLAYGROUND_SOURCE_ID));
  if (existing) return { workspaceId: PLAYGROUND_WORKSPACE_ID, sourceId: existing.id, token: await rotateSourceToken(db, existing.id) };
  const created = await createSource(
    db,
    box,
    { workspaceId: PLAYGROUND_WORKSPACE_ID, kind: 'alertmanager', channelId: PLAYGROUND_CHANNEL.id },
    publicUrl,
    PLAYGROUND_SOURCE_ID,
  ).catch(async (err: unknown) => {
    // Several processes starting at once: another created it between the look and the insert.
    const [raced] = await db.select({ id: sources.id }).from(sources).where(eq(sources.id, PLAYGROUND_SOURCE_ID));
    if (!raced) throw err;
    return undefined;
  });
  if (!created) return { workspaceId: PLAYGROUND_WORKSPACE_ID, sourceId: PLAYGROUND_SOURCE_ID, token: await rotateSourceToken(db, PLAYGROUND_SOURCE_ID) };
  if (!created.token) throw new Error('an Alertmanager source always has a token');
  return { workspaceId: PLAYGROUND_WORKSPACE_ID, sourceId: created.id, token: created.token };
}
