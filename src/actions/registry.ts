// The action registry: every action Tacit can ask to run, with its parameter schema, risk, the
// integration it needs, an executor and a verify step that checks the world afterwards. Only actions
// whose integration a workspace has configured exist for it; runbooks exist only by name.
import { z } from 'zod';
import type { ActionInfo } from '../core/actions.js';
import { alertmanagerActions } from './executors/alertmanager.js';
import { githubActions } from './executors/github.js';
import { pagerdutyActions } from './executors/pagerduty.js';
import { runbookAction } from './executors/runbook.js';
import type { Integration } from './integrations.js';
import type { ActionDefinition } from './types.js';

export { ActionNotSentError, PermanentActionError, type ActionDefinition, type ExecuteContext, type ExecuteResult, type Verification } from './types.js';

// Each definition is typed by its own parameters; the registry holds them type-erased.
export type AnyAction = ActionDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const builtinActions: readonly AnyAction[] = [...githubActions, ...alertmanagerActions, ...pagerdutyActions];

/** The actions one workspace has, given its integrations: built-ins whose integration exists, and its runbooks. */
export function actionsFor(integrations: readonly Integration[]): AnyAction[] {
  const kinds = new Set(integrations.map((i) => i.kind));
  const found: AnyAction[] = builtinActions.filter((a) => kinds.has(a.integration));
  for (const i of integrations) if (i.kind === 'runbook') found.push(runbookAction(i));
  return found;
}

export function describeAction(a: AnyAction): ActionInfo {
  const { $schema: _omit, ...paramsSchema } = z.toJSONSchema(a.params, { io: 'input' }) as Record<string, unknown>;
  return { name: a.name, description: a.description, risk: a.risk, paramsSchema };
}

/** The integration an action runs against: runbooks by their own name, the rest the workspace's default. */
export function integrationFor(action: AnyAction, integrations: readonly Integration[]): Integration | undefined {
  if (action.integration === 'runbook') return integrations.find((i) => i.kind === 'runbook' && `runbook.${i.name}` === action.name);
  return integrations.find((i) => i.kind === action.integration);
}
