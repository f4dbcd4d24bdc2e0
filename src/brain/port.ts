// The Brain port: decide what a woken tick should do, and answer people who mention Tacit.
// Implementations: RulesBrain (offline, deterministic) and ClaudeBrain (src/brain/claude).
import type { ActionInfo } from '../core/actions.js';
import type { Decision, Reply, Usage } from '../core/decisions.js';
import type { EventRecord } from '../core/events.js';
import type { InvestigationReport } from '../core/evidence.js';
import type { Incident, IncidentTransition } from '../core/incidents.js';
import type { RepoHealthChange } from '../core/repo-health.js';

export interface DecideContext {
  workspaceId: string;
  now: Date;
  /** The workspace's IANA time zone, for the times people read (default UTC). */
  timezone?: string;
  /** Why the gate woke the tick. */
  reasons: string[];
  transitions: IncidentTransition[];
  /** Incidents touched by this tick and all open ones, by id. */
  incidents: ReadonlyMap<string, Incident>;
  events: readonly EventRecord[];
  /** Present when the daily digest is due: what happened in the last 24 hours. */
  digest?: DigestFacts;
  /**
   * Default branches that turned red or green in this tick. When present, CI results are announced
   * only as these changes (a branch already red is no news), keyed by the state they announce.
   */
  repoHealth?: readonly RepoHealthChange[];
  /** The restraint policy's rules in force (core/policy.ts policyConstraints), told before the brain writes. */
  constraints?: readonly string[];
  /** Actions this workspace can ask people to approve (configured integrations only). */
  actions?: readonly ActionInfo[];
  /** The people the brain may address (notify_person reaches no one else). */
  people?: readonly Person[];
  /** The workspace's memory: hints, re-checked before they are shown. */
  memory?: MemoryView;
  /** Aborts when the tick must stop (its time is up or its lock was lost): stop calling out. */
  signal?: AbortSignal;
  /** Investigations that finished since the last tick (src/investigate): their evidence, to be told as findings. */
  investigations?: readonly InvestigationReport[];
  /** Read-only evidence lookups a model may use while writing findings; results are untrusted data. */
  evidence?: EvidenceTools;
}

/** Read-only, bounded lookups into the workspace's evidence sources; each answers JSON text (capped) or says why it cannot. */
export interface EvidenceTools {
  queryMetrics(input: { expr: string; minutes: number }): Promise<string>;
  searchLogs(input: { query: string; minutes: number }): Promise<string>;
  getDiff(input: { repo: string; sha: string }): Promise<string>;
  similarIncidents(input: { incidentId: string }): Promise<string>;
}

/** Someone the brain may address, by platform user id, from the workspace's settings (set by people). */
export interface Person {
  id: string;
  role: 'on-call' | 'approver';
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
  /** The workspace's IANA time zone, for the times people read (default UTC). */
  timezone?: string;
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

/**
 * A per-workspace daily token budget with a hard stop; every model call counts, triage included. A call
 * reserves its largest possible cost first (refused when that would pass the limit, atomically, across
 * processes), then settles to what it really used.
 */
export interface TokenBudget {
  /** Tokens left today (0 or less: stop). */
  remaining(workspaceId: string, now: Date): Promise<number>;
  /** Holds `tokens` of today's budget, or returns null (and holds nothing) when they do not fit. */
  reserve(workspaceId: string, tokens: number, now: Date): Promise<TokenReservation | null>;
  /** Replaces a reservation by the tokens really used (0 when the call failed before any were). */
  settle(reservation: TokenReservation, usedTokens: number): Promise<void>;
}

export interface TokenReservation {
  workspaceId: string;
  /** The budget day (UTC date) the tokens were held on: a call across midnight settles where it reserved. */
  day: string;
  tokens: number;
}

/** What an operator must fix for the brain to work as configured (shown by the dashboard and /readyz). */
export interface BrainHealth {
  /** A rejected key, a retired or unknown model, a refused request: null when the last call of each model worked. */
  configurationError: string | null;
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
  /** Optional: configuration problems found while calling out (a brain without remote calls has none). */
  health?(): BrainHealth;
}
