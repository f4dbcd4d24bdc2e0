// Which incidents are investigated, and when: one that opens, fires again or escalates to a
// severity the workspace investigates (critical by default). Storms are not: their members' news is
// told on the storm's card. Pure.
import type { Incident, IncidentTransition } from '../core/incidents.js';
import type { WorkspaceSettings } from '../core/settings.js';
import type { InvestigationJob } from './investigate.js';

/** `changed` counts too: an incident raised to critical is an escalation (the job skips an occurrence already investigated). */
const STARTS = new Set<string>(['opened', 'recurred', 'changed', 'escalated']);

export function investigationRequests(
  workspaceId: string, decisionId: string | null, transitions: readonly IncidentTransition[], incidents: ReadonlyMap<string, Incident>, settings: WorkspaceSettings,
): InvestigationJob[] {
  const severities = new Set<string>(settings.investigation.severities);
  const jobs = new Map<string, InvestigationJob>();
  for (const t of transitions) {
    if (!STARTS.has(t.kind)) continue;
    const i = incidents.get(t.incidentId);
    if (!i || i.status === 'resolved' || i.kind === 'storm' || i.stormId || !severities.has(i.severity)) continue;
    jobs.set(i.id, { workspaceId, incidentId: i.id, version: i.version, decisionId });
  }
  return [...jobs.values()];
}
