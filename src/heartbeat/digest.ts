// The daily digest's facts: due once per local date in the digest hour, asked of the brain once per
// due window, with what opened, resolved and is still open over the last 24 hours.
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { DigestFacts } from '../brain/port.js';
import { digestHourNow, localDate, type WorkspaceSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { channels, decisions, incidents, outbox, sources, workspaces } from '../db/schema.js';
import { toIncident } from './incident-rows.js';

/** During the digest hour, once per local date: the last 24 hours in facts, for the brain to tell. */
export async function digestIfDue(db: Db, workspaceId: string, settings: WorkspaceSettings, now: Date): Promise<DigestFacts | undefined> {
  if (!digestHourNow(settings, now)) return undefined;
  const date = localDate(now, settings.timezone);
  const [done] = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.idempotencyKey, `digest:${date}`)));
  if (done) return undefined;
  // Asked once per due window: a brain that chose not to write it is not asked again on every tick of the hour
  // (a digest held or vetoed by the policy is asked again).
  const [asked] = await db
    .select({ id: decisions.id })
    .from(decisions)
    .where(and(
      eq(decisions.workspaceId, workspaceId), eq(decisions.outcome, 'quiet'), gte(decisions.createdAt, new Date(now.getTime() - 3_600_000)),
      sql`${decisions.reasons} @> '["daily digest due"]'::jsonb`,
    ))
    .limit(1);
  if (asked) return undefined;
  const [firstSource] = await db.select({ channelId: sources.channelId }).from(sources).where(eq(sources.workspaceId, workspaceId)).orderBy(asc(sources.createdAt)).limit(1);
  const [firstChannel] = await db.select({ id: channels.id }).from(channels).where(eq(channels.workspaceId, workspaceId)).orderBy(asc(channels.createdAt)).limit(1);
  const channelId = settings.digestChannelId ?? firstSource?.channelId ?? firstChannel?.id;
  if (!channelId) return undefined;
  const since = new Date(now.getTime() - 24 * 3_600_000);
  const rows = (await db.select().from(incidents).where(and(eq(incidents.workspaceId, workspaceId), sql`(${incidents.createdAt} >= ${since} or ${incidents.resolvedAt} >= ${since} or ${incidents.status} <> 'resolved')`))).map(toIncident);
  const [counts] = await db
    .select({
      decisions: sql<number>`(select count(*)::int from decisions d where d.workspace_id = ${workspaceId} and d.created_at >= ${since})`,
      messages: sql<number>`(select count(*)::int from outbox o where o.workspace_id = ${workspaceId} and o.kind = 'post' and o.created_at >= ${since})`,
    })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return {
    channelId,
    date,
    since,
    opened: rows.filter((i) => i.startedAt >= since),
    resolved: rows.filter((i) => i.status === 'resolved' && i.resolvedAt !== null && i.resolvedAt >= since),
    stillOpen: rows.filter((i) => i.status !== 'resolved'),
    decisions: counts?.decisions ?? 0,
    messages: counts?.messages ?? 0,
  };
}
