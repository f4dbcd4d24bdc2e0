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
  /** The person who asked for an action may not approve it. */
  twoPerson: boolean;
}
