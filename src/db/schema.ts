// The drizzle schema: every table Tacit keeps. Migrations in migrations/ are generated from this file
// by drizzle-kit (`npm run db:generate`); never edit a generated migration by hand.
import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, customType, index, integer, jsonb, pgSequence, pgTable, primaryKey, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** A Slack team, a Discord guild or the playground. Ids are prefixed (`playground:local`, `slack:T0123`). */
export const workspaces = pgTable('workspaces', {
  id: text('id').primaryKey(),
  platform: text('platform', { enum: ['slack', 'discord', 'playground'] }).notNull(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  /** Set on uninstall, revoked tokens or leaving the guild: no heartbeat until it is added again. */
  removedAt: timestamp('removed_at', { withTimezone: true }),
  /**
   * Tick fencing: a claimed tick takes the next value at its start and commits only while the row
   * still holds it, so a tick whose lock expired can never commit over the one that replaced it.
   */
  tickFence: bigint('tick_fence', { mode: 'number' }).notNull().default(0),
  /**
   * The last heartbeat slot (interval-aligned start, ms since epoch) whose tick committed: a slot that
   * ran before a crash is not run again when its job is retried.
   */
  lastTickSlot: bigint('last_tick_slot', { mode: 'number' }).notNull().default(0),
  createdAt: createdAt(),
});

/** Slack OAuth installations (multi-workspace): Bolt's installation object, encrypted at rest. */
export const slackInstallations = pgTable('slack_installations', {
  /** `slack:T…` for a team install, `slack:E…` for an org-wide install. */
  workspaceId: text('workspace_id').primaryKey(),
  teamId: text('team_id'),
  enterpriseId: text('enterprise_id'),
  botUserId: text('bot_user_id'),
  /** The whole installation (tokens included) as JSON, AES-256-GCM under TACIT_SECRET_KEY. */
  installationEncrypted: text('installation_encrypted').notNull(),
  /** When the bot token expires (token rotation); null for tokens that do not expire. */
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  installedBy: text('installed_by'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** What a workspace's actions talk to (GitHub, Alertmanager, PagerDuty, named runbooks); secrets encrypted. */
export const integrations = pgTable('integrations', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  kind: text('kind', { enum: ['github', 'alertmanager', 'pagerduty', 'runbook', 'prometheus', 'loki', 'sentry'] }).notNull(),
  /** `default` for the one GitHub/Alertmanager/PagerDuty per workspace; the runbook's name otherwise. */
  name: text('name').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /** JSON object of secret values (tokens, header values), AES-256-GCM under TACIT_SECRET_KEY. */
  secretsEncrypted: text('secrets_encrypted'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('integrations_name_idx').on(t.workspaceId, t.kind, t.name)]);

export const channels = pgTable('channels', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  proactive: boolean('proactive').notNull().default(true),
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  /** The newest platform message id such that it and everything before it are stored (gap-aware backfill). */
  historyCursor: text('history_cursor'),
  createdAt: createdAt(),
}, (t) => [index('channels_workspace_idx').on(t.workspaceId)]);

/** Where events come from: an alert webhook, a GitHub hook. Credentials are stored hashed or encrypted. */
export const sources = pgTable('sources', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  kind: text('kind', { enum: ['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic', 'github'] }).notNull(),
  channelId: text('channel_id').notNull().references(() => channels.id),
  /** sha256 of the bearer token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash'),
  /** Signing secret (HMAC sources), encrypted with TACIT_SECRET_KEY; needed in clear to verify. */
  secretEncrypted: text('secret_encrypted'),
  /** Format-specific settings: generic field mapping, signature header names, GitHub hook access. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /** Set when the source was revoked: its credentials are refused at once, its history stays. */
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  /** Set when its credentials were last replaced (`/tacit rotate`, the admin API). */
  rotatedAt: timestamp('rotated_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * Append-only: who asked Tacit to change what (settings, sources, approvers, integrations) through
 * chat or the admin API, and whether it was allowed or refused, with why.
 */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  /** The platform user id, or `admin-api` / `tacit`. */
  actor: text('actor').notNull(),
  /** What was asked: `pause`, `budget`, `connect`, `revoke`, `approvers`, … */
  action: text('action').notNull(),
  outcome: text('outcome', { enum: ['allowed', 'refused'] }).notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('audit_log_workspace_idx').on(t.workspaceId, t.at)]);

/** Repository health per branch: red or green, and since when, so a notice announces a state once. */
export const repoHealth = pgTable('repo_health', {
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  repo: text('repo').notNull(),
  branch: text('branch').notNull(),
  state: text('state', { enum: ['red', 'green'] }).notNull(),
  /** When the branch entered this state. */
  since: timestamp('since', { withTimezone: true }).notNull(),
  /** What made it so (workflow, commit), for the notice and its edits. */
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  /** The notice that announced this state, once posted: later changes edit it. */
  noticeMessage: jsonb('notice_message').$type<{ channelId: string; messageId: string } | null>(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.repo, t.branch] })]);

/** Everything Tacit knows, normalised. `tickId` is set by the tick that consumed the event. */
export const events = pgTable('events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  sourceId: text('source_id'),
  kind: text('kind').notNull(),
  dedupeKey: text('dedupe_key').notNull(),
  urgent: boolean('urgent').notNull().default(false),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  payload: jsonb('payload').$type<unknown>().notNull(),
  tickId: text('tick_id'),
  /** Ticks that failed while this event was unconsumed; past a bound the event is quarantined. */
  failures: integer('failures').notNull().default(0),
}, (t) => [
  uniqueIndex('events_dedupe_idx').on(t.workspaceId, t.dedupeKey),
  index('events_unconsumed_idx').on(t.workspaceId, t.id).where(sql`${t.tickId} is null`),
  index('events_received_idx').on(t.receivedAt),
]);

