// What the admin API may do with actions: set the approver policy, read an approval's audit trail.
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { approvalAudit, approvals, workspaces } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';

export const approverPolicySchema = z.object({
  users: z.array(z.string().min(1).max(100)).max(200).default([]),
  groups: z.array(z.string().min(1).max(100)).max(50).default([]),
  twoPerson: z.boolean().default(false),
});

export async function workspaceExists(db: Db, workspaceId: string): Promise<boolean> {
  const [row] = await db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return Boolean(row);
}

/** Replaces the workspace's approver policy. Requests already pending keep the policy they were made under. */
export async function setApprovers(db: Db, workspaceId: string, policy: z.infer<typeof approverPolicySchema>): Promise<boolean> {
  return patchWorkspaceSettings(db, workspaceId, { approvers: policy });
}

export const onCallSchema = z.object({ users: z.array(z.string().min(1).max(100)).max(50) });

/** Replaces the workspace's on-call list: with the approvers, the only people Tacit may notify directly. */
export async function setOnCall(db: Db, workspaceId: string, onCall: z.infer<typeof onCallSchema>): Promise<boolean> {
  return patchWorkspaceSettings(db, workspaceId, { onCall: onCall.users });
}

export async function approvalWithAudit(db: Db, id: string) {
  const [approval] = await db.select().from(approvals).where(eq(approvals.id, id));
  if (!approval) return null;
  const trail = await db.select().from(approvalAudit).where(eq(approvalAudit.approvalId, id)).orderBy(asc(approvalAudit.id));
  return { approval, audit: trail };
}
