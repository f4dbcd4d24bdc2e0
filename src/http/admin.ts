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
  return router;
}
