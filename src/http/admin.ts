// The admin API: create and list sources, inspect quarantined webhook bodies. Protected by
// TACIT_ADMIN_TOKEN (bearer or a login session; loopback in playground mode), see access.ts.
import { desc, eq, sql } from 'drizzle-orm';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { quarantine, sources } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';
import { workspaceSettingsSchema } from '../core/settings.js';
import { SecretBoxError, type SecretBox } from '../db/secret-box.js';
import { describeIssues } from '../sources/normalised.js';
import { createSource, createSourceSchema, listSources, revokeSource, rotateSource, SourceNotFoundError, SourceSetupError, type InvalidateSource } from '../sources/sources.js';
import { recordAudit } from '../db/audit-log.js';
import type { Clock } from '../core/clock.js';
import type { HeartbeatSignals } from '../heartbeat/signals.js';
import { approvalWithAudit, approverPolicySchema, onCallSchema, setApprovers, setOnCall, workspaceExists } from '../actions/admin.js';
import { deleteIntegration, IntegrationError, listIntegrations, putIntegration, putIntegrationSchema } from '../actions/integrations.js';
import type { Logger } from '../log.js';
import type { HttpAccess, Principal } from './access.js';
import { loginRoutes } from './login.js';
import { loadDashboard } from './dashboard/load.js';
import { renderDashboard } from './dashboard/page.js';
import { oncallAdminRoutes } from '../oncall/admin-routes.js';


/** `{"storm": {"windowMs": 60000, "threshold": 5}}`, or `{"storm": null}` for never. */
const stormBodySchema = z.object({ storm: workspaceSettingsSchema.shape.storm.unwrap().nullable() });

export interface AdminDeps {
  db: Db;
  signals: HeartbeatSignals;
  clock: Clock;
  secrets: SecretBox;
  publicUrl: () => string;
  /** Who may call: see access.ts (bearer token, login session, loopback trust in playground mode). */
  access: HttpAccess;
  log: Logger;
  /** The model brain's configuration error (a refused key, a retired model), shown on the dashboard. */
  brainError?: () => string | null;
  /** Makes every process drop a rotated or revoked source's cached credentials. */
  invalidateSource: InvalidateSource;
}

/** Rotates or revokes a source for the admin API: 404 unknown, 409 already revoked (or not rotatable), audited. */
async function sourceChange(deps: AdminDeps, sourceId: string, action: 'rotate' | 'revoke', res: express.Response, change: () => Promise<unknown>): Promise<void> {
  const [row] = await deps.db.select({ workspaceId: sources.workspaceId }).from(sources).where(eq(sources.id, sourceId));
  try {
    const result = await change();
    await recordAudit(deps.db, { workspaceId: row?.workspaceId ?? '', actor: 'admin-api', action, outcome: 'allowed', detail: { sourceId } });
    res.status(200).json(result);
  } catch (err) {
    if (err instanceof SourceNotFoundError) {
      res.status(404).json({ error: err.message });
      return;
    }
    if (err instanceof SourceSetupError || err instanceof SecretBoxError) {
      res.status(409).json({ error: err.message });
      return;
    }
    throw err;
  }
}