/** Authenticated bodies that could not be parsed: kept whole with the reason, answered 2xx. */
export const quarantine = pgTable('quarantine', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  sourceId: text('source_id').notNull(),
  /** `body`: a webhook body intake could not turn into events; `event`: a stored event no tick could consume. */
  kind: text('kind', { enum: ['body', 'event'] }).notNull().default('body'),
  /** For `event`: the stored event that was set aside. */
  eventId: bigint('event_id', { mode: 'number' }),
  reason: text('reason').notNull(),
  contentType: text('content_type'),
  body: bytea('body').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('quarantine_received_idx').on(t.receivedAt)]);

export const incidents = pgTable('incidents', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  channelId: text('channel_id').notNull(),
  /**
   * The grouping key (Alertmanager `groupKey`, or the fingerprint) scoped by source; bounded (a long
   * key is stored as its hash, so the unique index can hold it), with the original in `groupLabel`.
   */
  groupKey: text('group_key').notNull(),
  /** The original group key when `groupKey` is its hash; never indexed. */
  groupLabel: text('group_label'),
  /**
   * `storm`: an incident standing for several that opened together; its members point at it.
   * `declared`: opened by hand (`/tacit incident declare`), with no alerts. A text column without a check.
   */
  kind: text('kind', { enum: ['alert', 'storm', 'declared'] }).notNull().default('alert'),
  /** For a member of a storm: the storm incident's id. */
  stormId: text('storm_id'),
  status: text('status', { enum: ['firing', 'acknowledged', 'resolved'] }).notNull(),
  severity: text('severity').notNull(),
  title: text('title').notNull(),
  /** Per-alert state keyed by fingerprint. */
  alerts: jsonb('alerts').$type<Record<string, unknown>>().notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  recurrences: integer('recurrences').notNull().default(0),
  /** Bumped on every state change; the parent card shows one version and never goes backwards. */
  version: integer('version').notNull().default(1),
  cardVersion: integer('card_version').notNull().default(0),
  /** Set when the parent card is queued in the outbox; the card itself may not be delivered yet. */
  announcedAt: timestamp('announced_at', { withTimezone: true }),
  acknowledgedBy: text('acknowledged_by'),
  flapping: boolean('flapping').notNull().default(false),
  cycleTimes: jsonb('cycle_times').$type<string[]>().notNull().default([]),
  suspects: jsonb('suspects').$type<unknown[]>().notNull().default([]),
  nudgedAt: timestamp('nudged_at', { withTimezone: true }),
  parentMessage: jsonb('parent_message').$type<{ channelId: string; messageId: string } | null>(),
  /** The latest investigation of this incident (issue: investigation): id, status, when, for which version. */
  investigation: jsonb('investigation').$type<Record<string, unknown> | null>(),
  /** Acknowledge/resolve carried to where the incident lives, per source: accepted or failed, by whom, when. */
  sourceSync: jsonb('source_sync').$type<Record<string, unknown>>().notNull().default({}),
  /** Escalation of an unacknowledged critical incident: the last step taken and when. */
  escalationLevel: integer('escalation_level').notNull().default(0),
  escalatedAt: timestamp('escalated_at', { withTimezone: true }),
  /** The last alert event that touched this incident: auto-resolve counts silence from here. */
  lastAlertAt: timestamp('last_alert_at', { withTimezone: true }),
  /** For an incident declared by hand: who declared it. */
  declaredBy: text('declared_by'),
  /** The post-incident draft and timeline, once the incident resolved. */
  report: jsonb('report').$type<Record<string, unknown> | null>(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  createdAt: createdAt(),
}, (t) => [
  uniqueIndex('incidents_group_idx').on(t.workspaceId, t.groupKey),
  index('incidents_storm_idx').on(t.stormId).where(sql`${t.stormId} is not null`),
  index('incidents_open_idx').on(t.workspaceId).where(sql`${t.status} <> 'resolved'`),
]);

