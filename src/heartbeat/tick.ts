// The tick: claim the workspace (one Redis round trip; a clean workspace ends here), read new events,
// group alerts into incidents, run the gate, ask the brain only when woken, then commit incidents,
// decision, outbox rows and consumed events in one transaction.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, isNull, lte } from 'drizzle-orm';
import type { Brain } from '../brain/port.js';
import type { Clock } from '../core/clock.js';
import type { Decision } from '../core/decisions.js';
import { eventPayloadSchema, repoEventSchema, type EventRecord, type RepoEvent } from '../core/events.js';
import { gate } from '../core/gate.js';
import { defaultSuspectWindowMs, pickSuspects } from '../core/correlation.js';
import { applyAcks, applyAlerts, incidentGroupKey, type Incident, type IncidentTransition } from '../core/incidents.js';
import { planMessages } from '../core/plan.js';
import type { Db } from '../db/client.js';
import { decisions, events, incidents, workspaces } from '../db/schema.js';
import { queueMessages } from '../delivery/outbox.js';
import type { Logger } from '../log.js';
import { loadIncidents, saveIncidents } from './incident-rows.js';
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
}

export async function runTick(deps: TickDeps, workspaceId: string, trigger: TickTrigger): Promise<TickOutcome> {
  const claim = await deps.signals.claim(workspaceId, deps.clock.now());
  if (claim.kind !== 'claimed') return claim;
  const tickId = `tick_${randomUUID()}`;
  const log = deps.log.child({ workspaceId, tickId, trigger });
  let committed = false;
  try {
    const outcome = await tickClaimed(deps, workspaceId, tickId, trigger, log);
    committed = true;
    return outcome;
  } catch (err) {
    await deps.signals.count(workspaceId, { failed: 1 }).catch(() => undefined);
    throw err;
  } finally {
    const pending = await deps.signals.release(workspaceId, claim, committed);
    if (committed && pending > 0) await deps.wakeAgain(workspaceId, pending);
  }
}

