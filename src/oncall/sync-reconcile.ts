// A claim whose process died mid-call stays "sending" (the card would say "acknowledging in
// PagerDuty…" forever). The maintenance job finds such claims and finishes them: it looks at the
// source first (PagerDuty already acknowledged, the marked silence exists) and calls only when the
// earlier attempt did not take effect, so even then nothing is done twice.
import { sql } from 'drizzle-orm';
import { syncTargets, type SyncClaim } from '../core/source-sync.js';
import { incidents } from '../db/schema.js';
import { toIncident } from '../heartbeat/incident-rows.js';
import type { SyncVerb } from './carriers.js';
import { buildPlans, recordOutcomes, runPlan, type SyncDeps } from './sync.js';

/** Claims "sending" for longer than this are taken to be interrupted (a call is bounded far below it). */
const STUCK_MS = 2 * 60_000;

/** Finishes interrupted source calls; returns how many claims it finished. */
export async function reconcileStuckSyncs(deps: SyncDeps, stuckMs = STUCK_MS): Promise<number> {
  const { db } = deps;
  const now = deps.clock.now();
  // Open incidents (the partial index) and those resolved in the last day: a claim is never older.
  const rows = await db.select().from(incidents).where(sql`(${incidents.status} <> 'resolved' or ${incidents.resolvedAt} > ${new Date(now.getTime() - 86_400_000)})
    and jsonb_path_exists(${incidents.sourceSync}, '$.*.sources.* ? (@.state == "sending")')`).limit(100);
  let finished = 0;
  for (const row of rows) {
    const incident = toIncident(row);
    for (const verb of ['ack', 'resolve'] as const satisfies readonly SyncVerb[]) {
      const claim: SyncClaim | undefined = incident.sourceSync?.[verb];
      if (!claim || claim.occurrence !== incident.startedAt.toISOString() || now.getTime() - Date.parse(claim.at) < stuckMs) continue;
      const stuck = new Set(syncTargets.filter((t) => claim.sources[t]?.state === 'sending'));
      if (stuck.size === 0) continue;
      const plans = (await buildPlans(deps, incident, verb, claim.by, now, true)).filter((p) => stuck.has(p.target) && 'call' in p);
      const results = await Promise.all(plans.map((p) => runPlan(deps, p, new Map())));
      if (results.length === 0) continue;
      await db.transaction((tx) => recordOutcomes(tx, { workspaceId: incident.workspaceId, verb }, incident, claim.occurrence, results, now));
      await deps.wake(incident.workspaceId).catch(() => undefined);
      deps.log.warn({ incidentId: incident.id, verb, targets: [...stuck] }, 'finished an incident step interrupted while it called its source');
      finished += 1;
    }
  }
  return finished;
}
