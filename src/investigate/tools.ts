// Claude's read-only evidence tools (query_metrics, search_logs, get_diff, similar_incidents), bound
// to one workspace's sources: each bounded like the investigation's own calls, each answer capped
// JSON text. The brain quotes what comes back as untrusted data.
import { eq } from 'drizzle-orm';
import type { EvidenceTools } from '../brain/port.js';
import type { Suspect } from '../core/incidents.js';
import { loadIntegrations } from '../actions/integrations.js';
import type { Db } from '../db/client.js';
import { incidents } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import { evidenceSources, type EvidenceSources, type Outcome } from './sources.js';

/** An answer longer than this is cut: a tool result is a summary, never a whole log. */
export const TOOL_RESULT_CHARS = 6_000;

export function evidenceTools(db: Db, secrets: SecretBox, workspaceId: string, now: () => Date, sourceTimeoutMs = 5_000): EvidenceTools {
  let bound: Promise<EvidenceSources> | undefined;
  const sources = () => (bound ??= loadIntegrations(db, secrets, workspaceId).then((list) => evidenceSources(db, list)));
  const bounds = { sourceTimeoutMs };
  return {
    async queryMetrics({ expr, minutes }) {
      const s = await sources();
      if (!s.has.prometheus) return 'no Prometheus integration is configured in this workspace';
      const end = now().getTime();
      // The "start" is the middle of the window: half before, half after, as for an incident.
      return answer(await s.metric(expr, end - (minutes * 60_000) / 2, end, bounds), (m) => ({ ...m, points: m.points.slice(-60) }));
    },
    async searchLogs({ query, minutes }) {
      const s = await sources();
      if (!s.has.loki) return 'no Loki integration is configured in this workspace';
      const end = now().getTime();
      return answer(await s.logs(query, end - minutes * 60_000, end, bounds), (l) => l);
    },
    async getDiff({ repo, sha }) {
      const s = await sources();
      if (!s.has.github) return 'no GitHub integration is configured in this workspace';
      const suspect: Suspect & { sha: string } = { repo, sha, change: 'push', title: `commit ${sha.slice(0, 12)}`, url: null, at: now().toISOString() };
      return answer(await s.change(suspect, bounds), (c) => c);
    },
    async similarIncidents({ incidentId }) {
      const [row] = await db.select().from(incidents).where(eq(incidents.id, incidentId));
      if (!row || row.workspaceId !== workspaceId) return `no incident ${incidentId} in this workspace`;
      const s = await sources();
      return answer(await s.history({ id: row.id, workspaceId, groupKey: row.groupKey, title: row.title, startedAt: row.startedAt, cycleTimes: row.cycleTimes, fingerprints: Object.keys(row.alerts) }, now(), bounds), (h) => h);
    },
  };
}

function answer<T>(o: Outcome<T>, shape: (t: T) => unknown): string {
  const head = { source: o.outcome.source, query: o.outcome.query, status: o.outcome.status, durationMs: o.outcome.durationMs, ...(o.outcome.error ? { error: o.outcome.error } : {}) };
  const text = JSON.stringify(o.result === undefined ? head : { ...head, result: shape(o.result) });
  return text.length <= TOOL_RESULT_CHARS ? text : `${text.slice(0, TOOL_RESULT_CHARS)}… (cut at ${TOOL_RESULT_CHARS} characters)`;
}