export function adminRoutes(deps: AdminDeps): Router {
  const router = express.Router();
  router.use(loginRoutes(deps.access, deps.log));
  router.use('/api', deps.access.guard('api'));
  router.use(oncallAdminRoutes(deps.db));

  // The dashboard: a browser logs in at /login (the admin token as password) and gets a session cookie.
  router.get('/', deps.access.guard('page'), async (_req, res) => {
    const data = await loadDashboard(deps.db, deps.signals, deps.clock.now());
    const principal = res.locals.principal as Principal;
    const logoutCsrf = principal.kind === 'session' ? principal.session.csrf : undefined;
    res.type('html').setHeader('cache-control', 'no-store').send(renderDashboard({ ...data, brainError: deps.brainError?.() ?? null }, { logoutCsrf }));
  });
  router.get('/api/dashboard', async (_req, res) => {
    res.json({ ...(await loadDashboard(deps.db, deps.signals, deps.clock.now())), brainError: deps.brainError?.() ?? null });
  });

  router.post('/api/sources', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = createSourceSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    try {
      res.status(201).json(await createSource(deps.db, deps.secrets, parsed.data, deps.publicUrl()));
    } catch (err) {
      if (err instanceof SourceSetupError || err instanceof SecretBoxError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
  });

  router.get('/api/sources', async (req, res) => {
    const workspaceId = z.string().optional().parse(req.query.workspaceId);
    res.json({ sources: await listSources(deps.db, workspaceId) });
  });
  // New credentials (answered once) or none at all: the old token is refused at once, in every process.
  router.post('/api/sources/:id/rotate', async (req, res) => {
    await sourceChange(deps, req.params.id, 'rotate', res, () =>
      rotateSource(deps.db, deps.secrets, { sourceId: req.params.id }, deps.publicUrl(), deps.invalidateSource));
  });
  const revoke = async (req: express.Request<{ id: string }>, res: express.Response) =>
    sourceChange(deps, req.params.id, 'revoke', res, () => revokeSource(deps.db, { sourceId: req.params.id }, deps.invalidateSource));
  router.post('/api/sources/:id/revoke', revoke);
  router.delete('/api/sources/:id', revoke);

  router.get('/api/quarantine', async (req, res) => {
    const limit = z.coerce.number().int().min(1).max(500).default(50).parse(req.query.limit ?? undefined);
    const rows = await deps.db
      .select({
        id: quarantine.id, workspaceId: quarantine.workspaceId, sourceId: quarantine.sourceId, kind: quarantine.kind, eventId: quarantine.eventId, reason: quarantine.reason,
        contentType: quarantine.contentType, bytes: sql<number>`octet_length(${quarantine.body})`, receivedAt: quarantine.receivedAt,
      })
      .from(quarantine)
      .orderBy(desc(quarantine.id))
      .limit(limit);
    res.json({ quarantine: rows });
  });

  // Integrations that actions run against; secrets go in, never come out.
  router.put('/api/workspaces/:workspaceId/integrations/:kind/:name', express.json({ limit: '64kb' }), async (req, res) => {
    const kind = z.enum(['github', 'alertmanager', 'pagerduty', 'runbook', 'prometheus', 'loki', 'sentry']).safeParse(req.params.kind);
    const body = putIntegrationSchema.safeParse(req.body);
    if (!kind.success || !body.success) {
      res.status(400).json({ error: kind.success ? describeIssues(body.error?.issues ?? []) : 'kind must be github, alertmanager, pagerduty, runbook, prometheus, loki or sentry' });
      return;
    }
    if (!(await workspaceExists(deps.db, req.params.workspaceId))) {
      res.status(404).json({ error: `no workspace ${req.params.workspaceId}` });
      return;
    }
    try {
      res.status(200).json(await putIntegration(deps.db, deps.secrets, req.params.workspaceId, kind.data, req.params.name, body.data));
    } catch (err) {
      if (err instanceof IntegrationError || err instanceof SecretBoxError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
  });
  router.get('/api/workspaces/:workspaceId/integrations', async (req, res) => {
    res.json({ integrations: await listIntegrations(deps.db, req.params.workspaceId) });
  });
  router.delete('/api/workspaces/:workspaceId/integrations/:kind/:name', async (req, res) => {
    const kind = z.enum(['github', 'alertmanager', 'pagerduty', 'runbook', 'prometheus', 'loki', 'sentry']).safeParse(req.params.kind);
    if (!kind.success) {
      res.status(400).json({ error: 'kind must be github, alertmanager, pagerduty, runbook, prometheus, loki or sentry' });
      return;
    }
    const gone = await deleteIntegration(deps.db, req.params.workspaceId, kind.data, req.params.name);
    res.status(gone ? 204 : 404).end();
  });

  // Who may approve actions: people set this, never memory or a model. Empty means nobody.
  router.put('/api/workspaces/:workspaceId/approvers', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = approverPolicySchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const updated = await setApprovers(deps.db, req.params.workspaceId, parsed.data);
    if (!updated) {
      res.status(404).json({ error: `no workspace ${req.params.workspaceId}` });
      return;
    }
    res.json({ approvers: parsed.data });
  });

  // Who is on call: with the approvers, the only people Tacit may notify directly. Set by people only.
  router.put('/api/workspaces/:workspaceId/on-call', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = onCallSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    if (!(await setOnCall(deps.db, req.params.workspaceId, parsed.data))) {
      res.status(404).json({ error: `no workspace ${req.params.workspaceId}` });
      return;
    }
    res.json({ onCall: parsed.data.users });
  });

  // Alert storms: how many incidents opening within how long become one storm card; null turns it off.
  router.put('/api/workspaces/:workspaceId/storm', express.json({ limit: '4kb' }), async (req, res) => {
    const parsed = stormBodySchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const workspaceId = req.params.workspaceId;
    if (!(await patchWorkspaceSettings(deps.db, workspaceId, { storm: parsed.data.storm }))) {
      res.status(404).json({ error: `no workspace ${workspaceId}` });
      return;
    }
    await recordAudit(deps.db, { workspaceId, actor: 'admin-api', action: 'storm', outcome: 'allowed', detail: { storm: parsed.data.storm } });
    res.json({ storm: parsed.data.storm });
  });

  // Investigations (src/investigate): which severities, and each source's and the whole budget.
  router.put('/api/workspaces/:workspaceId/investigation', express.json({ limit: '4kb' }), async (req, res) => {
    const parsed = workspaceSettingsSchema.shape.investigation.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const workspaceId = req.params.workspaceId;
    if (!(await patchWorkspaceSettings(deps.db, workspaceId, { investigation: parsed.data }))) {
      res.status(404).json({ error: `no workspace ${workspaceId}` });
      return;
    }
    await recordAudit(deps.db, { workspaceId, actor: 'admin-api', action: 'investigation', outcome: 'allowed', detail: { investigation: parsed.data } });
    res.json({ investigation: parsed.data });
  });

  // An approval and its whole audit trail.
  router.get('/api/approvals/:id', async (req, res) => {
    const found = await approvalWithAudit(deps.db, req.params.id);
    if (!found) {
      res.status(404).json({ error: 'no such approval' });
      return;
    }
    res.json(found);
  });
  return router;
}
