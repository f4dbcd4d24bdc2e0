// Acknowledge and resolve, carried to where the incident lives, exactly once. One transaction claims
// the step in Postgres (an atomic UPDATE of incidents.source_sync that only the first click of an
// occurrence can win), records it in incident_steps and queues the event the tick applies; only the
// winner then calls the sources, and each outcome (accepted, refused, failed) is written back and
// shown on the card. A double click, a second person or a retry finds the claim taken and calls nothing.
import { createHash } from 'node:crypto';
import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { Clock } from '../core/clock.js';
import type { EventPayload } from '../core/events.js';
import type { Incident } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import { readSourceSync, syncTargets, targetLine, type SyncClaim, type SyncTarget, type TargetState } from '../core/source-sync.js';
import type { Db, Tx } from '../db/client.js';
import { events, incidents, incidentSteps, sources, workspaces } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import { toIncident } from '../heartbeat/incident-rows.js';
import { loadIntegrations } from '../actions/integrations.js';
import type { TickActions } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';
import { failureState, planTargets, targetsOf, type SyncVerb, type TargetPlan } from './carriers.js';
import { foldMemberStates, memberLine, type MemberReach } from './storm-sync.js';
import { readSyncSettings } from './sync-settings.js';

export interface SyncDeps {
  db: Db;
  secrets: SecretBox;
  clock: Clock;
  log: Logger;
  /** Marks the workspace dirty and wakes its tick, so the step shows on the card at once. */
  wake(workspaceId: string): Promise<void>;
  /** How long one source may take to answer. */
  timeoutMs?: number;
  /** Asks for an approval (a workspace that wants acknowledge silences approved) and delivers its card. */
  actions?: Pick<TickActions, 'propose'>;
  deliver?(outboxIds: string[]): Promise<void>;
}

export interface Person {
  id: string;
  name: string;
}

export type CarryOutcome =
  | { kind: 'unknown' }
  /** Nothing to do: acknowledged or resolved already (by whom, when Tacit knows). */
  | { kind: 'not_open'; status: Incident['status']; by: string | null }
  /** Someone else's click (or this person's earlier one) claimed it first. */
  | { kind: 'already'; by: string }
  | { kind: 'done'; incident: Incident; lines: string[] };

const verbStatus = { ack: 'acknowledged', resolve: 'resolved' } as const;
/** A storm's members are told a few at a time: a slow source delays the press's answer, not the sources. */
const MEMBER_CONCURRENCY = 4;

/** Claims the step for this occurrence, then carries it to every source the incident came from. */
export async function carry(deps: SyncDeps, req: { workspaceId: string; incidentId: string; verb: SyncVerb; by: Person; note?: string }): Promise<CarryOutcome> {
  const { db } = deps;
  const [row] = await db.select().from(incidents).where(and(eq(incidents.id, req.incidentId), eq(incidents.workspaceId, req.workspaceId)));
  if (!row) return { kind: 'unknown' };
  const incident = toIncident(row);
  if (req.verb === 'ack' ? incident.status !== 'firing' : incident.status === 'resolved') {
    const prior = incident.sourceSync?.[req.verb];
    return { kind: 'not_open', status: incident.status, by: prior?.by.name ?? (incident.status === 'acknowledged' ? incident.acknowledgedBy : null) };
  }
  const now = deps.clock.now();
  const occurrence = incident.startedAt.toISOString();
  const plans = await buildPlans(deps, incident, req.verb, req.by, now, false);
  const claim: SyncClaim = {
    occurrence, by: req.by, at: now.toISOString(),
    sources: Object.fromEntries(plans.map((p) => [p.target, 'state' in p ? p.state : ({ state: 'approval' in p ? 'awaiting_approval' : 'sending', detail: '' } satisfies TargetState)])),
  };
  const won = await db.transaction(async (tx) => (await claimStep(tx, req, incident, claim, now)) && askApprovals(deps, tx, req, incident, plans, now));
  if (!won) {
    const [latest] = await db.select({ sourceSync: incidents.sourceSync }).from(incidents).where(eq(incidents.id, incident.id));
    return { kind: 'already', by: readSourceSync(latest?.sourceSync)[req.verb]?.by.name ?? 'someone' };
  }
  await deps.wake(req.workspaceId).catch((err: unknown) => deps.log.warn({ err, incidentId: incident.id }, 'step stored; the next beat applies it'));

  await deps.deliver?.(won.outboxIds);
  const results = await Promise.all(plans.map((p) => runPlan(deps, p, won.asked)));
  const called = results.filter((r) => r.called);
  if (called.length > 0) {
    await db.transaction((tx) => recordOutcomes(tx, req, incident, occurrence, called, now));
    await deps.wake(req.workspaceId).catch((err: unknown) => deps.log.warn({ err, incidentId: incident.id }, 'source outcome stored; the next beat shows it'));
  }
  for (const r of called) deps.log.info({ incidentId: incident.id, verb: req.verb, target: r.target, state: r.state.state }, 'incident step carried to its source');
  const lines = results.map((r) => targetLine(req.verb, r.target, claim, r.state));
  // A storm's card stands for its members: the step goes to each member's own source, and the card
  // shows what those sources said.
  if (incident.kind === 'storm') {
    const line = await carryToMembers(deps, req, incident);
    const folded = await refoldStorm(deps, incident, req.verb, claim);
    lines.push(...[...folded].map(([target, state]) => targetLine(req.verb, target, claim, state)), ...(line ? [line] : []));
  }
  return { kind: 'done', incident, lines };
}

