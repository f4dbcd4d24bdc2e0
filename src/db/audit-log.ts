// The append-only audit log (audit_log): who asked Tacit to change what, and whether it was allowed.
// Rows are only ever inserted; a trigger refuses UPDATE and DELETE.
import type { Db, Tx } from './client.js';
import { auditLog } from './schema.js';

export interface AuditEntry {
  workspaceId: string;
  /** The platform user id, or `admin-api` / `tacit`. */
  actor: string;
  /** What was asked: `pause`, `budget`, `connect`, `rotate`, `revoke`, `approvers`, … */
  action: string;
  outcome: 'allowed' | 'refused';
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db | Tx, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({ ...entry, detail: entry.detail ?? {} });
}
