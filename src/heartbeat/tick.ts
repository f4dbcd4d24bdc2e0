// The tick: claim the workspace (one Redis round trip; a clean workspace ends here), read new events,
// advance incidents, run the gate, ask the brain only when woken, run the restraint policy, then
// commit incidents, decision, outbox rows and consumed events in one transaction.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Brain, DigestFacts, MemoryView } from '../brain/port.js';
import type { ActionInfo } from '../core/actions.js';
import type { Clock } from '../core/clock.js';
import { defaultSuspectWindowMs, pickSuspects } from '../core/correlation.js';
import { noUsage, type Decision, type Intent } from '../core/decisions.js';
import { eventPayloadSchema, repoEventSchema, type EventRecord, type RepoEvent } from '../core/events.js';
import { gate } from '../core/gate.js';
import {
  applyAcks, applyAlerts, dueTransitions, incidentGroupKey, nextNudgeAt, type Incident, type IncidentTransition,
} from '../core/incidents.js';
import { planMessages, type Plan } from '../core/plan.js';
import { applyPolicy, type ChannelState, type PolicyResult } from '../core/policy.js';
import { digestHourNow, localDate, nextDigestAt, quietHoursEnd, readSettings, type WorkspaceSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { channels, decisions, events, incidents, outbox, sources, workspaces } from '../db/schema.js';
import { queueMessages } from '../delivery/outbox.js';
import type { Logger } from '../log.js';
import { loadIncidents, saveIncidents, toIncident } from './incident-rows.js';
import type { HeartbeatSignals } from './signals.js';

export type TickTrigger = 'schedule' | 'wake';

export type TickOutcome =
  | { kind: 'quiet' }
  | { kind: 'busy' }
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
  batchSize?: number;
  actions?: TickActions;
  memory?: TickMemory;
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

export async function runTick(deps: TickDeps, workspaceId: string, trigger: TickTrigger): Promise<TickOutcome> {
  const claim = await deps.signals.claim(workspaceId, deps.clock.now());
  if (claim.kind !== 'claimed') return claim;
  const tickId = `tick_${randomUUID()}`;
  const log = deps.log.child({ workspaceId, tickId, trigger });
  let committed = false;
  try {
    const outcome = await tickClaimed(deps, { workspaceId, tickId, trigger, due: claim.due, log });
    committed = true;
    return outcome;
  } catch (err) {
    await deps.signals.count(workspaceId, { failed: 1 }).catch(() => undefined);
    throw err;
  } finally {
    // A failed tick leaves the workspace dirty, so the next beat retries it from the same events.
    const pending = await deps.signals.release(workspaceId, claim, committed);
    if (committed && pending > 0) await deps.wakeAgain(workspaceId, pending);
  }
}

interface TickContext {
  workspaceId: string;
  tickId: string;
  trigger: TickTrigger;
  /** A time-based wake asked for by an earlier tick has come. */
  due: boolean;
  log: Logger;
}

async function tickClaimed(deps: TickDeps, t: TickContext): Promise<TickOutcome> {
  const { db } = deps;
  const now = deps.clock.now();
  const [workspace] = await db.select().from(workspaces).where(eq(workspaces.id, t.workspaceId));
  if (!workspace) {
    t.log.warn('tick for unknown workspace; ignoring');
    return { kind: 'gated', reason: 'unknown workspace', events: 0 };
  }
  const settings = readSettings(workspace.settings);
  const { rows, records } = await readNews(deps, t);
  const state = await advanceIncidents(db, t, records, settings, now);

  const digest = await digestIfDue(db, t.workspaceId, settings, now);
  const gated = gate({ events: records, transitions: state.transitions, incidents: state.byId, now, digestDue: digest !== undefined });
  const pausedUntil = workspace.pausedUntil !== null && workspace.pausedUntil > now ? workspace.pausedUntil : null;
  let decision: Decision | undefined;
  let brainName = deps.brain.name;
  if (gated.kind === 'wake' && pausedUntil) {
    // Paused: the news is recorded with the veto, and no brain (and no money) is spent on it.
    decision = { kind: 'quiet', reasons: gated.reasons, usage: noUsage };
    brainName = 'none';
  } else if (gated.kind === 'wake') {
    decision = await deps.brain.decide({
      workspaceId: t.workspaceId, now, reasons: gated.reasons, transitions: state.transitions, incidents: state.byId, events: records, digest,
      actions: await deps.actions?.available(t.workspaceId), memory: await deps.memory?.view(t.workspaceId, now, { incidents: state.byId }),
    });
    brainName = decision.brain ?? deps.brain.name;
  }
  const decisionId = decision ? `dec_${randomUUID()}` : null;
  const plan = planMessages(decision?.kind === 'speak' ? decision.intents : [], state.byId, state.changed, decisionId);
  const policy = plan.messages.length > 0 ? await judge(db, t.workspaceId, workspace.pausedUntil, settings, plan, state.byId, now) : undefined;
  const allowed = policy?.allowed ?? [];
  const announced = plan.announced.filter((id) => allowed.some((m) => m.incidentId === id && m.purpose === 'card'));

  const result = await db.transaction(async (tx) => {
    await saveIncidents(tx, state.changed, now);
    const queued = await queueMessages(tx, t.workspaceId, decisionId, allowed);
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
        trigger: t.due && t.trigger === 'schedule' ? 'time' : t.trigger,
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
  if (rows.length === (deps.batchSize ?? 500)) await deps.signals.markDirty(t.workspaceId); // more to read
  await scheduleNextWake(deps, t.workspaceId, settings, state.byId, policy, pausedUntil, now);
  return report(deps, t, records.length, gated, decision, decisionId, result.outcome, outboxIds);
}

async function readNews(deps: TickDeps, t: TickContext) {
  const rows = await deps.db
    .select()
    .from(events)
    .where(and(eq(events.workspaceId, t.workspaceId), isNull(events.tickId)))
    .orderBy(asc(events.id))
    .limit(deps.batchSize ?? 500);
  const records: EventRecord[] = [];
  for (const row of rows) {
    const parsed = eventPayloadSchema.safeParse(row.payload);
    if (parsed.success) records.push({ id: row.id, workspaceId: t.workspaceId, occurredAt: row.occurredAt, payload: parsed.data });
    else t.log.error({ eventId: row.id, issues: parsed.error.issues }, 'stored event does not match its schema; skipping it');
  }
  return { rows, records };
}

/** Applies alerts and acknowledgements, and the time-based news that is due, to the incidents. */
async function advanceIncidents(db: Db, t: TickContext, records: EventRecord[], settings: WorkspaceSettings, now: Date) {
  const alerts = records.flatMap((r) => (r.payload.kind === 'alert' ? [{ eventId: r.id, alert: r.payload }] : []));
  const known = await loadIncidents(db, t.workspaceId, [...new Set(alerts.map((a) => incidentGroupKey(a.alert)))]);
  const grouping = applyAlerts(t.workspaceId, new Map(known.map((i) => [i.groupKey, i])), alerts, () => `inc_${randomUUID()}`);
  const byId = new Map<string, Incident>(known.map((i) => [i.id, i]));
  for (const i of grouping.changed.values()) byId.set(i.id, i);
  const acks = records.flatMap((r) =>
    r.payload.kind === 'incident.ack' ? [{ eventId: r.id, incidentId: r.payload.incidentId, by: r.payload.by.name }] : [],
  );
  const transitions: IncidentTransition[] = [...grouping.transitions, ...applyAcks(byId, acks)];
  const moved = new Set(transitions.map((x) => x.incidentId));

  for (const nudge of dueTransitions(byId.values(), settings.unacknowledgedAfterMs, now)) {
    if (moved.has(nudge.incidentId)) continue;
    const incident = byId.get(nudge.incidentId);
    if (incident) byId.set(incident.id, { ...incident, nudgedAt: now });
    transitions.push(nudge);
  }
  // Held back by quiet hours: when they end, open incidents never announced are news again.
  if (t.due && !quietHoursEnd(settings, now)) {
    for (const i of byId.values()) {
      if (i.status !== 'resolved' && !i.announced && !moved.has(i.id)) transitions.push({ kind: 'opened', incidentId: i.id, eventIds: [] });
    }
  }
  await attachSuspects(db, t.workspaceId, transitions, byId);
  const changedIds = new Set([...grouping.changed.values()].map((i) => i.id));
  for (const x of transitions) changedIds.add(x.incidentId);
  return { byId, transitions, changed: [...changedIds].flatMap((id) => byId.get(id) ?? []) };
}

/** Gathers what the policy needs (channels, recent posts) and applies it to the plan. */
async function judge(
  db: Db, workspaceId: string, pausedUntil: Date | null, settings: WorkspaceSettings, plan: Plan, byId: Map<string, Incident>, now: Date,
): Promise<PolicyResult> {
  const channelRows = await db.select().from(channels).where(eq(channels.workspaceId, workspaceId));
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const recent = await db
    .select({ channelId: outbox.channelId, n: sql<number>`count(*)::int` })
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
    lastIncidentPost: new Map(lastPosts.flatMap((r) => (r.incidentId ? [[r.incidentId, new Date(r.at)] as [string, Date]] : []))),
  });
}

/** Tells the quiet path when to look again without news: a reminder falling due, quiet hours ending. */
async function scheduleNextWake(
  deps: TickDeps, workspaceId: string, settings: WorkspaceSettings, byId: Map<string, Incident>, policy: PolicyResult | undefined,
  pausedUntil: Date | null, now: Date,
): Promise<void> {
  const candidates = [nextNudgeAt(byId.values(), settings.unacknowledgedAfterMs, now), nextDigestAt(settings, now)];
  if (policy && policy.held.length > 0) candidates.push(policy.held[0]?.until ?? null);
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
    await deps.signals.count(t.workspaceId, { quiet: 1 });
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
  });
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
