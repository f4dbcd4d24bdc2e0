// The tick: claim the workspace (one Redis round trip; a clean workspace ends here), read new events,
// advance incidents, run the gate, ask the brain only when woken, run the restraint policy, then
// commit incidents, decision, outbox rows and consumed events in one transaction.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { Brain, EvidenceTools, MemoryView } from '../brain/port.js';
import type { InvestigationReport } from '../core/evidence.js';
import type { ActionInfo } from '../core/actions.js';
import type { Clock } from '../core/clock.js';
import { noUsage, type Decision, type Intent } from '../core/decisions.js';
import { eventPayloadSchema, type EventRecord } from '../core/events.js';
import { gate } from '../core/gate.js';
import type { Incident, IncidentTransition } from '../core/incidents.js';
import { planMessages, type Plan } from '../core/plan.js';
import { settledStorms } from '../core/storms.js';
import { applyPolicy, policyConstraints, type ChannelState, type PolicyResult } from '../core/policy.js';
import { nextDigestAt, readSettings, type WorkspaceSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { channels, decisions, events, incidents, outbox, workspaces } from '../db/schema.js';
import { queueMessages } from '../delivery/outbox.js';
import type { Logger } from '../log.js';
import { BrainTimeoutError, HeartbeatError, TickFencedError } from './errors.js';
import { saveIncidents } from './incident-rows.js';
import { advanceIncidents, untoldStormLists } from './advance.js';
import { digestIfDue } from './digest.js';
import { advanceRepoHealth, saveRepoHealth } from './repo-health-rows.js';
import { readLimit, recordTickFailure, type ReadEvent } from './poison.js';
import type { HeartbeatSignals, TickLease } from './signals.js';
import { noteMessages } from '../oncall/advance.js';
import { commitOncall, nextStepAt, onCallPeople, planOncall, vetoQuietRoutes, type TickOncall } from '../oncall/tick-oncall.js';

export type TickTrigger = 'schedule' | 'wake';

export type TickOutcome =
  | { kind: 'quiet' }
  | { kind: 'busy' }
  /** Its claim passed to a newer tick before it could commit: nothing it did was kept. */
  | { kind: 'fenced'; reason: string }
  /** Its scheduled slot already ticked (the job was retried after a crash that followed the commit): nothing done again. */
  | { kind: 'skipped'; reason: string }
  | { kind: 'gated'; reason: string; events: number }
  | { kind: 'decided'; decisionId: string; outcome: 'quiet' | 'spoke' | 'vetoed'; outboxIds: string[] };

export interface TickDeps {
  db: Db;
  signals: HeartbeatSignals;
  brain: Brain;
  clock: Clock;
  log: Logger;
  /** Hands committed outbox rows to delivery. */
  deliver(outboxIds: string[]): Promise<void>;
  /** Asks for another tick at once: news arrived while this one ran. */
  wakeAgain(workspaceId: string, generation: number): Promise<void>;
  /** Asks for another tick shortly after one failed on what it read (so the poison is isolated in seconds, not beats). */
  retrySoon?(workspaceId: string, tickId: string): Promise<void>;
  batchSize?: number;
  /** The longest the brain may think before the tick goes on without it; well inside the tick lock. */
  brainTimeoutMs?: number;
  actions?: TickActions;
  memory?: TickMemory;
  /** Who is on call (PagerDuty) and report drafts by a model (src/oncall); without it, the rotation and the rules draft. */
  oncall?: TickOncall;
  /** Investigations of incidents that open or escalate, and their findings for the brain (src/investigate). */
  investigation?: TickInvestigation;
}

/** How a tick asks for investigations (run as jobs of their own) and hands what they found to the brain. */
export interface TickInvestigation {
  /** Finished investigations these events announce; no query when they announce none. */
  reports(workspaceId: string, records: readonly EventRecord[]): Promise<InvestigationReport[]>;
  /** The decision log's lines for them: which queries ran, how long, what came back. */
  reasons(reports: readonly InvestigationReport[]): string[];
  tools(workspaceId: string): EvidenceTools;
  /** After the commit: enqueues investigations of the incidents that qualify (Redis only, nothing when none do). */
  request(request: { workspaceId: string; decisionId: string | null; transitions: readonly IncidentTransition[]; incidents: ReadonlyMap<string, Incident>; settings: WorkspaceSettings }): Promise<void>;
}

/** A database transaction, as the tick's hooks receive it. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** How a tick turns `propose_action` intents into approval requests (src/actions). */
export interface TickActions {
  available(workspaceId: string): Promise<ActionInfo[]>;
  /** Inside the tick's transaction: approval rows, their audit rows and card outbox rows. Returns notes and outbox ids. */
  propose(tx: Tx, request: { workspaceId: string; decisionId: string; intents: Extract<Intent, { type: 'propose_action' }>[]; incidents: ReadonlyMap<string, Incident>; now: Date; requestedBy?: string }): Promise<{ notes: string[]; outboxIds: string[] }>;
}

/** How a tick reads and stages memory (src/memory). */
export interface TickMemory {
  /** `live`: this tick's incidents, not yet committed, so checks see what the tick just learnt. */
  view(workspaceId: string, now: Date, live?: { incidents?: ReadonlyMap<string, Incident> }): Promise<MemoryView | undefined>;
  /** Inside the tick's transaction: `remember` intents become staged entries, pending on what they record. */
  stage(tx: Tx, request: { workspaceId: string; decisionId: string; intents: Extract<Intent, { type: 'remember' }>[]; outboxIds: string[]; approvalOutboxIds: string[]; now: Date }): Promise<{ notes: string[] }>;
}

/**
 * @param slot for a scheduled tick, the time its beat was due (interval-aligned, ms): a slot already
 * committed is not ticked again. Wakes have none: each is news that must be looked at.
 */
export async function runTick(deps: TickDeps, workspaceId: string, trigger: TickTrigger, slot?: number): Promise<TickOutcome> {
  const claim = await deps.signals.claim(workspaceId, deps.clock.now(), slot);
  if (claim.kind !== 'claimed') return claim;
  const tickId = `tick_${randomUUID()}`;
  const log = deps.log.child({ workspaceId, tickId, trigger });
  const lease = deps.signals.hold(workspaceId, claim.token);
  const t: TickContext = { workspaceId, tickId, trigger, slot, due: claim.due, log, lease, read: [] };
  let committed = false;
  try {
    const outcome = await tickClaimed(deps, t);
    // A skipped slot consumed nothing: the workspace stays dirty, and the next beat redoes what the
    // crash lost after the commit (the due time, the wake for news that came meanwhile).
    committed = outcome.kind !== 'skipped';
    return outcome;
  } catch (err) {
    if (err instanceof HeartbeatError) {
      // Another tick owns the workspace now and reads the same events: nothing is lost, nothing counted against them.
      await deps.signals.count(workspaceId, { fenced: 1 }, deps.clock.now()).catch(() => undefined);
      log.warn({ reason: err.message }, 'tick did not commit: its claim passed to a newer tick');
      return { kind: 'fenced', reason: err.message };
    }
    await deps.signals.count(workspaceId, { failed: 1 }, deps.clock.now()).catch(() => undefined);
    const poison = await recordTickFailure(deps.db, workspaceId, tickId, t.read, err).catch((e: unknown) => {
      log.warn({ err: e }, 'could not record the failure against the events the tick read');
      return 'none' as const;
    });
    if (poison !== 'none') {
      if (poison === 'quarantined') {
        await deps.signals.count(workspaceId, { quarantined: 1 }).catch(() => undefined);
        log.error({ eventId: t.read[0]?.id, err }, 'event quarantined: no tick could consume it');
      }
      await deps.retrySoon?.(workspaceId, tickId).catch(() => undefined);
    }
    throw err;
  } finally {
    lease.stop();
    // A failed tick leaves the workspace dirty, so the next beat retries it from the same events.
    const pending = await deps.signals.release(workspaceId, claim, committed);
    if (committed && pending > 0) await deps.wakeAgain(workspaceId, pending);
  }
}

interface TickContext {
  workspaceId: string;
  tickId: string;
  trigger: TickTrigger;
  /** A scheduled tick's slot (see runTick); recorded in workspaces.last_tick_slot by its commit. */
  slot: number | undefined;
  /** A time-based wake asked for by an earlier tick has come. */
  due: boolean;
  log: Logger;
  lease: TickLease;
  /** The events this tick read, so a failure can be counted against them. */
  read: ReadEvent[];
}

async function tickClaimed(deps: TickDeps, t: TickContext): Promise<TickOutcome> {
  const { db } = deps;
  const now = deps.clock.now();
  // The fence: this tick takes the workspace's next fence value and commits only while it still holds
  // it. A tick that started later took a higher one (after this one's commit, if that came first).
  const [workspace] = await db
    .update(workspaces)
    .set({ tickFence: sql`${workspaces.tickFence} + 1` })
    .where(eq(workspaces.id, t.workspaceId))
    .returning();
  if (!workspace) {
    t.log.warn('tick for unknown workspace; ignoring');
    return { kind: 'gated', reason: 'unknown workspace', events: 0 };
  }
  if (t.slot !== undefined && t.slot <= workspace.lastTickSlot) {
    t.log.info({ slot: t.slot, lastTickSlot: workspace.lastTickSlot }, 'scheduled slot already ticked (job retried after a crash); skipping it');
    return { kind: 'skipped', reason: `slot ${t.slot} already ticked` };
  }
  const fence = workspace.tickFence;
  const settings = readSettings(workspace.settings);
  const { rows, records, more } = await readNews(deps, t);
  const state = await advanceIncidents(db, t, records, settings, now, workspace.settings);
  const health = await advanceRepoHealth(db, t.workspaceId, records);

  const digest = await digestIfDue(db, t.workspaceId, settings, now);
  const gated = gate({ events: records, transitions: state.transitions, incidents: state.byId, now, digestDue: digest !== undefined, repoHealth: health.changes });
  const pausedUntil = workspace.pausedUntil !== null && workspace.pausedUntil > now ? workspace.pausedUntil : null;
  let decision: Decision | undefined;
  let brainName = deps.brain.name;
  if (gated.kind === 'wake' && pausedUntil) {
    // Paused: the news is recorded with the veto, and no brain (and no money) is spent on it.
    decision = { kind: 'quiet', reasons: gated.reasons, usage: noUsage };
    brainName = 'none';
  } else if (gated.kind === 'wake') {
    const investigations = (await deps.investigation?.reports(t.workspaceId, records)) ?? [];
    decision = await think(deps, t, {
      workspaceId: t.workspaceId, now, timezone: settings.timezone, reasons: [...gated.reasons, ...(deps.investigation?.reasons(investigations) ?? [])],
      transitions: state.transitions, incidents: state.byId, events: records, digest,
      ...(investigations.length > 0 && deps.investigation ? { investigations, evidence: deps.investigation.tools(t.workspaceId) } : {}),
      ...(health.changes ? { repoHealth: health.changes } : {}),
      constraints: policyConstraints(settings, now, state.byId.values()),
      actions: await deps.actions?.available(t.workspaceId), memory: await deps.memory?.view(t.workspaceId, now, { incidents: state.byId }),
      // The only people the brain may address (notify_person): set by people in the workspace's settings.
      people: [...onCallPeople(settings, now).map((id) => ({ id, role: 'on-call' as const })), ...settings.approvers.users.map((id) => ({ id, role: 'approver' as const }))],
    });
    brainName = decision.brain ?? deps.brain.name;
  }
  const decisionId = decision ? `dec_${randomUUID()}` : null;
  const plan = planMessages(decision?.kind === 'speak' ? decision.intents : [], state.byId, state.changed, decisionId, { now, timezone: settings.timezone }, state.transitions);
  // Who resolved it, or that silence did (src/oncall): told in the thread whatever the brain said.
  plan.messages.push(...noteMessages(state.notes, state.byId, new Set(plan.announced), decisionId));
  // Escalation steps taken and reports of incidents that resolved (src/oncall), whatever the brain said.
  const oncall = await planOncall(deps.oncall, db, { workspaceId: t.workspaceId, settings, now, decisionId, byId: state.byId, transitions: state.transitions, planned: plan.messages, signal: t.lease.signal });
  plan.messages.push(...oncall.messages);
  // A storm that stopped growing gets its whole member list as it stands, once (the doubling files lag).
  const settled = settledStorms(state.byId, now);
  plan.messages.push(...(await untoldStormLists(db, t.workspaceId, settled.due, decisionId)));
  const policy = plan.messages.length > 0 ? await vetoQuietRoutes(db, t.workspaceId, settings.routes, await judge(db, t.workspaceId, workspace.pausedUntil, settings, plan, state.byId, now), state.byId) : undefined;
  const allowed = policy?.allowed ?? [];
  const announced = plan.announced.filter((id) => allowed.some((m) => m.incidentId === id && m.purpose === 'card'));

  if (t.lease.lost()) throw new TickFencedError(t.workspaceId, 'its lock was lost before the commit');
  const result = await db.transaction(async (tx) => {
    // First, under the workspace row's lock: still ours? A newer tick waits here until this commits.
    const held = await tx
      .update(workspaces)
      // A scheduled tick records its slot with the rest of its work: a retry of its job finds it done.
      .set({ tickFence: fence, ...(t.slot !== undefined ? { lastTickSlot: sql`greatest(${workspaces.lastTickSlot}, ${t.slot})` } : {}) })
      .where(and(eq(workspaces.id, t.workspaceId), eq(workspaces.tickFence, fence)))
      .returning({ id: workspaces.id });
    if (held.length === 0) throw new TickFencedError(t.workspaceId, `fence ${fence} is no longer the workspace's`);
    await saveIncidents(tx, state.changed, now, state.loadedVersions);
    await saveRepoHealth(tx, t.workspaceId, health.changed, now);
    const queued = await queueMessages(tx, t.workspaceId, decisionId, allowed);
    await commitOncall(tx, oncall, policy, new Set(queued.inserted.map((r) => r.idempotencyKey)), now);
    if (announced.length > 0) await tx.update(incidents).set({ announcedAt: now }).where(inArray(incidents.id, announced));
    const intents = decision?.kind === 'speak' && !pausedUntil ? decision.intents : [];
    const proposals = intents.filter((i): i is Extract<Intent, { type: 'propose_action' }> => i.type === 'propose_action');
    const memories = intents.filter((i): i is Extract<Intent, { type: 'remember' }> => i.type === 'remember');
    const asked = decisionId && proposals.length > 0 && deps.actions
      ? await deps.actions.propose(tx, { workspaceId: t.workspaceId, decisionId, intents: proposals, incidents: state.byId, now })
      : { notes: proposals.length > 0 ? ['actions are not available here'] : [], outboxIds: [] };
    const staged = decisionId && memories.length > 0 && deps.memory
      ? await deps.memory.stage(tx, { workspaceId: t.workspaceId, decisionId, intents: memories, outboxIds: queued.inserted.map((r) => r.id), approvalOutboxIds: asked.outboxIds, now })
      : { notes: [] };
    let outcome: 'quiet' | 'spoke' | 'vetoed' = 'quiet';
    if (decision && decisionId) {
      const said = queued.inserted.length > 0 || asked.outboxIds.length > 0;
      outcome = pausedUntil ? 'vetoed' : decision.kind === 'quiet' ? 'quiet' : said ? 'spoke' : 'vetoed';
      await tx.insert(decisions).values({
        id: decisionId,
        workspaceId: t.workspaceId,
        tickId: t.tickId,
        // A due time-based wake is what woke it, unless urgent news it read came with a wake of its own.
        trigger: t.due && !(t.trigger === 'wake' && rows.some((r) => r.urgent)) ? 'time' : t.trigger,
        brain: brainName,
        outcome,
        reasons: [...decision.reasons, ...asked.notes, ...staged.notes],
        vetoes: [
          ...(pausedUntil ? [`workspace paused until ${pausedUntil.toISOString()}`] : []),
          ...(policy?.vetoed.map((v) => `${v.message.purpose}: ${v.reason}`) ?? []),
          ...(policy?.held.map((h) => `${h.message.purpose} held: ${h.reason}`) ?? []),
          ...queued.duplicates.map((key) => `duplicate: ${key} was already queued`),
        ],
        eventIds: records.map((r) => r.id),
        incidentIds: [...new Set(state.transitions.map((x) => x.incidentId))],
        inputTokens: decision.usage.inputTokens,
        outputTokens: decision.usage.outputTokens,
        cacheReadTokens: decision.usage.cacheReadTokens,
        cacheWriteTokens: decision.usage.cacheWriteTokens,
        costMicroUsd: decision.usage.costMicroUsd,
      });
    }
    if (rows.length > 0) await tx.update(events).set({ tickId: t.tickId }).where(inArray(events.id, rows.map((r) => r.id)));
    return { queued, outcome, approvalOutbox: asked.outboxIds };
  });

  const outboxIds = [...result.queued.inserted.map((r) => r.id), ...result.approvalOutbox];
  // Replies in the thread of a card queued by this very tick go out when the card is delivered
  // (delivery enqueues them then; the outbox sweep is the safety net), not to wait in the queue.
  const waiting = new Set(allowed.filter((m) => m.anchor.type === 'incident_thread' && m.incidentId && announced.includes(m.incidentId)).map((m) => m.idempotencyKey));
  const ready = [...result.queued.inserted.filter((r) => !waiting.has(r.idempotencyKey)).map((r) => r.id), ...result.approvalOutbox];
  if (ready.length > 0) await deps.deliver(ready);
  // After the commit, never before: the card goes out as always; the findings follow in its thread.
  await deps.investigation?.request({ workspaceId: t.workspaceId, decisionId, transitions: state.transitions, incidents: state.byId, settings })
    .catch((err: unknown) => t.log.warn({ err }, 'could not ask for investigations; the incidents go without'));
  if (more) await deps.signals.markDirty(t.workspaceId); // more to read
  // As committed: cards queued by this tick count as announced, so their reminders are scheduled now.
  for (const id of announced) {
    const i = state.byId.get(id);
    if (i) state.byId.set(id, { ...i, announced: true, announcedAt: now });
  }
  const heldUntil = [state.heldUntil, settled.nextAt].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0] ?? null;
  await scheduleNextWake(deps, t.workspaceId, settings, state.byId, policy, pausedUntil, now, heldUntil, state.autoResolveAt);
  return report(deps, t, records.length, gated, decision, decisionId, result.outcome, outboxIds);
}

