// The "deny with a reason" form as a Slack modal: opened with the Deny click's trigger_id (valid 3 s,
// once), its view_submission turned back into the neutral `approval_deny_reason` interaction (value the
// approval id, text the reason). Where the card was rides in private_metadata, so the answer goes there.
import type { DenyReasonForm } from '../port.js';
import { plainText } from './render.js';

export const DENY_REASON_CALLBACK_ID = 'tacit.deny_reason';
/** Slack's modal limits: title 24 characters; Tacit keeps reasons to 1,000 (the core cuts them too). */
const REASON_CHARS = 1000;

export function denyReasonModal(form: DenyReasonForm, where: { channel: string; messageTs: string }): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK_ID,
    private_metadata: JSON.stringify({ approvalId: form.approvalId, ...where }),
    title: plainText('Deny this action', 24),
    submit: plainText('Deny', 24),
    close: plainText('Cancel', 24),
    blocks: [
      { type: 'section', text: plainText(`Why deny ${form.action}? Nothing is decided until you submit.`, 3000) },
      {
        type: 'input', block_id: 'reason', label: plainText('Reason', 2000),
        hint: plainText('Shown on the approval card and kept in the audit trail.', 2000),
        element: { type: 'plain_text_input', action_id: 'text', multiline: true, min_length: 1, max_length: REASON_CHARS },
      },
    ],
  };
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

/** The approval, where it was asked and the reason, from a submitted deny form; null when it is not one Tacit opened. */
export function submittedDenial(view: { private_metadata?: string; state?: { values?: StateValues } }): { approvalId: string; channel: string; messageTs: string; reason: string } | null {
  let meta: { approvalId?: unknown; channel?: unknown; messageTs?: unknown };
  try {
    meta = JSON.parse(view.private_metadata ?? '{}') as typeof meta;
  } catch {
    return null;
  }
  if (typeof meta.approvalId !== 'string' || typeof meta.channel !== 'string') return null;
  const reason = (view.state?.values?.reason?.text?.value ?? '').trim().slice(0, REASON_CHARS);
  return { approvalId: meta.approvalId, channel: meta.channel, messageTs: typeof meta.messageTs === 'string' ? meta.messageTs : '', reason };
}
