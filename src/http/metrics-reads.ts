// What the metrics read from the database: a few counts at scrape time, and the times of a finished
// delivery. Each read is one short statement outside any transaction, so on the embedded database
// (one connection) a scrape never holds it for long.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { decisions, events, feedback, incidents, outbox, workspaces } from '../db/schema.js';

export interface ScrapeCounts {
  openIncidents: number;
  pendingOutbox: number;
  workspaces: number;
  /** People's verdicts on summaries (the feedback buttons), all time. */
  feedback: { helpful: number; notHelpful: number };
}

/** A finished delivery as its outbox row tells it. */
export interface DeliveryTimes {
  kind: 'post' | 'update';
  /** The anchor's type: `incident_parent` is the incident's card. */
  anchor: string;
  /** Outbox row created → sent (or now, for a dead row). */
  deliverySeconds: number;
  /** The earliest alert of the decision that queued it → sent; null when it carried no alert. */
  alertSeconds: number | null;
}

/** Each count uses a partial index (open incidents, pending outbox) or a small table. */
export async function scrapeCounts(db: Db): Promise<ScrapeCounts> {
  const result = await db.execute(sql`
    select
      (select count(*)::int from ${incidents} where ${incidents.status} <> 'resolved') as open_incidents,
      (select count(*)::int from ${outbox} where ${outbox.status} = 'pending') as pending_outbox,
      (select count(*)::int from ${workspaces} where ${workspaces.removedAt} is null) as workspaces,
      (select count(*)::int from ${feedback} where ${feedback.verdict} = 'helpful') as helpful,
      (select count(*)::int from ${feedback} where ${feedback.verdict} = 'not_helpful') as not_helpful`);
  type Row = { open_incidents: number; pending_outbox: number; workspaces: number; helpful: number; not_helpful: number };
  const row = (result as unknown as { rows: Row[] }).rows[0];
  return {
    openIncidents: Number(row?.open_incidents ?? 0), pendingOutbox: Number(row?.pending_outbox ?? 0), workspaces: Number(row?.workspaces ?? 0),
    feedback: { helpful: Number(row?.helpful ?? 0), notHelpful: Number(row?.not_helpful ?? 0) },
  };
}

export async function deliveryTimes(db: Db, outboxId: string): Promise<DeliveryTimes | null> {
  const [row] = await db
    .select({
      kind: outbox.kind,
      anchor: sql<string>`${outbox.anchor}->>'type'`,
      deliverySeconds: sql<number>`extract(epoch from (coalesce(${outbox.sentAt}, now()) - ${outbox.createdAt}))::float8`,
      alertSeconds: sql<number | null>`(
        select extract(epoch from (${outbox.sentAt} - min(e.received_at)))::float8
        from ${decisions} d, ${events} e
        where d.id = ${outbox.decisionId}
          and e.kind = 'alert'
          and e.id in (select jsonb_array_elements_text(d.event_ids)::bigint))`,
    })
    .from(outbox)
    .where(eq(outbox.id, outboxId));
  if (!row) return null;
  return { kind: row.kind, anchor: row.anchor, deliverySeconds: Number(row.deliverySeconds), alertSeconds: row.alertSeconds === null ? null : Number(row.alertSeconds) };
}
