// The admin settings form as a Slack modal (views.open from the slash command's trigger_id), and its
// view_submission turned back into ordinary `/tacit` commands, so the same roles check and audit apply
// to what was submitted as to what was typed.
import type { SettingsForm } from '../port.js';

export const SETTINGS_CALLBACK_ID = 'tacit.settings';

/** A Block Kit modal; `channel` rides in private_metadata so the result is answered where it was asked. */
export function settingsModal(form: SettingsForm, channel: string): Record<string, unknown> {
  const twoPerson = { text: { type: 'plain_text', text: 'Two-person rule: whoever asked cannot approve' }, value: 'on' };
  return {
    type: 'modal',
    callback_id: SETTINGS_CALLBACK_ID,
    private_metadata: JSON.stringify({ channel }),
    title: { type: 'plain_text', text: 'Tacit settings' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input', block_id: 'approvers', optional: true, label: { type: 'plain_text', text: 'Who may approve actions' },
        element: { type: 'multi_users_select', action_id: 'users', ...(form.approvers.users.length ? { initial_users: form.approvers.users } : {}) },
        hint: { type: 'plain_text', text: 'Nobody means nothing can be approved.' },
      },
      {
        type: 'input', block_id: 'groups', optional: true, label: { type: 'plain_text', text: 'Approver user groups (ids, S…)' },
        element: { type: 'plain_text_input', action_id: 'ids', ...(form.approvers.groups.length ? { initial_value: form.approvers.groups.join(' ') } : {}) },
      },
      {
        type: 'input', block_id: 'two_person', optional: true, label: { type: 'plain_text', text: 'Approval rule' },
        element: { type: 'checkboxes', action_id: 'on', options: [twoPerson], ...(form.approvers.twoPerson ? { initial_options: [twoPerson] } : {}) },
      },
      {
        type: 'input', block_id: 'alertmanager', optional: true, label: { type: 'plain_text', text: 'Alertmanager URL (for silences)' },
        element: { type: 'url_text_input', action_id: 'url', ...(form.alertmanagerUrl ? { initial_value: form.alertmanagerUrl } : {}) },
      },
    ],
  };
}

/** `view.state.values` as Slack sends it in a view_submission. */
type StateValues = Record<string, Record<string, { type?: string; selected_users?: string[]; value?: string | null; selected_options?: { value: string }[] }>>;

/** The `/tacit` commands a submitted form means, and the channel to answer in. */
export function settingsCommands(view: { private_metadata?: string; state?: { values?: StateValues } }): { channel: string; commands: string[] } {
  const values = view.state?.values ?? {};
  const users = values.approvers?.users?.selected_users ?? [];
  const groups = (values.groups?.ids?.value ?? '').split(/[\s,]+/).filter((g) => /^S[A-Z0-9]+$/.test(g));
  const twoPerson = (values.two_person?.on?.selected_options ?? []).some((o) => o.value === 'on');
  const url = values.alertmanager?.url?.value?.trim();
  const people = [...users.map((u) => `<@${u}>`), ...groups.map((g) => `<!subteam^${g}>`)];
  const commands = [`approvers ${people.length ? people.join(' ') : 'none'}${twoPerson ? ' two-person' : ''}`];
  if (url) commands.push(`integration alertmanager ${url}`);
  let channel = '';
  try {
    const meta = JSON.parse(view.private_metadata ?? '{}') as { channel?: unknown };
    channel = typeof meta.channel === 'string' ? meta.channel : '';
  } catch {
    channel = ''; // a form Tacit did not open: answered by DM instead
  }
  return { channel, commands };
}
