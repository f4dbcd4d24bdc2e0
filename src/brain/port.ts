// The Brain port: decide what a woken tick should do, and answer people who mention Tacit.
// Implementations: RulesBrain (offline, deterministic); ClaudeBrain arrives with the brain issue.
import type { ActionInfo } from '../core/actions.js';
import type { Decision, Reply, Usage } from '../core/decisions.js';
import type { EventRecord } from '../core/events.js';
import type { Incident, IncidentTransition } from '../core/incidents.js';

export interface DecideContext {
  workspaceId: string;
  now: Date;
  /** Why the gate woke the tick. */
  reasons: string[];
  transitions: IncidentTransition[];
  /** Incidents touched by this tick and all open ones, by id. */
  incidents: ReadonlyMap<string, Incident>;
  events: readonly EventRecord[];
  /** Present when the daily digest is due: what happened in the last 24 hours. */
  digest?: DigestFacts;
  /** Actions this workspace can ask people to approve (configured integrations only). */
  actions?: readonly ActionInfo[];
  /** The workspace's memory: hints, re-checked before they are shown. */
  memory?: MemoryView;
}

/** Memory as the brain sees it: a compact index in the prompt, bodies loaded on demand. */
export interface MemoryView {
  /** One line per entry; entries whose live check failed are marked stale, and say why. */
  index: string;
  /** An entry's body (re-checked first), or null when there is no such entry. */
  recall(id: string): Promise<string | null>;
}

export interface DigestFacts {
  channelId: string;
  /** Local date the digest is for (YYYY-MM-DD); one digest per date. */
  date: string;
  since: Date;
  opened: Incident[];
  resolved: Incident[];
  stillOpen: Incident[];
  decisions: number;
  messages: number;
}

export interface Conversation {
  workspaceId: string;
  now: Date;
  asker: { id: string; name: string };
  /** What the person wrote, with the mention of Tacit removed. Untrusted. */
  text: string;
  openIncidents: Incident[];
  watching: { kind: string; channelName: string }[];
  /** Actions the asker could request (they still need an approver's click). */
  actions?: readonly ActionInfo[];
  memory?: MemoryView;
  /** Read-only lookups a model may use while answering; results are untrusted data. */
  lookups?: Lookups;
}

export interface Lookups {
  /** One line per event, newest first. */
  recentEvents(limit: number): Promise<string[]>;
  /** One line per repository change, newest first. */
  repoActivity(limit: number): Promise<string[]>;
}

/** A per-workspace daily token budget with a hard stop; every model call counts, triage included. */
export interface TokenBudget {
  /** Tokens left today (0 or less: stop). */
  remaining(workspaceId: string, now: Date): Promise<number>;
  spend(workspaceId: string, tokens: number, now: Date): Promise<void>;
}

/** Memory entries handed to a brain for consolidation ("dreaming"). Their text is untrusted data. */
export interface ConsolidateInput {
  workspaceId: string;
  now: Date;
  timezone: string;
  entries: { id: string; topic: string; hint: string; body: string; sources: string[]; createdAt: Date; staleReason: string | null }[];
  /** How many entries the index may hold. */
  maxEntries: number;
}

/**
 * A proposed rewrite of the memory: the entries to keep, each naming the old entries it comes from
 * (one: kept or rewritten; several: merged), and the entries to retire with why. Old entries named
 * nowhere are dropped. Memory checks every proposal and refuses unsafe ones.
 */
export interface ConsolidateProposal {
  entries: { from: string[]; topic: string; hint: string; body: string; sources: string[] }[];
  retire: { id: string; reason: string }[];
}

export interface Brain {
  readonly name: string;
  decide(context: DecideContext): Promise<Decision>;
  reply(conversation: Conversation): Promise<Reply>;
  /** Optional: a model's proposal for consolidating memory; without it, memory consolidates by rules. */
  consolidate?(input: ConsolidateInput): Promise<{ proposal: ConsolidateProposal; usage: Usage }>;
}
