// The admin API: create and list sources, inspect quarantined webhook bodies. Protected by
// TACIT_ADMIN_TOKEN (or loopback in playground mode).
import { desc, eq, sql } from 'drizzle-orm';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { quarantine, sources } from '../db/schema.js';
import { SecretBoxError, type SecretBox } from '../db/secret-box.js';
import { describeIssues } from '../sources/normalised.js';
import { createSource, createSourceSchema, SourceSetupError } from '../sources/sources.js';
import type { Clock } from '../core/clock.js';
import type { HeartbeatSignals } from '../heartbeat/signals.js';
import { approvalWithAudit, approverPolicySchema, setApprovers, workspaceExists } from '../actions/admin.js';
import { deleteIntegration, IntegrationError, listIntegrations, putIntegration, putIntegrationSchema } from '../actions/integrations.js';
import { requireAdmin } from './access.js';
import { loadDashboard } from './dashboard/load.js';
import { renderDashboard } from './dashboard/page.js';

export interface AdminDeps {
  db: Db;
  signals: HeartbeatSignals;
  clock: Clock;
  secrets: SecretBox;
  publicUrl: () => string;
  adminToken?: string;
  allowLoopback: boolean;
}

export function adminRoutes(deps: AdminDeps): Router {
  const router = express.Router();
  router.use('/api', requireAdmin({ adminToken: deps.adminToken, allowLoopback: deps.allowLoopback }));

  // The dashboard: a browser may log in with HTTP Basic, the admin token as password.
  router.get('/', requireAdmin({ adminToken: deps.adminToken, allowLoopback: deps.allowLoopback, browser: true }), async (_req, res) => {
    res.type('html').setHeader('cache-control', 'no-store').send(renderDashboard(await loadDashboard(deps.db, deps.signals, deps.clock.now())));
  });
  router.get('/api/dashboard', async (_req, res) => {
    res.json(await loadDashboard(deps.db, deps.signals, deps.clock.now()));
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
    const rows = await deps.db
      .select({ id: sources.id, workspaceId: sources.workspaceId, kind: sources.kind, channelId: sources.channelId, createdAt: sources.createdAt })
      .from(sources)
      .where(workspaceId ? eq(sources.workspaceId, workspaceId) : undefined);
    res.json({ sources: rows });
  });

  router.get('/api/quarantine', async (req, res) => {
    const limit = z.coerce.number().int().min(1).max(500).default(50).parse(req.query.limit ?? undefined);
    const rows = await deps.db
      .select({
        id: quarantine.id, workspaceId: quarantine.workspaceId, sourceId: quarantine.sourceId, reason: quarantine.reason,
        contentType: quarantine.contentType, bytes: sql<number>`octet_length(${quarantine.body})`, receivedAt: quarantine.receivedAt,
      })
      .from(quarantine)
      .orderBy(desc(quarantine.id))
      .limit(limit);
    res.json({ quarantine: rows });
  });

  // Integrations that actions run against; secrets go in, never come out.
  router.put('/api/workspaces/:workspaceId/integrations/:kind/:name', express.json({ limit: '64kb' }), async (req, res) => {
    const kind = z.enum(['github', 'alertmanager', 'pagerduty', 'runbook']).safeParse(req.params.kind);
    const body = putIntegrationSchema.safeParse(req.body);
    if (!kind.success || !body.success) {
      res.status(400).json({ error: kind.success ? describeIssues(body.error?.issues ?? []) : 'kind must be github, alertmanager, pagerduty or runbook' });
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
    const kind = z.enum(['github', 'alertmanager', 'pagerduty', 'runbook']).safeParse(req.params.kind);
    if (!kind.success) {
      res.status(400).json({ error: 'kind must be github, alertmanager, pagerduty or runbook' });
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