/**
 * One state per source on a storm's card, folded from what every member's own claim for this verb
 * says; written (and the card edited) only when it changed. Returns the folded states.
 */
export async function refoldStorm(deps: SyncDeps, storm: Incident, verb: SyncVerb, claim: SyncClaim): Promise<Map<SyncTarget, TargetState>> {
  const rows = await deps.db.select().from(incidents).where(and(eq(incidents.workspaceId, storm.workspaceId), eq(incidents.stormId, storm.id)));
  const answers = rows.flatMap((row) => {
    const member = toIncident(row);
    const own = member.sourceSync?.[verb];
    return own && own.occurrence === member.startedAt.toISOString() ? [new Map(Object.entries(own.sources) as [SyncTarget, TargetState][])] : [];
  });
  const states = foldMemberStates(verb, claim.by, answers);
  const [latest] = await deps.db.select({ sourceSync: incidents.sourceSync }).from(incidents).where(eq(incidents.id, storm.id));
  const stored = readSourceSync(latest?.sourceSync)[verb];
  if (stored?.occurrence !== claim.occurrence) return states;
  const now = deps.clock.now();
  const changed = [...states].filter(([target, s]) => stored.sources[target]?.state !== s.state || stored.sources[target]?.detail !== s.detail);
  if (changed.length > 0) {
    const results = changed.map(([target, state]): RunResult => ({ target, state: { ...state, at: now.toISOString() }, called: true }));
    const revision = createHash('sha256').update(JSON.stringify(changed)).digest('hex').slice(0, 16);
    await deps.db.transaction((tx) => recordOutcomes(tx, { workspaceId: storm.workspaceId, verb }, storm, claim.occurrence, results, now, revision));
    await deps.wake(storm.workspaceId).catch((err: unknown) => deps.log.warn({ err, incidentId: storm.id }, 'storm outcome stored; the next beat shows it'));
  }
  return states;
}

