// Verify-on-read: an entry's source references checked against live state before it is presented
// as fact. One query per kind of reference, however many entries: incidents still open, alerts still
// firing, pull requests still open (the newest repo event about them), repositories still linked.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { events, incidents, sources } from '../db/schema.js';
import { parseRef } from './refs.js';

export interface CheckResult {
  ref: string;
  ok: boolean;
  /** Why the check failed, in words a person and the model can read. */
  reason?: string;
}

export interface Verdict {
  checks: CheckResult[];
  /** The first failed check's reason; null when every check passed (or none exists). */
  staleReason: string | null;
}

type Check = (ref: string) => CheckResult | undefined;

/**
 * Incidents as the caller knows them right now, newer than the table: a tick reads memory before it
 * commits the incident changes it is deciding about, so an incident resolving in this very tick counts.
 */
export type LiveIncidents = ReadonlyMap<string, { status: string; resolvedAt: Date | null; alerts: Record<string, { status: string }> }>;

/** Checks every entry's references; entries with no checkable reference pass with no checks. */
export async function verifyEntries(
  db: Db, workspaceId: string, entries: readonly { id: string; sourceRefs: string[] }[], live: LiveIncidents = new Map(),
): Promise<Map<string, Verdict>> {
  const refs = [...new Set(entries.flatMap((e) => e.sourceRefs))].map((ref) => ({ ref, parsed: parseRef(ref) }));
  const incidentIds = refs.flatMap((r) => (r.parsed.kind === 'incident' ? [r.parsed.id] : []));
  const fingerprints = refs.flatMap((r) => (r.parsed.kind === 'alert' ? [r.parsed.fingerprint] : []));
  const repos = [...new Set(refs.flatMap((r) => (r.parsed.kind === 'repo' ? [r.parsed.repo] : [])))];
  const prs = refs.flatMap((r) => (r.parsed.kind === 'pr' ? [{ repo: r.parsed.repo, number: r.parsed.number }] : []));

  const [incidentCheck, alertCheck, repoCheck, prCheck] = await Promise.all([
    checkIncidents(db, workspaceId, incidentIds, live),
    checkAlerts(db, workspaceId, fingerprints, live),
    checkRepos(db, workspaceId, repos),
    checkPullRequests(db, workspaceId, prs),
  ]);
  const results = new Map<string, CheckResult | undefined>();
  for (const { ref, parsed } of refs) {
    const check = { incident: incidentCheck, alert: alertCheck, repo: repoCheck, pr: prCheck, other: undefined }[parsed.kind];
    results.set(ref, check?.(ref));
  }
  const out = new Map<string, Verdict>();
  for (const e of entries) {
    const checks = e.sourceRefs.flatMap((ref) => results.get(ref) ?? []);
    out.set(e.id, { checks, staleReason: checks.find((c) => !c.ok)?.reason ?? null });
  }
  return out;
}

async function checkIncidents(db: Db, workspaceId: string, ids: string[], live: LiveIncidents): Promise<Check> {
  if (ids.length === 0) return () => undefined;
  const rows = await db
    .select({ id: incidents.id, status: incidents.status, resolvedAt: incidents.resolvedAt })
    .from(incidents)
    .where(and(eq(incidents.workspaceId, workspaceId), inArray(incidents.id, ids)));
  const byId = new Map(rows.map((r) => [r.id, { status: r.status as string, resolvedAt: r.resolvedAt }]));
  for (const id of ids) {
    const known = live.get(id);
    if (known) byId.set(id, known);
  }
  return (ref) => {
    const id = ref.slice('incident:'.length);
    const row = byId.get(id);
    if (!row) return { ref, ok: false, reason: `incident ${id} does not exist` };
    if (row.status === 'resolved') return { ref, ok: false, reason: `incident ${id} resolved${row.resolvedAt ? ` at ${row.resolvedAt.toISOString()}` : ''}` };
    return { ref, ok: true };
  };
}

