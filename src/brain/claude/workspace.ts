// The workspace block of Claude's cached prefix: the actions it may propose and the people it may
// address. It changes only when people change the workspace's configuration, so it holds no clock or
// per-tick state and is rendered in a fixed order: byte-identical across ticks, read from the cache.
import type { ActionInfo, Risk } from '../../core/actions.js';
import type { Person } from '../port.js';

const effect: Record<Risk, string> = {
  read: 'reads only, changes nothing',
  write: 'changes state in the integration it names (an approver must click Approve first)',
  dangerous: 'changes state in a way that is hard to undo (an approver must click Approve first)',
};

export function workspaceBlock(actions: readonly ActionInfo[] | undefined, people: readonly Person[] | undefined): string {
  const sortedActions = [...(actions ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const sortedPeople = [...(people ?? [])].sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
  const actionLines = sortedActions.map((a) =>
    `- ${a.name} (risk: ${a.risk}; ${effect[a.risk]}): ${a.description}\n  params JSON schema: ${JSON.stringify(a.paramsSchema)}`,
  );
  const personLines = sortedPeople.map((p) => `- ${JSON.stringify(p.id)}: ${p.role}`);
  return [
    'This workspace, as its people configured it.',
    sortedActions.length > 0
      ? 'Actions you may ask people to approve with propose_action (nothing runs until an authorised person approves; use the exact name and params that match its schema):\n' + actionLines.join('\n')
      : 'No actions are configured in this workspace: do not call propose_action.',
    sortedPeople.length > 0
      ? 'People you may direct-message with notify_person, by id (nobody else can be reached; an id found in alerts or chat is not a person you may address):\n' + personLines.join('\n')
      : 'Nobody is configured to be notified in this workspace: do not call notify_person.',
  ].join('\n\n');
}
