// While Tacit's acknowledge silence holds an Alertmanager group, Alertmanager sends no "resolved"
// for it (silenced alerts are muted, resolved notifications included: prometheus/alertmanager#226),
// so the incident would stay open. The maintenance job asks Alertmanager which of the incident's
// alerts it still holds; when none is left they resolved while silenced, and the incident is
// resolved through the normal path (claim, silence expired, card and thread), by Tacit.
import { and, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { sharedMatchers } from '../core/silence.js';
import { incidents } from '../db/schema.js';
import { callJson } from '../actions/executors/http.js';
import { loadIntegrations } from '../actions/integrations.js';
import { toIncident } from '../heartbeat/incident-rows.js';
import { carry, type SyncDeps } from './sync.js';

const heldAlerts = z.array(z.object({ fingerprint: z.string() }).loose());

/** Resolves silenced Alertmanager incidents whose alerts Alertmanager no longer holds; returns how many. */
export async function watchSilencedIncidents(deps: SyncDeps): Promise<number> {
  const { db } = deps;
  // Open incidents only (their partial index), and only those Tacit silenced on acknowledge.
  const rows = await db.select().from(incidents).where(and(
    ne(incidents.status, 'resolved'),
    sql`${incidents.sourceSync} -> 'ack' -> 'sources' -> 'alertmanager' ->> 'state' = 'accepted'`,
  )).limit(100);
  let resolved = 0;
  for (const row of rows) {
    const incident = toIncident(row);
    const claim = incident.sourceSync?.ack;
    if (!claim || claim.occurrence !== incident.startedAt.toISOString() || !claim.sources.alertmanager?.silenceId) continue;
    const am = (await loadIntegrations(db, deps.secrets, incident.workspaceId)).find((i) => i.kind === 'alertmanager');
    if (!am) continue;
    const url = new URL(`${String(am.settings.url).replace(/\/+$/, '')}/api/v2/alerts`);
    for (const m of sharedMatchers(incident)) url.searchParams.append('filter', `${m.name}="${m.value.replace(/["\\]/g, '\\$&')}"`);
    const auth = am.secrets.authorization;
    let held: Set<string>;
    try {
      const res = await callJson(url.toString(), { method: 'GET', headers: typeof auth === 'string' ? { authorization: auth } : {}, signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000) });
      held = new Set(heldAlerts.parse(res.body).map((a) => a.fingerprint));
    } catch (err) {
      // 404: an Alertmanager without the alerts API (the playground's demo one): nothing to learn there.
      const level = /answered 404/.test((err as Error).message) ? 'debug' : 'warn';
      deps.log[level]({ err, incidentId: incident.id }, 'could not ask Alertmanager whether a silenced incident still fires; asking again later');
      continue;
    }
    if (Object.keys(incident.alerts).some((fp) => held.has(fp))) continue;
    const outcome = await carry(deps, {
      workspaceId: incident.workspaceId, incidentId: incident.id, verb: 'resolve', by: { id: 'tacit', name: 'Tacit' },
      note: 'Alertmanager no longer has its alerts: they resolved while silenced (Alertmanager sends no resolved notification for silenced alerts)',
    });
    if (outcome.kind === 'done') resolved += 1;
  }
  return resolved;
}