/** One row per woken tick or conversation turn: why Tacit spoke or stayed quiet, and what it cost. */
export const decisions = pgTable('decisions', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  tickId: text('tick_id').notNull(),
  trigger: text('trigger').notNull(),
  brain: text('brain').notNull(),
  outcome: text('outcome', { enum: ['quiet', 'spoke', 'vetoed', 'acted'] }).notNull(),
  reasons: jsonb('reasons').$type<string[]>().notNull(),
  vetoes: jsonb('vetoes').$type<string[]>().notNull().default([]),
  eventIds: jsonb('event_ids').$type<number[]>().notNull(),
  incidentIds: jsonb('incident_ids').$type<string[]>().notNull().default([]),
  inputTokens: integer('input_tokens').notNull().default(0),
  outputTokens: integer('output_tokens').notNull().default(0),
  cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
  cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
  costMicroUsd: bigint('cost_micro_usd', { mode: 'number' }).notNull().default(0),
  createdAt: createdAt(),
}, (t) => [index('decisions_workspace_idx').on(t.workspaceId, t.createdAt), index('decisions_created_idx').on(t.createdAt)]);

/** What an investigation fetched for an incident: one row per query, with its cost and capped, redacted result. */
export const evidence = pgTable('evidence', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  incidentId: text('incident_id').notNull(),
  investigationId: text('investigation_id').notNull(),
  decisionId: text('decision_id'),
  /** `prometheus`, `loki`, `github`, `history`, … */
  source: text('source').notNull(),
  query: text('query').notNull(),
  status: text('status', { enum: ['ok', 'empty', 'failed', 'timeout'] }).notNull(),
  durationMs: integer('duration_ms').notNull(),
  result: jsonb('result').$type<unknown>().notNull().default({}),
  error: text('error'),
  createdAt: createdAt(),
}, (t) => [index('evidence_incident_idx').on(t.incidentId, t.id), index('evidence_created_idx').on(t.createdAt)]);

/** Append-only steps of an incident's life that are not events: acknowledgements, source syncs, escalations, reports. */
export const incidentSteps = pgTable('incident_steps', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  incidentId: text('incident_id').notNull(),
  kind: text('kind').notNull(),
  /** The person (platform user id), or `tacit`. */
  actor: text('actor').notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('incident_steps_incident_idx').on(t.incidentId, t.id)]);

/** A person's verdict on something Tacit said (a summary's feedback buttons), one per person per decision. */
export const feedback = pgTable('feedback', {
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  decisionId: text('decision_id').notNull(),
  person: text('person').notNull(),
  verdict: text('verdict', { enum: ['helpful', 'not_helpful'] }).notNull(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.decisionId, t.person] }), index('feedback_workspace_idx').on(t.workspaceId, t.at)]);