async function checkAlerts(db: Db, workspaceId: string, fingerprints: string[], live: LiveIncidents): Promise<Check> {
  if (fingerprints.length === 0) return () => undefined;
  const list = sql.join(fingerprints.map((f) => sql`${f}`), sql`, `);
  const stored = await db
    .select({ id: incidents.id, alerts: incidents.alerts, status: incidents.status })
    .from(incidents)
    .where(and(eq(incidents.workspaceId, workspaceId), sql`${incidents.alerts} ?| array[${list}]::text[]`));
  const rows: { alerts: Record<string, unknown>; status: string }[] = [...stored.filter((r) => !live.has(r.id)), ...live.values()];
  return (ref) => {
    const fp = ref.slice('alert:'.length);
    const states = rows.flatMap((r) => {
      const a = r.alerts[fp] as { status?: unknown } | undefined;
      return a ? [{ alert: String(a.status), incident: r.status }] : [];
    });
    if (states.length === 0) return { ref, ok: false, reason: `no alert with fingerprint ${fp} is known` };
    const firing = states.some((s) => s.incident !== 'resolved' && (s.alert === 'firing' || s.alert === 'acknowledged'));
    return firing ? { ref, ok: true } : { ref, ok: false, reason: `alert ${fp} is no longer firing` };
  };
}

/** Linked: a GitHub source hooked to the repository (or its organisation), or one that delivers its events. */
async function checkRepos(db: Db, workspaceId: string, repos: string[]): Promise<Check> {
  if (repos.length === 0) return () => undefined;
  const github = await db.select({ id: sources.id, settings: sources.settings }).from(sources).where(and(eq(sources.workspaceId, workspaceId), eq(sources.kind, 'github')));
  const linked = new Set<string>();
  const unhooked: string[] = [];
  for (const repo of repos) {
    const owner = repo.split('/')[0];
    const hooked = github.some((s) => {
      const hook = (s.settings.hook ?? {}) as { repo?: unknown; org?: unknown };
      return hook.repo === repo || hook.org === owner;
    });
    if (hooked) linked.add(repo);
    else unhooked.push(repo);
  }
  if (unhooked.length > 0 && github.length > 0) {
    const seen = await db
      .selectDistinct({ repo: sql<string>`${events.payload}->>'repo'` })
      .from(events)
      .where(and(
        eq(events.workspaceId, workspaceId),
        eq(events.kind, 'repo'),
        inArray(events.sourceId, github.map((s) => s.id)),
        inArray(sql`${events.payload}->>'repo'`, unhooked),
      ));
    for (const r of seen) linked.add(r.repo);
  }
  return (ref) => {
    const repo = ref.slice('repo:'.length);
    return linked.has(repo) ? { ref, ok: true } : { ref, ok: false, reason: `repository ${repo} is no longer linked` };
  };
}

async function checkPullRequests(db: Db, workspaceId: string, prs: { repo: string; number: number }[]): Promise<Check> {
  if (prs.length === 0) return () => undefined;
  const latest = new Map<string, { action: string | null; change: string }>();
  // One small indexed lookup per pull request; entries rarely cite more than a few.
  await Promise.all(prs.map(async (pr) => {
    const [row] = await db
      .select({ payload: events.payload })
      .from(events)
      .where(and(
        eq(events.workspaceId, workspaceId),
        eq(events.kind, 'repo'),
        sql`${events.payload}->>'event' = 'pull_request'`,
        sql`${events.payload}->>'repo' = ${pr.repo}`,
        sql`${events.payload}->>'title' like ${`PR #${pr.number} %`}`,
      ))
      .orderBy(desc(events.occurredAt), desc(events.id))
      .limit(1);
    const p = row?.payload as { action?: string | null; change?: string } | undefined;
    if (p) latest.set(`pr:${pr.repo}#${pr.number}`, { action: p.action ?? null, change: p.change ?? 'other' });
  }));
  return (ref) => {
    const state = latest.get(ref);
    if (!state) return undefined; // no event about it: nothing to check against
    const name = ref.slice('pr:'.length);
    if (state.change === 'merge') return { ref, ok: false, reason: `pull request ${name} was merged` };
    if (state.action === 'closed') return { ref, ok: false, reason: `pull request ${name} was closed` };
    return { ref, ok: true };
  };
}