/** Carries a storm's step to each of its open members, a few at a time; returns the line for the person who pressed. */
async function carryToMembers(deps: SyncDeps, req: { workspaceId: string; verb: SyncVerb; by: Person; note?: string }, storm: Incident): Promise<string | null> {
  const rows = await deps.db.select({ id: incidents.id }).from(incidents)
    .where(and(eq(incidents.workspaceId, req.workspaceId), eq(incidents.stormId, storm.id), ne(incidents.status, 'resolved')))
    .orderBy(asc(incidents.startedAt));
  if (rows.length === 0) return null;
  const reached: MemberReach[] = [];
  const queue = [...rows];
  await Promise.all(Array.from({ length: Math.min(MEMBER_CONCURRENCY, queue.length) }, async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      try {
        const o = await carry(deps, { ...req, incidentId: m.id });
        reached.push({ kind: o.kind === 'done' ? 'done' : 'already' });
      } catch (err) {
        deps.log.warn({ err, stormId: storm.id, incidentId: m.id, verb: req.verb }, "could not carry a storm's step to a member");
        reached.push({ kind: 'error', detail: err instanceof Error ? err.message.slice(0, 200) : String(err) });
      }
    }
  }));
  return memberLine(req.verb, reached);
}

/** What to do for each source the incident came from, with the workspace's settings and integrations. */
export async function buildPlans(deps: SyncDeps, incident: Incident, verb: SyncVerb, by: Person, now: Date, recheck: boolean): Promise<TargetPlan[]> {
  const { db } = deps;
  const occurrence = incident.startedAt.toISOString();
  const [ws] = await db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, incident.workspaceId));
  const integrations = await loadIntegrations(db, deps.secrets, incident.workspaceId);
  return planTargets(
    {
      verb, incident, by, integrations, settings: readSyncSettings(ws?.settings), now, recheck,
      claimId: `sync_${incident.id}_${verb}_${incident.startedAt.getTime()}`,
      ackSilenceId: incident.sourceSync?.ack?.occurrence === occurrence ? incident.sourceSync.ack.sources.alertmanager?.silenceId : undefined,
    },
    targetsOf(incident, await sourceKindOf(db, incident)),
  );
}

/**
 * The claim: only while the incident is still open for this verb and no claim of this verb holds
 * this occurrence. Under the row's lock, so of two concurrent clicks exactly one wins.
 */
async function claimStep(tx: Tx, req: { workspaceId: string; verb: SyncVerb; by: Person; note?: string }, incident: Incident, claim: SyncClaim, now: Date): Promise<boolean> {
  const open = req.verb === 'ack' ? eq(incidents.status, 'firing') : ne(incidents.status, 'resolved');
  const claimed = await tx
    .update(incidents)
    .set({ sourceSync: sql`${incidents.sourceSync} || jsonb_build_object(${req.verb}::text, ${JSON.stringify(claim)}::jsonb)` })
    .where(and(
      eq(incidents.id, incident.id), eq(incidents.workspaceId, req.workspaceId), open,
      sql`coalesce(${incidents.sourceSync} -> ${req.verb}::text ->> 'occurrence', '') <> ${claim.occurrence}`,
    ))
    .returning({ id: incidents.id });
  if (claimed.length === 0) return false;
  await tx.insert(incidentSteps).values({
    workspaceId: req.workspaceId, incidentId: incident.id, kind: verbStatus[req.verb], actor: req.by.id,
    detail: { name: req.by.name, occurrence: claim.occurrence, ...(req.note ? { note: req.note } : {}), sources: claim.sources }, at: now,
  });
  const payload: EventPayload = req.verb === 'ack'
    ? { kind: 'incident.ack', incidentId: incident.id, by: req.by }
    : { kind: 'incident.step', incidentId: incident.id, by: req.by, step: { type: 'resolve', note: req.note ?? '' } };
  await insertStepEvent(tx, req.workspaceId, `${req.verb}:${incident.id}:${claim.occurrence}`, payload, now);
  return true;
}

export interface RunResult {
  target: SyncTarget;
  state: TargetState;
  called: boolean;
}

