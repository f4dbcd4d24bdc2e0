// The admin API for routing and on-call: `GET/PUT /api/workspaces/:id/routes`, and PUT for the
// on-call source and the escalation policy. Mounted behind the admin guard (http/admin.ts); audited.
import { eq } from 'drizzle-orm';
import express, { type Router } from 'express';
import { escalationSchema, oncallSettingsSchema, routesSchema } from '../core/oncall-settings.js';
import { readSettings } from '../core/settings.js';
import { recordAudit } from '../db/audit-log.js';
import type { Db } from '../db/client.js';
import { workspaces } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';
import { describeIssues } from '../sources/normalised.js';
import { OncallError } from './errors.js';
import { saveRoutes } from './routing.js';

async function settingsOf(db: Db, workspaceId: string) {
  const [ws] = await db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return ws ? readSettings(ws.settings) : null;
}

export function oncallAdminRoutes(db: Db): Router {
  const router = express.Router();

  router.get('/api/workspaces/:workspaceId/routes', async (req, res) => {
    const settings = await settingsOf(db, req.params.workspaceId);
    if (!settings) {
      res.status(404).json({ error: `no workspace ${req.params.workspaceId}` });
      return;
    }
    res.json({ routes: settings.routes });
  });

  // Replaces the rules, in order (first match wins). `{"routes": [{"matchers": [{"name": "team", "op": "=", "value": "payments"}], "severities": ["critical"], "channelId": "slack:T1/C2"}]}`
  router.put('/api/workspaces/:workspaceId/routes', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = routesSchema.safeParse((req.body as { routes?: unknown } | undefined)?.routes);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const workspaceId = req.params.workspaceId;
    try {
      if (!(await saveRoutes(db, workspaceId, parsed.data))) {
        res.status(404).json({ error: `no workspace ${workspaceId}` });
        return;
      }
    } catch (err) {
      if (err instanceof OncallError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
    await recordAudit(db, { workspaceId, actor: 'admin-api', action: 'route', outcome: 'allowed', detail: { rules: parsed.data.length } });
    res.json({ routes: parsed.data });
  });

  router.put('/api/workspaces/:workspaceId/oncall', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = oncallSettingsSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const workspaceId = req.params.workspaceId;
    if (!(await patchWorkspaceSettings(db, workspaceId, { oncall: parsed.data }))) {
      res.status(404).json({ error: `no workspace ${workspaceId}` });
      return;
    }
    await recordAudit(db, { workspaceId, actor: 'admin-api', action: 'oncall', outcome: 'allowed', detail: { pagerduty: parsed.data.pagerduty !== null, rotation: parsed.data.rotation !== null } });
    res.json({ oncall: parsed.data });
  });

  router.put('/api/workspaces/:workspaceId/escalation', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = escalationSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error.issues) });
      return;
    }
    const workspaceId = req.params.workspaceId;
    if (!(await patchWorkspaceSettings(db, workspaceId, { escalation: parsed.data }))) {
      res.status(404).json({ error: `no workspace ${workspaceId}` });
      return;
    }
    await recordAudit(db, { workspaceId, actor: 'admin-api', action: 'escalation', outcome: 'allowed', detail: { steps: parsed.data.steps.length } });
    res.json({ escalation: parsed.data });
  });
  return router;
}