/** Every outbound message. The idempotency key makes the same news impossible to queue twice. */
export const outbox = pgTable('outbox', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  decisionId: text('decision_id'),
  idempotencyKey: text('idempotency_key').notNull(),
  kind: text('kind', { enum: ['post', 'update'] }).notNull(),
  channelId: text('channel_id').notNull(),
  /** What the message hangs off: the channel, an incident's parent card, or a given thread. */
  anchor: jsonb('anchor').$type<unknown>().notNull(),
  incidentId: text('incident_id'),
  /** For card updates: the incident version this message shows. */
  incidentVersion: integer('incident_version'),
  message: jsonb('message').$type<unknown>().notNull(),
  /** Unsolicited (from a tick) rather than an answer to a person; counts against the channel budget. */
  proactive: boolean('proactive').notNull().default(false),
  purpose: text('purpose'),
  status: text('status', { enum: ['pending', 'sent', 'skipped', 'dead'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  /** When the first delivery attempt began: a retry looks for an earlier post only from here on. */
  firstAttemptAt: timestamp('first_attempt_at', { withTimezone: true }),
  lastError: text('last_error'),
  sentMessage: jsonb('sent_message').$type<{ channelId: string; messageId: string } | null>(),
  createdAt: createdAt(),
  sentAt: timestamp('sent_at', { withTimezone: true }),
}, (t) => [
  uniqueIndex('outbox_idempotency_idx').on(t.workspaceId, t.idempotencyKey),
  index('outbox_pending_idx').on(t.createdAt).where(sql`${t.status} = 'pending'`),
  index('outbox_created_idx').on(t.createdAt),
]);

/** Requests for a person to authorise an action, bound to the exact parameters (issue: actions). */
export const approvals = pgTable('approvals', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  decisionId: text('decision_id'),
  action: text('action').notNull(),
  params: jsonb('params').$type<unknown>().notNull(),
  paramsHash: text('params_hash').notNull(),
  requestedBy: text('requested_by').notNull(),
  approverPolicy: jsonb('approver_policy').$type<unknown>().notNull(),
  status: text('status', { enum: ['pending', 'approved', 'denied', 'expired', 'executed', 'failed'] }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  decidedBy: text('decided_by'),
  decidedAt: timestamp('decided_at', { withTimezone: true }),
  /** Why it was asked for (the brain's or the person's reason), shown on the card. */
  reason: text('reason').notNull().default(''),
  /** The decider's own words (a Deny's reason), shown on the card and kept in the audit. */
  decisionNote: text('decision_note'),
  incidentId: text('incident_id'),
  channelId: text('channel_id').notNull().default(''),
  /** The approval card, once delivered; edited in place with the decision and the result. */
  card: jsonb('card').$type<{ channelId: string; messageId: string } | null>(),
  /** Bumped on every change the card must show; the card never goes backwards. */
  version: integer('version').notNull().default(1),
  result: jsonb('result').$type<unknown>(),
  verification: jsonb('verification').$type<unknown>(),
  executedAt: timestamp('executed_at', { withTimezone: true }),
  createdAt: createdAt(),
}, (t) => [
  index('approvals_pending_idx').on(t.workspaceId).where(sql`${t.status} = 'pending'`),
  index('approvals_workspace_idx').on(t.workspaceId, t.createdAt),
]);

/** Append-only: every request, decision, refusal, execution and verification of an approval. */
export const approvalAudit = pgTable('approval_audit', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  approvalId: text('approval_id').notNull(),
  workspaceId: text('workspace_id').notNull(),
  kind: text('kind').notNull(),
  /** The person (platform user id), or `tacit` for the agent itself. */
  actor: text('actor').notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('approval_audit_approval_idx').on(t.approvalId, t.id), index('approval_audit_workspace_idx').on(t.workspaceId, t.at)]);

/** Layered memory: staged until what it records is verified, a hint until re-checked (issue: memory). */
export const memories = pgTable('memories', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  topic: text('topic').notNull(),
  hint: text('hint').notNull(),
  body: text('body').notNull(),
  sourceRefs: jsonb('source_refs').$type<string[]>().notNull(),
  status: text('status', { enum: ['staged', 'active', 'stale', 'superseded'] }).notNull(),
  decisionId: text('decision_id'),
  /** What must succeed before a staged entry becomes active: its message delivered, its action verified. */
  pendingOn: jsonb('pending_on').$type<{ kind: 'outbox'; id: string } | { kind: 'approval'; id: string } | null>(),
  /** Live-state checks run before the entry is presented as fact (incident open, PR open, …). */
  checks: jsonb('checks').$type<unknown[]>().notNull().default([]),
  staleReason: text('stale_reason'),
  checkedAt: timestamp('checked_at', { withTimezone: true }),
  supersededBy: text('superseded_by'),
  verifiedAt: timestamp('verified_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('memories_workspace_idx').on(t.workspaceId, t.status)]);

/** One row per consolidation ("dream") run: what it changed, or why its rewrite was refused. */
export const memoryDreams = pgTable('memory_dreams', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  engine: text('engine').notNull(),
  outcome: text('outcome', { enum: ['applied', 'refused', 'noop', 'failed'] }).notNull(),
  before: integer('before').notNull(),
  after: integer('after').notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  finishedAt: timestamp('finished_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('memory_dreams_workspace_idx').on(t.workspaceId, t.finishedAt)]);

/** Every insert or edit of a playground message takes the next value, so live views poll by version. */
export const playgroundVersion = pgSequence('playground_version_seq');

/** The playground's channel: the local stand-in for a Slack or Discord channel. */
export const playgroundMessages = pgTable('playground_messages', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  id: text('id').notNull().unique(),
  channelId: text('channel_id').notNull(),
  threadId: text('thread_id'),
  authorId: text('author_id').notNull(),
  authorName: text('author_name').notNull(),
  isBot: boolean('is_bot').notNull().default(false),
  text: text('text').notNull(),
  blocks: jsonb('blocks').$type<unknown[]>().notNull().default([]),
  /** The outbox idempotency key that produced this message, so a retry finds it instead of posting again. */
  idempotencyKey: text('idempotency_key').unique(),
  version: bigint('version', { mode: 'number' }).notNull().default(sql`nextval('playground_version_seq')`),
  createdAt: createdAt(),
  editedAt: timestamp('edited_at', { withTimezone: true }),
}, (t) => [index('playground_channel_idx').on(t.channelId, t.version)]);