/** Unconsumed events, oldest first; after failures, fewer at a time, so one bad event is found and set aside. */
async function readNews(deps: TickDeps, t: TickContext) {
  // Large enough that a 12,000-alert group is read in a few ticks, not two dozen, while news behind it waits.
  const batchSize = deps.batchSize ?? 2_000;
  const fetched = await deps.db
    .select()
    .from(events)
    .where(and(eq(events.workspaceId, t.workspaceId), isNull(events.tickId)))
    .orderBy(asc(events.id))
    .limit(batchSize);
  const rows = fetched.slice(0, readLimit(batchSize, fetched[0]?.failures ?? 0));
  t.read = rows.map((r) => ({ id: r.id, sourceId: r.sourceId, failures: r.failures, payload: r.payload }));
  const records: EventRecord[] = [];
  for (const row of rows) {
    const parsed = eventPayloadSchema.safeParse(row.payload);
    if (parsed.success) records.push({ id: row.id, workspaceId: t.workspaceId, occurredAt: row.occurredAt, payload: parsed.data });
    else t.log.error({ eventId: row.id, issues: parsed.error.issues }, 'stored event does not match its schema; skipping it');
  }
  return { rows, records, more: fetched.length === batchSize || rows.length < fetched.length };
}

/**
 * The brain, bounded: it gets the tick lease's signal (lost lock) and a time limit, so it finishes
 * well inside the lock; a brain that ignores the signal is abandoned and the tick fails (retried).
 */