async function tickClaimed(deps: TickDeps, workspaceId: string, tickId: string, trigger: TickTrigger, log: Logger): Promise<TickOutcome> {
  const { db } = deps;
  const now = deps.clock.now();
  const [workspace] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!workspace) {
    log.warn('tick for unknown workspace; ignoring');
    return { kind: 'gated', reason: 'unknown workspace', events: 0 };
  }
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.workspaceId, workspaceId), isNull(events.tickId)))
    .orderBy(asc(events.id))
    .limit(deps.batchSize ?? 500);

  const records: EventRecord[] = [];
  for (const row of rows) {
    const parsed = eventPayloadSchema.safeParse(row.payload);
    if (parsed.success) records.push({ id: row.id, workspaceId, occurredAt: row.occurredAt, payload: parsed.data });
    else log.error({ eventId: row.id, issues: parsed.error.issues }, 'stored event does not match its schema; skipping it');
  }

  const alerts = records.flatMap((r) => (r.payload.kind === 'alert' ? [{ eventId: r.id, alert: r.payload }] : []));
  const known = await loadIncidents(db, workspaceId, [...new Set(alerts.map((a) => incidentGroupKey(a.alert)))]);
  const byKey = new Map(known.map((i) => [i.groupKey, i]));
  const grouping = applyAlerts(workspaceId, byKey, alerts, () => `inc_${randomUUID()}`);
  const byId = new Map<string, Incident>(known.map((i) => [i.id, i]));
  for (const i of grouping.changed.values()) byId.set(i.id, i);
  const acks = records.flatMap((r) =>
    r.payload.kind === 'incident.ack' ? [{ eventId: r.id, incidentId: r.payload.incidentId, by: r.payload.by.name }] : [],
  );
  const transitions = [...grouping.transitions, ...applyAcks(byId, acks)];
  const changedIds = new Set([...grouping.changed.values()].map((i) => i.id));
  for (const t of transitions) changedIds.add(t.incidentId);
  await attachSuspects(db, workspaceId, transitions, byId);
  const changed = [...changedIds].flatMap((id) => byId.get(id) ?? []);

  const paused = workspace.pausedUntil !== null && workspace.pausedUntil > now;
  const gated = gate({ events: records, transitions, incidents: byId, paused, now });

  let decision: Decision | undefined;
  if (gated.kind === 'wake') {
    decision = await deps.brain.decide({
      workspaceId, now, reasons: gated.reasons, transitions, incidents: byId, events: records,
    });
  }
  const decisionId = decision ? `dec_${randomUUID()}` : null;
  const plan = planMessages(decision?.kind === 'speak' ? decision.intents : [], byId, changed, decisionId);

  const result = await db.transaction(async (tx) => {
    await saveIncidents(tx, changed, now);
    const queued = await queueMessages(tx, workspaceId, decisionId, plan.messages);
    if (plan.announced.length > 0) {
      await tx.update(incidents).set({ announcedAt: now }).where(inArray(incidents.id, plan.announced));
    }
    let outcome: 'quiet' | 'spoke' | 'vetoed' = 'quiet';
    if (decision && decisionId) {
      const vetoes = queued.duplicates.map((key) => `duplicate: ${key} was already queued`);
      outcome = decision.kind === 'quiet' ? 'quiet' : queued.inserted.length > 0 ? 'spoke' : 'vetoed';
      await tx.insert(decisions).values({
        id: decisionId,
        workspaceId,
        tickId,
        trigger,
        brain: deps.brain.name,
        outcome,
        reasons: decision.reasons,
        vetoes,
        eventIds: records.map((r) => r.id),
        incidentIds: transitions.map((t) => t.incidentId),
        inputTokens: decision.usage.inputTokens,
        outputTokens: decision.usage.outputTokens,
        cacheReadTokens: decision.usage.cacheReadTokens,
        cacheWriteTokens: decision.usage.cacheWriteTokens,
        costMicroUsd: decision.usage.costMicroUsd,
      });
    }
    if (rows.length > 0) {
      await tx.update(events).set({ tickId }).where(inArray(events.id, rows.map((r) => r.id)));
    }
    return { queued, outcome };
  });

  const outboxIds = result.queued.inserted.map((r) => r.id);
  if (outboxIds.length > 0) await deps.deliver(outboxIds);
  if (rows.length === (deps.batchSize ?? 500)) await deps.signals.markDirty(workspaceId); // more to read

  if (!decision || !decisionId) {
    await deps.signals.count(workspaceId, { quiet: 1 });
    const reason = gated.kind === 'quiet' ? gated.reason : 'no decision';
    log.debug({ events: records.length, reason }, 'tick gated quiet');
    return { kind: 'gated', reason, events: records.length };
  }
  const usage = decision.usage;
  await deps.signals.count(workspaceId, {
    woken: 1,
    spoke: result.outcome === 'spoke' ? 1 : 0,
    vetoed: result.outcome === 'vetoed' ? 1 : 0,
    quiet: result.outcome === 'quiet' ? 1 : 0,
    model_calls: usage.modelCalls,
    tokens: usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    cost_micro_usd: usage.costMicroUsd,
  });
  log.info({ decisionId, outcome: result.outcome, reasons: decision.reasons, outbox: outboxIds.length }, 'tick decided');
  return { kind: 'decided', decisionId, outcome: result.outcome, outboxIds };
}

/** Incidents that just opened or came back get the repository changes shortly before they started. */
async function attachSuspects(db: Db, workspaceId: string, transitions: IncidentTransition[], byId: Map<string, Incident>): Promise<void> {
  const starting = transitions
    .filter((t) => t.kind === 'opened' || t.kind === 'recurred' || t.kind === 'flapping')
    .flatMap((t) => byId.get(t.incidentId) ?? []);
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
