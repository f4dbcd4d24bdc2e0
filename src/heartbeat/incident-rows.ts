// Maps incidents between their table rows and the core's plain values.
import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { incidents } from '../db/schema.js';
import { TickFencedError } from './errors.js';
import type { AlertState, Incident, Suspect } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import { readSourceSync } from '../core/source-sync.js';

type Row = typeof incidents.$inferSelect;

export function toIncident(row: Row): Incident {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    channelId: row.channelId,
    // A row stored before keys were bounded holds its long key raw: it is read (and saved) bounded,
    // so its alerts keep grouping into it.
    groupKey: boundKey(row.groupKey),
    groupLabel: row.groupLabel ?? (boundKey(row.groupKey) === row.groupKey ? null : row.groupKey),
    kind: row.kind,
    stormId: row.stormId,
    status: row.status,
    severity: row.severity as Incident['severity'],
    title: row.title,
    alerts: row.alerts as Record<string, AlertState>,
    startedAt: row.startedAt,
    resolvedAt: row.resolvedAt,
    recurrences: row.recurrences,
    version: row.version,
    cardVersion: row.cardVersion,
    announced: row.announcedAt !== null,
    acknowledgedBy: row.acknowledgedBy,
    flapping: row.flapping,
    cycleTimes: row.cycleTimes,
    suspects: row.suspects as Suspect[],
    nudgedAt: row.nudgedAt,
    announcedAt: row.announcedAt,
    firstSeenAt: row.createdAt,
    escalationLevel: row.escalationLevel,
    escalatedAt: row.escalatedAt,
    declaredBy: row.declaredBy,
    lastAlertAt: row.lastAlertAt,
    // Read only: src/oncall/sync.ts writes it with atomic JSON updates, never a tick.
    sourceSync: readSourceSync(row.sourceSync),
  };
}

/** Open incidents plus any incident with one of the given group keys (or ids: those a person's step names). */
export async function loadIncidents(db: Db, workspaceId: string, groupKeys: string[], ids: string[] = []): Promise<Incident[]> {
  const open = ne(incidents.status, 'resolved');
  const named = [...(groupKeys.length > 0 ? [inArray(incidents.groupKey, groupKeys)] : []), ...(ids.length > 0 ? [inArray(incidents.id, ids)] : [])];
  const rows = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.workspaceId, workspaceId), named.length > 0 ? or(open, ...named) : open));
  return rows.map(toIncident);
}

/**
 * Writes incidents. `loaded`: the version each existing incident had when this tick read it; the
 * update applies only if the row still has it, or the whole tick is refused (a newer tick moved it).
 */
export async function saveIncidents(tx: Tx, list: Incident[], now: Date, loaded: ReadonlyMap<string, number> = new Map()): Promise<void> {
  for (const i of list) {
    const values = {
      id: i.id,
      workspaceId: i.workspaceId,
      channelId: i.channelId,
      groupKey: i.groupKey,
      // The sender's key when `groupKey` is its hash: kept for people, never indexed.
      groupLabel: i.groupLabel ?? null,
      kind: i.kind ?? 'alert',
      stormId: i.stormId ?? null,
      status: i.status,
      severity: i.severity,
      title: i.title,
      alerts: i.alerts,
      startedAt: i.startedAt,
      resolvedAt: i.resolvedAt,
      recurrences: i.recurrences,
      version: i.version,
      acknowledgedBy: i.acknowledgedBy,
      flapping: i.flapping,
      cycleTimes: i.cycleTimes,
      suspects: i.suspects,
      nudgedAt: i.nudgedAt,
      escalationLevel: i.escalationLevel ?? 0,
      escalatedAt: i.escalatedAt ?? null,
      declaredBy: i.declaredBy ?? null,
      lastAlertAt: i.lastAlertAt ?? null,
      updatedAt: now,
      // On the tick's clock, so holds that count from first sight agree with the tick's `now`.
      createdAt: i.firstSeenAt ?? now,
    };
    const before = loaded.get(i.id);
    const written = await tx
      .insert(incidents)
      .values(values)
      .onConflictDoUpdate({
        target: incidents.id,
        // The alert map can be megabytes (a 12,000-alert group): sent once, in VALUES, not again for SET.
        set: { ...values, id: sql`excluded.id`, alerts: sql`excluded.alerts`, createdAt: sql`${incidents.createdAt}` },
        ...(before !== undefined ? { setWhere: eq(incidents.version, before) } : {}),
      })
      .returning({ id: incidents.id });
    if (written.length === 0) throw new TickFencedError(i.workspaceId, `incident ${i.id} changed since this tick read it`);
  }
}