/** Inside the claim's transaction: the approvals a workspace wants before a source is changed. */
async function askApprovals(deps: SyncDeps, tx: Tx, req: { workspaceId: string; by: Person }, incident: Incident, plans: TargetPlan[], now: Date) {
  const asked = new Map<SyncTarget, TargetState>();
  const outboxIds: string[] = [];
  for (const p of plans) {
    if (!('approval' in p)) continue;
    if (!deps.actions) {
      asked.set(p.target, { state: 'skipped', detail: 'approvals are not available here; not silenced' });
      continue;
    }
    const out = await deps.actions.propose(tx, {
      workspaceId: req.workspaceId, decisionId: `ack_${incident.id}_${incident.startedAt.getTime()}`, requestedBy: req.by.id,
      incidents: new Map([[incident.id, incident]]), now,
      intents: [{ type: 'propose_action', action: p.approval.action, incidentId: incident.id, params: p.approval.params, reason: p.approval.reason }],
    });
    outboxIds.push(...out.outboxIds);
    asked.set(p.target, out.outboxIds.length > 0
      ? { state: 'awaiting_approval', detail: 'a silence waits for an approver (the approval card is in the thread)' }
      : { state: 'skipped', detail: `could not ask for the silence: ${out.notes.join('; ')}` });
  }
  return { asked, outboxIds };
}

export async function runPlan(deps: SyncDeps, plan: TargetPlan, asked: ReadonlyMap<SyncTarget, TargetState>): Promise<RunResult> {
  if ('state' in plan) return { target: plan.target, state: plan.state, called: false };
  // Recorded like a call, so the card shows the approval's state instead of "sending".
  if ('approval' in plan) return { target: plan.target, state: asked.get(plan.target) ?? { state: 'skipped', detail: 'no approval asked' }, called: true };
  const at = () => deps.clock.now().toISOString();
  try {
    const state = await plan.call(AbortSignal.timeout(deps.timeoutMs ?? 10_000));
    return { target: plan.target, state: { ...state, at: at() }, called: true };
  } catch (err) {
    deps.log.warn({ err, target: plan.target }, 'a source did not take the incident step');
    return { target: plan.target, state: { ...failureState(plan.target, err), at: at() }, called: true };
  }
}

/** Each source's answer into source_sync and incident_steps, and the event that edits the card. */
export async function recordOutcomes(tx: Tx, req: { workspaceId: string; verb: SyncVerb }, incident: Incident, occurrence: string, results: RunResult[], now: Date, revision?: string): Promise<void> {
  for (const r of results) {
    await tx
      .update(incidents)
      .set({ sourceSync: sql`jsonb_set(${incidents.sourceSync}, ${`{${req.verb},sources,${r.target}}`}::text[], ${JSON.stringify(r.state)}::jsonb, true)` })
      .where(and(eq(incidents.id, incident.id), sql`${incidents.sourceSync} -> ${req.verb}::text ->> 'occurrence' = ${occurrence}`));
    await tx.insert(incidentSteps).values({ workspaceId: req.workspaceId, incidentId: incident.id, kind: `${req.verb}.${r.target}`, actor: 'tacit', detail: { ...r.state, occurrence }, at: now });
  }
  const payload: EventPayload = { kind: 'incident.step', incidentId: incident.id, by: { id: 'tacit', name: 'Tacit' }, step: { type: 'synced' } };
  // A storm's card is re-folded as its members answer: each new fold is its own edit.
  await insertStepEvent(tx, req.workspaceId, `synced:${req.verb}:${incident.id}:${occurrence}${revision ? `:${revision}` : ''}`, payload, now);
}

export async function insertStepEvent(tx: Tx | Db, workspaceId: string, dedupeKey: string, payload: EventPayload, now: Date): Promise<void> {
  await tx
    .insert(events)
    .values({ workspaceId, sourceId: null, kind: payload.kind, dedupeKey: boundKey(dedupeKey), urgent: true, occurredAt: now, payload })
    .onConflictDoNothing();
}

/** For alerts stored before their kind was kept: the kind of the source the group key names. */
async function sourceKindOf(db: Db, incident: Incident): Promise<SyncTarget | undefined> {
  if (Object.values(incident.alerts).every((a) => a.source)) return undefined;
  const sourceId = (incident.groupLabel ?? incident.groupKey).split('|')[0] ?? '';
  const [row] = await db.select({ kind: sources.kind }).from(sources).where(eq(sources.id, sourceId));
  return row && (syncTargets as readonly string[]).includes(row.kind) ? (row.kind as SyncTarget) : undefined;
}
