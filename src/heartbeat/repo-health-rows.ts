// Maps branch health between `repo_health` rows and the core's values: read for the branches a tick's
// CI results are about (no query when there are none), written in the tick's transaction.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { repoHealth } from '../db/schema.js';
import type { EventRecord, RepoEvent } from '../core/events.js';
import { applyRepoHealth, healthKey, tracksHealth, type RepoHealth, type RepoHealthChange } from '../core/repo-health.js';

export interface HealthAdvance {
  changed: RepoHealth[];
  /** Undefined when the tick read no CI result of a default branch (the brain then sees none). */
  changes: RepoHealthChange[] | undefined;
}

/** Loads the health of the branches this tick's CI results are about and applies the results to it. */
export async function advanceRepoHealth(db: Db, workspaceId: string, records: readonly EventRecord[]): Promise<HealthAdvance> {
  const ci = records.flatMap((r) => (r.payload.kind === 'repo' && tracksHealth(r.payload) ? [{ id: r.id, payload: r.payload as RepoEvent }] : []));
  if (ci.length === 0) return { changed: [], changes: undefined };
  const repos = [...new Set(ci.map((e) => e.payload.repo))];
  const rows = await db.select().from(repoHealth).where(and(eq(repoHealth.workspaceId, workspaceId), inArray(repoHealth.repo, repos)));
  const known = new Map(rows.map((r): [string, RepoHealth] => [healthKey(r.repo, r.branch), fromRow(r)]));
  const { changed, changes } = applyRepoHealth(known, ci);
  return { changed: [...changed.values()], changes };
}

export async function saveRepoHealth(tx: Tx, workspaceId: string, list: readonly RepoHealth[], now: Date): Promise<void> {
  for (const h of list) {
    const values = { state: h.state, since: h.since, detail: { workflow: h.workflow, sha: h.sha, url: h.url }, updatedAt: now };
    await tx
      .insert(repoHealth)
      .values({ workspaceId, repo: h.repo, branch: h.branch, ...values })
      .onConflictDoUpdate({ target: [repoHealth.workspaceId, repoHealth.repo, repoHealth.branch], set: { ...values, noticeMessage: sql`null` } });
  }
}

function fromRow(r: typeof repoHealth.$inferSelect): RepoHealth {
  const d = r.detail;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return { repo: r.repo, branch: r.branch, state: r.state, since: r.since, workflow: text(d.workflow) ?? '', sha: text(d.sha), url: text(d.url) };
}
