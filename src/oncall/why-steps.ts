// For `@tacit why`: the steps of the thread's incident that are not decisions — escalation steps
// (who was messaged, who was skipped and why, what the policy let through), acknowledgements, syncs.
import { asc, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { incidentSteps } from '../db/schema.js';

function detailText(kind: string, d: Record<string, unknown>): string {
  if (kind !== 'escalation') {
    const note = d.note ?? d.reason ?? d.result ?? d.error ?? d.status;
    return note === undefined ? '' : `: ${String(note)}`;
  }
  const notified = Array.isArray(d.notified) ? d.notified.map(String) : [];
  const skipped = Array.isArray(d.skipped) ? (d.skipped as { who?: unknown; why?: unknown }[]).map((s) => `${String(s.who)} (${String(s.why)})`) : [];
  const fates = d.messages && typeof d.messages === 'object' ? Object.values(d.messages as Record<string, unknown>).map(String) : [];
  const to = String(d.to ?? '?');
  return [
    ` step ${String(d.step ?? '?')} → ${to === 'thread' ? 'reminder in the thread' : to}`,
    d.via ? ` (on-call from ${String(d.via)})` : '',
    notified.length > 0 ? `; messaged ${notified.join(', ')}` : '',
    skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : '',
    d.problem ? `; note: ${String(d.problem)}` : '',
    fates.length > 0 ? `; ${fates.join(', ')}` : '',
  ].join('');
}

export async function explainSteps(db: Db, incidentIds: readonly string[], when: (at: Date) => string): Promise<string[]> {
  if (incidentIds.length === 0) return [];
  const rows = await db.select().from(incidentSteps).where(inArray(incidentSteps.incidentId, [...incidentIds])).orderBy(asc(incidentSteps.id)).limit(50);
  if (rows.length === 0) return [];
  return ['Incident steps (escalation, acknowledgements, syncs):', ...rows.map((r) => `• ${when(r.at)} ${r.kind} by ${r.actor}${detailText(r.kind, r.detail)}`)];
}
