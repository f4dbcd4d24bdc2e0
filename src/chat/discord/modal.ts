// The "deny with a reason" form as a Discord modal: the answer to a Deny press (interaction callback
// type 9), a Label around one paragraph text input. Its MODAL_SUBMIT comes back with the modal's
// custom id, `approval_deny_reason:<approval id>`, and the reason in the text input.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import { DENY_REASON_ACTION_ID } from '../../core/approval-card.js';
import type { DenyReasonForm } from '../port.js';
import { customId } from './types.js';

const REASON_INPUT = 'reason';
/** Discord's modal limits: title and label 45 characters, description and placeholder 100. */
const TITLE_CHARS = 45;
export const REASON_CHARS = 1000;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function denyReasonModal(form: DenyReasonForm): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId(DENY_REASON_ACTION_ID, form.approvalId),
    // Modal text is plain (no markdown, no mentions): cutting is all it needs.
    title: cut(`Deny ${form.action}`, TITLE_CHARS),
    components: [
      {
        type: ComponentType.Label,
        label: 'Why deny it?',
        description: 'Shown on the approval card and kept in the audit trail.',
        component: { type: ComponentType.TextInput, custom_id: REASON_INPUT, style: TextInputStyle.Paragraph, required: true, min_length: 1, max_length: REASON_CHARS, placeholder: 'e.g. not during the release; ask again after 16:00' },
      },
    ],
  };
}

/** The reason typed into a submitted deny modal, from discord.js's parsed fields. */
export function submittedReason(fields: { fields: { get(id: string): unknown } }): string {
  // A submission without the input (an older modal) denies without a reason rather than failing.
  const field = fields.fields.get(REASON_INPUT);
  const value = typeof field === 'object' && field !== null && 'value' in field ? field.value : undefined;
  return typeof value === 'string' ? value.trim().slice(0, REASON_CHARS) : '';
}
