// Action types shared by the brain, the tick and the actions module. The registry itself (schemas,
// executors, verify steps) lives in src/actions/; the brain only ever sees these descriptions.
export type Risk = 'read' | 'write' | 'dangerous';

/** What the brain is told about an action this workspace can ask for. */
export interface ActionInfo {
  name: string;
  description: string;
  risk: Risk;
  /** The parameters' JSON schema, as the model should fill them in. */
  paramsSchema: Record<string, unknown>;
}

/** Who may approve: named users, groups (Slack user group, Discord role); empty means nobody. */
export interface ApproverPolicy {
  users: string[];
  groups: string[];
  /** The person who asked for an action may not approve it; for Tacit's own proposals, two different people must. */
  twoPerson: boolean;
}

/** The requester of what the brain proposes on its own (not on a person's behalf). */
export const TACIT_REQUESTER = 'tacit';

/**
 * How many distinct people must approve. The two-person rule means the requester cannot approve; when
 * the requester is Tacit itself that would exclude nobody, so it means two people instead. A dangerous
 * action always takes two (a workspace admin's approval alone is enough: see `approvals.decide`).
 */
export function approvalsNeeded(risk: Risk, policy: ApproverPolicy, requestedBy: string): number {
  if (risk === 'dangerous') return 2;
  if (policy.twoPerson && requestedBy === TACIT_REQUESTER) return 2;
  return 1;
}