async function think(deps: TickDeps, t: TickContext, ctx: Parameters<Brain['decide']>[0]): Promise<Decision> {
  const signal = AbortSignal.any([t.lease.signal, AbortSignal.timeout(deps.brainTimeoutMs ?? 30_000)]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(t.lease.lost() ? new TickFencedError(t.workspaceId, 'its lock was lost while the brain was thinking') : new BrainTimeoutError(deps.brainTimeoutMs ?? 30_000));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([deps.brain.decide({ ...ctx, signal }), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Gathers what the policy needs (channels, recent posts) and applies it to the plan. */
async function judge(
  db: Db, workspaceId: string, pausedUntil: Date | null, settings: WorkspaceSettings, plan: Plan, byId: Map<string, Incident>, now: Date,
): Promise<PolicyResult> {
  const channelRows = await db.select().from(channels).where(eq(channels.workspaceId, workspaceId));
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const recent = await db
    .select({ channelId: outbox.channelId, n: sql<number>`count(*)::int`, oldest: sql<string>`min(${outbox.createdAt})` })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.proactive, true), eq(outbox.kind, 'post'), gte(outbox.createdAt, hourAgo)))
    .groupBy(outbox.channelId);
  const incidentIds = [...new Set(plan.messages.flatMap((m) => (m.incidentId ? [m.incidentId] : [])))];
  const lastPosts = incidentIds.length === 0 ? [] : await db
    .select({ incidentId: outbox.incidentId, at: sql<string>`max(${outbox.createdAt})` })
    .from(outbox)
    .where(and(inArray(outbox.incidentId, incidentIds), eq(outbox.kind, 'post')))
    .groupBy(outbox.incidentId);
  return applyPolicy(plan.messages, {
    now,
    settings,
    workspacePausedUntil: pausedUntil,
    channels: new Map(channelRows.map((c): [string, ChannelState] => [c.id, { id: c.id, name: c.name, proactive: c.proactive, pausedUntil: c.pausedUntil }])),
    incidents: byId,
    recentPosts: new Map(recent.map((r) => [r.channelId, r.n])),
    budgetFreesAt: new Map(recent.map((r) => [r.channelId, new Date(new Date(r.oldest).getTime() + 3_600_000 + 1_000)])),
    lastIncidentPost: new Map(lastPosts.flatMap((r) => (r.incidentId ? [[r.incidentId, new Date(r.at)] as [string, Date]] : []))),
  });
}

/** Tells the quiet path when to look again without news: a reminder falling due, quiet hours ending. */
async function scheduleNextWake(
  deps: TickDeps, workspaceId: string, settings: WorkspaceSettings, byId: Map<string, Incident>, policy: PolicyResult | undefined,
  pausedUntil: Date | null, now: Date, heldUntil: Date | null, autoResolveAt: Date | null = null,
): Promise<void> {
  const candidates = [nextStepAt(byId.values(), settings, now), nextDigestAt(settings, now), heldUntil, autoResolveAt];
  for (const h of policy?.held ?? []) candidates.push(h.until);
  // When a pause ends, open incidents it kept quiet are announced then.
  const unannounced = [...byId.values()].some((i) => i.status !== 'resolved' && !i.announced);
  if (pausedUntil && unannounced) candidates.push(pausedUntil);
  const times = candidates.flatMap((c) => (c ? [c.getTime()] : []));
  await deps.signals.setDue(workspaceId, times.length > 0 ? new Date(Math.min(...times)) : null);
}

async function report(
  deps: TickDeps, t: TickContext, eventCount: number, gated: ReturnType<typeof gate>, decision: Decision | undefined,
  decisionId: string | null, outcome: 'quiet' | 'spoke' | 'vetoed', outboxIds: string[],
): Promise<TickOutcome> {
  if (!decision || !decisionId) {
    await deps.signals.count(t.workspaceId, { quiet: 1 }, deps.clock.now());
    const reason = gated.kind === 'quiet' ? gated.reason : 'no decision';
    t.log.debug({ events: eventCount, reason }, 'tick gated quiet');
    return { kind: 'gated', reason, events: eventCount };
  }
  const usage = decision.usage;
  await deps.signals.count(t.workspaceId, {
    woken: 1,
    spoke: outcome === 'spoke' ? 1 : 0,
    vetoed: outcome === 'vetoed' ? 1 : 0,
    quiet: outcome === 'quiet' ? 1 : 0,
    model_calls: usage.modelCalls,
    tokens: usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    cost_micro_usd: usage.costMicroUsd,
  }, deps.clock.now());
  t.log.info({ decisionId, outcome, reasons: decision.reasons, outbox: outboxIds.length }, 'tick decided');
  return { kind: 'decided', decisionId, outcome, outboxIds };
}
