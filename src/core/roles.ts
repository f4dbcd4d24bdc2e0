// Who may change a workspace's settings through `/tacit`: the platform's own admins (Slack workspace
// admins and owners, Discord members with Manage Server), people on the workspace's allow-list and
// members of its admin groups. Guests and people from another organisation change nothing, whatever
// a list says. Reading stays open to every member. Pure: the adapters fill in what the platform says.

export interface Requester {
  id: string;
  /** The platform says so: Slack `is_admin`/`is_owner`, Discord Manage Server (or Administrator). */
  admin?: boolean;
  /** Slack multi- or single-channel guest (`is_restricted`/`is_ultra_restricted`). */
  guest?: boolean;
  /** From another organisation (Slack Connect, a foreign enterprise). */
  external?: boolean;
}

/** The workspace's own additions to the platform's admins (settings `admins`). */
export interface AdminList {
  users: readonly string[];
  /** Slack user group ids, Discord role ids, the playground's group names. */
  groups: readonly string[];
}

export type RoleDecision =
  | { allowed: true; via: 'platform admin' | 'allow-list' | 'admin group' }
  | { allowed: false; reason: 'external' | 'guest' | 'not an admin'; message: string };

/**
 * Whether this person may change settings. `memberOf` holds the ids of the admin groups the person
 * is known to belong to (looked up by the caller only when the other answers are no).
 */
export function mayChangeSettings(person: Requester, admins: AdminList, memberOf: ReadonlySet<string> = new Set()): RoleDecision {
  if (person.external) {
    return { allowed: false, reason: 'external', message: 'People from another organisation cannot change Tacit in this workspace.' };
  }
  if (person.guest) return { allowed: false, reason: 'guest', message: 'Guests cannot change Tacit in this workspace.' };
  if (person.admin) return { allowed: true, via: 'platform admin' };
  if (admins.users.includes(person.id)) return { allowed: true, via: 'allow-list' };
  if (admins.groups.some((g) => memberOf.has(g))) return { allowed: true, via: 'admin group' };
  return {
    allowed: false, reason: 'not an admin',
    message: 'Only workspace admins (or people an admin added with `/tacit admins`) can change this. Reading (`status`, `memory`, `sources`) is open to everyone.',
  };
}

/** True when a group lookup could change the answer (so the caller asks the platform only then). */
export function needsGroupLookup(person: Requester, admins: AdminList): boolean {
  return !person.external && !person.guest && !person.admin && !admins.users.includes(person.id) && admins.groups.length > 0;
}

/**
 * What a `/tacit` command does: `read` changes nothing; `change` needs mayChangeSettings; `respond`
 * is an incident step any member may take (src/oncall/authority.ts refuses guests and externals); `unknown`
 * is answered with the usage and runs nothing (so a new verb runs only once it is listed here). A
 * settings verb given no arguments only shows the current value.
 */
export function commandAccess(verb: string, args: readonly string[]): 'read' | 'change' | 'respond' | 'unknown' {
  switch (verb) {
    case 'ack':
    case 'resolve':
    case 'incident':
    case 'pagerduty-email':
      return 'respond';
    case 'auto-resolve':
    case 'ack-silence':
      return args.length === 0 ? 'read' : 'change';
    case 'status':
    case 'memory':
    case 'sources':
    case 'why':
    case 'help':
    case '':
      return 'read';
    case 'budget':
    case 'quiet-hours':
    case 'digest':
    case 'approvers':
    case 'admins':
      return args.length === 0 ? 'read' : 'change';
    // Routing and on-call (src/oncall): reading is open; a person's own quiet hours are theirs to set.
    case 'route':
      return args.length === 0 || args[0]?.toLowerCase() === 'list' ? 'read' : 'change';
    case 'oncall':
      return args.length === 0 || ['quiet-hours', 'help'].includes(args[0]?.toLowerCase() ?? '') ? 'read' : 'change';
    case 'pause':
    case 'resume':
    case 'connect':
    case 'forget':
    case 'rotate':
    case 'revoke':
    case 'integration':
    case 'setup':
      return 'change';
    default:
      return 'unknown';
  }
}
