// A storm's step reaches each member when it is pressed (sync.ts). Two cases leave a member out: the
// pressing process died halfway, or the member joined the storm after it was acknowledged (its page
// would go on while the card says acknowledged). The maintenance job carries the step to such
// members, as the person who pressed, and re-folds the storm's card from what every member's source
// said. Each member's own claim keeps this from calling anything twice, even beside a press still running.
import { and, eq, ne, sql } from 'drizzle-orm';
import { incidents } from '../db/schema.js';
import { toIncident } from '../heartbeat/incident-rows.js';
import type { SyncVerb } from './carriers.js';
import { carry, refoldStorm, type SyncDeps } from './sync.js';

/** Members carried per run at most (the rest wait for the next minute). */
const MEMBERS_PER_RUN = 200;

/** Returns how many members it carried the step to. */
export async function reconcileStormMembers(deps: SyncDeps): Promise<number> {
  const { db } = deps;
  const now = deps.clock.now();
  const storms = await db.select().from(incidents).where(sql`${incidents.kind} = 'storm'
    and (${incidents.status} <> 'resolved' or ${incidents.resolvedAt} > ${new Date(now.getTime() - 86_400_000)})
    and (${incidents.sourceSync} -> 'ack' is not null or ${incidents.sourceSync} -> 'resolve' is not null)`).limit(100);
  let carried = 0;
  for (const row of storms) {
    const storm = toIncident(row);
    for (const verb of ['ack', 'resolve'] as const satisfies readonly SyncVerb[]) {
      const claim = storm.sourceSync?.[verb];
      if (!claim || claim.occurrence !== storm.startedAt.toISOString()) continue;
      // An acknowledgement is moot once the storm is over; its resolve (if any) is what reaches members.
      if (verb === 'ack' && storm.status === 'resolved') continue;
      const members = await db.select({ id: incidents.id }).from(incidents).where(and(
        eq(incidents.workspaceId, storm.workspaceId), eq(incidents.stormId, storm.id),
        verb === 'ack' ? eq(incidents.status, 'firing') : ne(incidents.status, 'resolved'),
      )).limit(MEMBERS_PER_RUN - carried);
      for (const m of members) {
        const outcome = await carry(deps, { workspaceId: storm.workspaceId, incidentId: m.id, verb, by: claim.by }).catch((err: unknown) => {
          deps.log.warn({ err, stormId: storm.id, incidentId: m.id, verb }, "could not carry a storm's step to a member");
          return null;
        });
        if (outcome?.kind === 'done') carried++;
      }
      if (members.length > 0) deps.log.info({ stormId: storm.id, verb, members: members.length }, "carried a storm's step to members it had not reached");
      await refoldStorm(deps, storm, verb, claim);
      if (carried >= MEMBERS_PER_RUN) return carried;
    }
  }
  return carried;
}
