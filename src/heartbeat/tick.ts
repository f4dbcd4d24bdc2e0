// The tick: claim the workspace (one Redis round trip; a clean workspace ends here), read new events,
// advance incidents, run the gate, ask the brain only when woken, run the restraint policy, then
// commit incidents, decision, outbox rows and consumed events in one transaction.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Brain, DigestFacts, EvidenceTools, MemoryView } from '../brain/port.js';
import type { InvestigationReport } from '../core/evidence.js';
import type { ActionInfo } from '../core/actions.js';
import type { Clock } from '../core/clock.js';
import { defaultSuspectWindowMs, pickSuspects } from '../core/correlation.js';
import { noUsage, type Decision, type Intent } from '../core/decisions.js';
import { eventPayloadSchema, repoEventSchema, type EventRecord, type RepoEvent } from '../core/events.js';
import { gate } from '../core/gate.js';
import {
  applyAcks, applyAlerts, incidentGroupKey, type Incident, type IncidentTransition,
} from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import { planMessages, type Plan } from '../core/plan.js';
import { formStorms, holdFormingBurst } from '../core/storms.js';
import { applyPolicy, policyConstraints, type ChannelState, type PolicyResult } from '../core/policy.js';
import { digestHourNow, localDate, nextDigestAt, quietHoursEnd, readSettings, type WorkspaceSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { channels, decisions, events, incidents, outbox, sources, workspaces } from '../db/schema.js';
import { queueMessages } from '../delivery/outbox.js';
import type { Logger } from '../log.js';
import { BrainTimeoutError, HeartbeatError, TickFencedError } from './errors.js';
import { loadIncidents, saveIncidents, toIncident } from './incident-rows.js';
import { advanceRepoHealth, saveRepoHealth } from './repo-health-rows.js';
import { readLimit, recordTickFailure, type ReadEvent } from './poison.js';
import type { HeartbeatSignals, TickLease } from './signals.js';
import { applyAutoResolve, applySteps, noteMessages, stepRecords } from '../oncall/advance.js';
import { nextAutoResolveAt } from '../oncall/auto-resolve.js';
import { readSyncSettings } from '../oncall/sync-settings.js';
import { commitOncall, nextStepAt, onCallPeople, planOncall, routeNewIncidents, takeDueSteps, vetoQuietRoutes, type TickOncall } from '../oncall/tick-oncall.js';

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
  await scheduleNextWake(deps, t.workspaceId, settings, state.byId, policy, pausedUntil, now, state.heldUntil, state.autoResolveAt);
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

/** Applies alerts and acknowledgements, and the time-based news that is due, to the incidents. */
async function advanceIncidents(db: Db, t: TickContext, records: EventRecord[], settings: WorkspaceSettings, now: Date, rawSettings: unknown) {
  const alerts = records.flatMap((r) => (r.payload.kind === 'alert' ? [{ eventId: r.id, alert: r.payload }] : []));
  // People's steps (declare, resolve, synced) name incidents by id, resolved ones included.
  const steps = stepRecords(records);
  const known = await loadIncidents(db, t.workspaceId, [...new Set(alerts.map((a) => incidentGroupKey(a.alert)))], steps.map((s) => s.event.incidentId));
  const grouping = applyAlerts(t.workspaceId, new Map(known.map((i) => [i.groupKey, i])), alerts, () => `inc_${randomUUID()}`);
  routeNewIncidents(grouping.changed, new Set(known.map((i) => i.id)), alerts, settings.routes);
  const byId = new Map<string, Incident>(known.map((i) => [i.id, i]));
  // Alert news advanced it: auto-resolve counts its silence from now.
  for (const i of grouping.changed.values()) byId.set(i.id, { ...i, lastAlertAt: now });
  const acks = records.flatMap((r) =>
    r.payload.kind === 'incident.ack' ? [{ eventId: r.id, incidentId: r.payload.incidentId, by: r.payload.by.name }] : [],
  );
  const stepped = applySteps(byId, steps, t.workspaceId);
  const transitions: IncidentTransition[] = [...grouping.transitions, ...applyAcks(byId, acks), ...stepped.transitions];
  const moved = new Set(transitions.map((x) => x.incidentId));

  // The escalation policy's due steps (src/oncall); its first is the thread reminder that used to stand alone.
  transitions.push(...takeDueSteps(byId, moved, settings, now));
  const autoResolve = readSyncSettings(rawSettings).autoResolveMs;
  const auto = applyAutoResolve(byId, new Set(transitions.map((x) => x.incidentId)), autoResolve, now);
  transitions.push(...auto.transitions);
  // Held back by quiet hours or a spent budget: when that ends, open incidents never announced, and
  // returns to Firing never told in the channel, are news again.
  if (t.due && !quietHoursEnd(settings, now)) {
    for (const i of byId.values()) {
      if (i.status !== 'resolved' && !i.announced && !moved.has(i.id)) transitions.push({ kind: 'opened', incidentId: i.id, eventIds: [] });
    }
    transitions.push(...(await untoldReturns(db, [...byId.values()].filter((i) => !moved.has(i.id)))));
  }
  // Many incidents opening together are one storm: their news is told on its one card.
  const storms = settings.storm ? formStorms(byId, transitions, settings.storm, () => `inc_${randomUUID()}`) : undefined;
  if (storms) transitions.splice(0, transitions.length, ...storms.transitions);
  // A burst still arriving waits a little, so it becomes one storm card rather than a card each first.
  const burst = settings.storm ? holdFormingBurst(byId, transitions, settings.storm, now) : undefined;
  if (burst) transitions.splice(0, transitions.length, ...burst.transitions);
  await attachSuspects(db, t.workspaceId, transitions, byId);
  const changedIds = new Set([...grouping.changed.values(), ...(storms?.changed ?? [])].map((i) => i.id));
  for (const x of transitions) changedIds.add(x.incidentId);
  const loadedVersions = new Map(known.map((i) => [i.id, i.version]));
  return {
    byId, transitions, changed: [...changedIds].flatMap((id) => byId.get(id) ?? []), loadedVersions, heldUntil: burst?.until ?? null,
    notes: [...stepped.notes, ...auto.notes], autoResolveAt: nextAutoResolveAt(byId.values(), autoResolve, now),
  };
}

/** Announced incidents firing again whose return notice (`incident:<id>:recurred:<n>`) was never queued. */
async function untoldReturns(db: Db, candidates: Incident[]): Promise<IncidentTransition[]> {
  const back = candidates.filter((i) => i.status !== 'resolved' && i.announced && i.recurrences > 0);
  if (back.length === 0) return [];
  const keyOf = (i: Incident) => boundKey(`incident:${i.id}:recurred:${i.recurrences}`);
  const told = await db.select({ key: outbox.idempotencyKey }).from(outbox).where(inArray(outbox.idempotencyKey, back.map(keyOf)));
  const toldKeys = new Set(told.map((r) => r.key));
  return back.filter((i) => !toldKeys.has(keyOf(i))).map((i) => ({ kind: 'recurred', incidentId: i.id, eventIds: [] }));
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

/** Incidents that just opened or came back get the repository changes shortly before they started. */
async function attachSuspects(db: Db, workspaceId: string, transitions: IncidentTransition[], byId: Map<string, Incident>): Promise<void> {
  const starting = transitions
    .filter((x) => x.kind === 'opened' || x.kind === 'recurred' || x.kind === 'flapping')
    .flatMap((x) => byId.get(x.incidentId) ?? []);
  if (starting.length === 0) return;
  const starts = starting.map((i) => i.startedAt.getTime());
  const rows = await db
    .select({ payload: events.payload })
    .from(events)
    .where(
      and(
        eq(events.workspaceId, workspaceId),
        eq(events.kind, 'repo'),
        gte(events.occurredAt, new Date(Math.min(...starts) - defaultSuspectWindowMs)),
        lte(events.occurredAt, new Date(Math.max(...starts) + 60_000)),
      ),
    )
    .limit(1000);
  const changes = rows.flatMap((r): RepoEvent[] => {
    const parsed = repoEventSchema.safeParse(r.payload);
    return parsed.success ? [parsed.data] : [];
  });
  for (const incident of starting) byId.set(incident.id, { ...incident, suspects: pickSuspects(changes, incident.startedAt) });
}

/** During the digest hour, once per local date: the last 24 hours in facts, for the brain to tell. */
async function digestIfDue(db: Db, workspaceId: string, settings: WorkspaceSettings, now: Date): Promise<DigestFacts | undefined> {
  if (!digestHourNow(settings, now)) return undefined;
  const date = localDate(now, settings.timezone);
  const [done] = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.idempotencyKey, `digest:${date}`)));
  if (done) return undefined;
  // Asked once per due window: a brain that chose not to write it is not asked again on every tick of the hour
  // (a digest held or vetoed by the policy is asked again).
  const [asked] = await db
    .select({ id: decisions.id })
    .from(decisions)
    .where(and(
      eq(decisions.workspaceId, workspaceId), eq(decisions.outcome, 'quiet'), gte(decisions.createdAt, new Date(now.getTime() - 3_600_000)),
      sql`${decisions.reasons} @> '["daily digest due"]'::jsonb`,
    ))
    .limit(1);
  if (asked) return undefined;
  const [firstSource] = await db.select({ channelId: sources.channelId }).from(sources).where(eq(sources.workspaceId, workspaceId)).orderBy(asc(sources.createdAt)).limit(1);
  const [firstChannel] = await db.select({ id: channels.id }).from(channels).where(eq(channels.workspaceId, workspaceId)).orderBy(asc(channels.createdAt)).limit(1);
  const channelId = settings.digestChannelId ?? firstSource?.channelId ?? firstChannel?.id;
  if (!channelId) return undefined;
  const since = new Date(now.getTime() - 24 * 3_600_000);
  const rows = (await db.select().from(incidents).where(and(eq(incidents.workspaceId, workspaceId), sql`(${incidents.createdAt} >= ${since} or ${incidents.resolvedAt} >= ${since} or ${incidents.status} <> 'resolved')`))).map(toIncident);
  const [counts] = await db
    .select({
      decisions: sql<number>`(select count(*)::int from decisions d where d.workspace_id = ${workspaceId} and d.created_at >= ${since})`,
      messages: sql<number>`(select count(*)::int from outbox o where o.workspace_id = ${workspaceId} and o.kind = 'post' and o.created_at >= ${since})`,
    })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return {
    channelId,
    date,
    since,
    opened: rows.filter((i) => i.startedAt >= since),
    resolved: rows.filter((i) => i.status === 'resolved' && i.resolvedAt !== null && i.resolvedAt >= since),
    stillOpen: rows.filter((i) => i.status !== 'resolved'),
    decisions: counts?.decisions ?? 0,
    messages: counts?.messages ?? 0,
  };
}
