// The approval card: what is asked, why, by whom, who may approve, until when; then who decided and
// what happened. Edited in place; the buttons carry only the approval id.
import type { Block, OutgoingMessage } from './message.js';

export const APPROVE_ACTION_ID = 'approval.approve';
export const DENY_ACTION_ID = 'approval.deny';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';

export interface ApprovalView {
  id: string;
  action: string;
  /** One line per parameter, already summarised for people. */
  params: Record<string, unknown>;
  reason: string;
  status: ApprovalStatus;
  requestedBy: string;
  approvers: string;
  expiresAt: Date;
  decidedBy?: string | null;
  decidedAt?: Date | null;
  result?: string | null;
  verification?: { ok: boolean; detail: string } | null;
}

const headline: Record<ApprovalStatus, (a: ApprovalView) => string> = {
  pending: (a) => `Approval needed: ${a.action}`,
  approved: (a) => `Approved: ${a.action} (running)`,
  denied: (a) => `Denied: ${a.action}`,
  expired: (a) => `Expired: ${a.action}`,
  executed: (a) => `Done: ${a.action}`,
  failed: (a) => `Failed: ${a.action}`,
};
const tone = { pending: 'warning', approved: 'warning', denied: 'danger', expired: 'danger', executed: 'success', failed: 'danger' } as const;

function paramLine(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

export function approvalCard(a: ApprovalView): OutgoingMessage {
  const title = headline[a.status](a);
  const fields = [
    { label: 'Action', value: a.action },
    ...Object.entries(a.params).slice(0, 8).map(([k, v]) => ({ label: k, value: paramLine(v) })),
    { label: 'Requested by', value: a.requestedBy },
  ];
  if (a.status === 'pending') {
    fields.push({ label: 'Who may approve', value: a.approvers }, { label: 'Expires', value: a.expiresAt.toISOString() });
  }
  const blocks: Block[] = [
    { kind: 'header', text: title, tone: tone[a.status] },
    { kind: 'section', text: `Why: ${a.reason}` },
    { kind: 'fields', fields },
  ];
  if (a.status === 'pending') {
    blocks.push({
      kind: 'actions',
      buttons: [
        { actionId: APPROVE_ACTION_ID, value: a.id, label: 'Approve', style: 'primary' },
        { actionId: DENY_ACTION_ID, value: a.id, label: 'Deny', style: 'danger' },
      ],
    });
  }
  const outcome: string[] = [];
  if (a.decidedBy && (a.status !== 'pending' && a.status !== 'expired')) {
    outcome.push(`${a.status === 'denied' ? 'Denied' : 'Approved'} by ${a.decidedBy}${a.decidedAt ? ` at ${a.decidedAt.toISOString()}` : ''}.`);
  }
  if (a.status === 'expired') outcome.push(`Nobody decided before ${a.expiresAt.toISOString()}; nothing was done.`);
  if (a.result) outcome.push(`Result: ${a.result}`);
  if (a.verification) outcome.push(a.verification.ok ? `Verified: ${a.verification.detail}` : `Verification FAILED: ${a.verification.detail}`);
  if (outcome.length > 0) blocks.push({ kind: 'section', text: outcome.join('\n') });
  blocks.push({ kind: 'context', text: `Tacit (bot) · approval ${a.id}` });
  return { text: `${title}${a.reason ? ` — ${a.reason}` : ''}`, blocks };
}
