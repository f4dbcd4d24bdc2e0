// GitHub never retries a failed delivery. The reconciler reads each GitHub source's hook delivery
// log (when Tacit has hook access) and asks GitHub to redeliver every delivery that never got a 2xx
// from Tacit — after downtime, a 503 while the database was down, or a timeout.
import { Octokit } from '@octokit/rest';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { sources } from '../../db/schema.js';
import type { SecretBox } from '../../db/secret-box.js';
import type { Logger } from '../../log.js';

const hookSchema = z.object({
  repo: z.string().optional(),
  org: z.string().optional(),
  hookId: z.number(),
  tokenEncrypted: z.string(),
});

export interface ReconcilerDeps {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  apiUrl: string;
  /** How far back to look the first time (GitHub keeps three days of deliveries). */
  lookbackMs?: number;
  /** A delivery GitHub has tried this often is left alone (it is probably not Tacit's fault). */
  maxAttempts?: number;
  /** At most this many redeliveries per source per run. */
  maxRedeliveries?: number;
}

interface Delivery {
  id: number;
  guid: string;
  delivered_at: string;
  status_code: number;
}

export interface ReconcileResult {
  sourceId: string;
  checked: number;
  redelivered: string[];
}

export async function reconcileGithub(deps: ReconcilerDeps, now = new Date()): Promise<ReconcileResult[]> {
  const rows = await deps.db.select().from(sources).where(eq(sources.kind, 'github'));
  const results: ReconcileResult[] = [];
  for (const source of rows) {
    const hook = hookSchema.safeParse(source.settings.hook);
    if (!hook.success) continue;
    try {
      results.push(await reconcileSource(deps, source.id, source.settings, hook.data, now));
    } catch (err) {
      deps.log.warn({ sourceId: source.id, err: (err as Error).message }, 'could not reconcile GitHub deliveries; will try again');
    }
  }
  return results;
}

async function reconcileSource(
  deps: ReconcilerDeps,
  sourceId: string,
  settings: Record<string, unknown>,
  hook: z.infer<typeof hookSchema>,
  now: Date,
): Promise<ReconcileResult> {
  // Octokit's own retries are off: the next run is the retry.
  const octokit = new Octokit({ auth: deps.secrets.open(hook.tokenEncrypted), baseUrl: deps.apiUrl, request: { retries: 0 } });
  const lastRun = typeof settings.reconciledAt === 'string' ? Date.parse(settings.reconciledAt) : NaN;
  // Overlap the previous run: a delivery may still have been in flight when it looked.
  const since = Number.isFinite(lastRun) ? lastRun - 60 * 60_000 : now.getTime() - (deps.lookbackMs ?? 24 * 60 * 60_000);
  const deliveries = await listSince(octokit, hook, since);

  const byGuid = new Map<string, Delivery[]>();
  for (const d of deliveries) byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  const redelivered: string[] = [];
  let capped = false;
  for (const [guid, attempts] of byGuid) {
    if (attempts.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    if (attempts.length >= (deps.maxAttempts ?? 5)) continue;
    if (redelivered.length >= (deps.maxRedeliveries ?? 50)) {
      capped = true;
      break;
    }
    const latest = attempts.reduce((a, b) => (Date.parse(a.delivered_at) >= Date.parse(b.delivered_at) ? a : b));
    if (hook.repo) {
      const [owner = '', repo = ''] = hook.repo.split('/');
      await octokit.rest.repos.redeliverWebhookDelivery({ owner, repo, hook_id: hook.hookId, delivery_id: latest.id });
    } else {
      await octokit.rest.orgs.redeliverWebhookDelivery({ org: hook.org ?? '', hook_id: hook.hookId, delivery_id: latest.id });
    }
    redelivered.push(guid);
  }
  // Capped: keep the old bookmark, so the next run still sees the deliveries left untried.
  if (!capped) {
    await deps.db
      .update(sources)
      .set({ settings: { ...settings, reconciledAt: now.toISOString() } })
      .where(eq(sources.id, sourceId));
  }
  if (redelivered.length > 0) deps.log.info({ sourceId, redelivered: redelivered.length }, 'asked GitHub to redeliver missed deliveries');
  return { sourceId, checked: deliveries.length, redelivered };
}

/** Deliveries newest first, following GitHub's cursor pagination until older than `since`. */
async function listSince(octokit: Octokit, hook: z.infer<typeof hookSchema>, since: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  const [owner = '', repo = ''] = (hook.repo ?? '').split('/');
  const iterator = hook.repo
    ? octokit.paginate.iterator(octokit.rest.repos.listWebhookDeliveries, { owner, repo, hook_id: hook.hookId, per_page: 100 })
    : octokit.paginate.iterator(octokit.rest.orgs.listWebhookDeliveries, { org: hook.org ?? '', hook_id: hook.hookId, per_page: 100 });
  for await (const page of iterator) {
    for (const d of page.data) {
      if (Date.parse(d.delivered_at) < since) return out;
      out.push({ id: d.id, guid: d.guid, delivered_at: d.delivered_at, status_code: d.status_code });
    }
  }
  return out;
}
