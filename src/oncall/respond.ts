// The chat side of on-call steps: the card's Acknowledge and Resolve buttons, `/tacit ack`,
// `/tacit resolve` and `/tacit incident declare|resolve`. Each is authorised (authority.ts),
// refusals are audited, and the step itself goes through sync.ts (claim, then the sources).
import { randomUUID } from 'node:crypto';
import { and, eq, like, ne, sql } from 'drizzle-orm';
import type { InboundCommand, InboundInteraction, InteractionResponse } from '../chat/port.js';
import { ACK_ACTION_ID, RESOLVE_ACTION_ID } from '../core/incident-card.js';
import { recordAudit } from '../db/audit-log.js';
import { incidents, incidentSteps } from '../db/schema.js';
import { mayRespond, type RespondVerb } from './authority.js';
import { parseDeclaration } from './declare.js';
import { carry, insertStepEvent, type CarryOutcome, type SyncDeps } from './sync.js';
import { reconcileStuckSyncs } from './sync-reconcile.js';
import { reconcileStormMembers } from './storm-reconcile.js';
import { watchSilencedIncidents } from './silence-watch.js';
import { SYNC_VERBS, syncCommand } from './sync-commands.js';

export type OncallDeps = SyncDeps;

/** The verbs `/tacit` hands to this module. */
export const ONCALL_VERBS = ['ack', 'resolve', 'incident'] as const;

export const oncallUsage = [
  '`/tacit ack [incident]` — acknowledge here and where it lives (PagerDuty, an Alertmanager silence)',
  '`/tacit resolve [incident] [note…]` — resolve it here and where it lives (also `/tacit incident resolve`)',
  '`/tacit incident declare <title> [critical|warning|info]` — open an incident by hand, with a card and a thread',
  '`/tacit auto-resolve [kind 4h|off]` — resolve incidents of senders that never say so after a silence',
  '`/tacit ack-silence [direct|approval|off] [12h]` — what Acknowledge does in Alertmanager',
  '`/tacit pagerduty-email [you@example.com|off]` — act in PagerDuty as yourself',
].join('\n');

export class Oncall {
  constructor(private readonly deps: OncallDeps) {}

  /**
   * For the maintenance job: finish source calls a dead process left "sending", carry a storm's step
   * to members it has not reached (joined later, or a press cut short), and resolve silenced
   * Alertmanager incidents whose alerts are gone. Returns how many incidents it moved.
   */
  async reconcile(): Promise<number> {
    return (await reconcileStuckSyncs(this.deps)) + (await reconcileStormMembers(this.deps)) + (await watchSilencedIncidents(this.deps));
  }

  /** The card's buttons. */
  async interaction(i: InboundInteraction): Promise<InteractionResponse> {
    const verb = i.actionId === ACK_ACTION_ID ? 'ack' : i.actionId === RESOLVE_ACTION_ID ? 'resolve' : null;
    if (!verb) return { privateText: 'That button is not something I know how to handle.' };
    const refused = await this.refuse(i.workspaceId, i.user, verb, { channelId: i.channelId, incidentId: i.value, via: 'button' });
    if (refused) return refused;
    const outcome = await carry(this.deps, { workspaceId: i.workspaceId, incidentId: i.value, verb, by: { id: i.user.id, name: i.user.name } });
    return { privateText: answer(outcome, verb) };
  }

  /** `/tacit ack|resolve|incident …`. */
  async command(c: InboundCommand, verb: string, args: string[]): Promise<InteractionResponse> {
    if ((SYNC_VERBS as readonly string[]).includes(verb)) {
      // Workspace settings were authorised by /tacit (admins); a PagerDuty email is the person's own.
      const refused = verb === 'pagerduty-email' ? await this.refuse(c.workspaceId, c.user, 'ack', { channelId: c.channelId, via: 'command' }) : null;
      return refused ?? syncCommand(this.deps.db, c, verb, args);
    }
    if (verb === 'incident') {
      const [sub, ...rest] = args;
      if (sub?.toLowerCase() === 'declare') return this.declare(c, rest);
      if (sub?.toLowerCase() === 'resolve') return this.step(c, 'resolve', rest);
      if (sub?.toLowerCase() === 'ack' || sub?.toLowerCase() === 'acknowledge') return this.step(c, 'ack', rest);
      return { privateText: oncallUsage };
    }
    return this.step(c, verb === 'ack' ? 'ack' : 'resolve', args);
  }

  private async step(c: InboundCommand, verb: 'ack' | 'resolve', args: string[]): Promise<InteractionResponse> {
    const refused = await this.refuse(c.workspaceId, c.user, verb, { channelId: c.channelId, via: 'command' });
    if (refused) return refused;
    const ref = args[0] && /^inc_[0-9a-f-]{4,}$/i.test(args[0]) ? args[0] : undefined;
    const found = await this.findIncident(c.workspaceId, c.channelId, ref);
    if (found.kind !== 'one') return { privateText: found.text };
    const note = (ref ? args.slice(1) : args).join(' ').trim().slice(0, 2_000);
    const outcome = await carry(this.deps, { workspaceId: c.workspaceId, incidentId: found.id, verb, by: { id: c.user.id, name: c.user.name }, note: verb === 'resolve' ? note : undefined });
    return { privateText: answer(outcome, verb) };
  }

  private async declare(c: InboundCommand, words: string[]): Promise<InteractionResponse> {
    const refused = await this.refuse(c.workspaceId, c.user, 'declare', { channelId: c.channelId, via: 'command' });
    if (refused) return refused;
    const declaration = parseDeclaration(words);
    if (!declaration) return { privateText: 'What is happening? `/tacit incident declare <title> [critical|warning|info]`, e.g. `/tacit incident declare Checkout is slow critical`.' };
    const id = `inc_${randomUUID()}`;
    const now = this.deps.clock.now();
    const by = { id: c.user.id, name: c.user.name };
    await this.deps.db.transaction(async (tx) => {
      await tx.insert(incidentSteps).values({ workspaceId: c.workspaceId, incidentId: id, kind: 'declared', actor: by.id, detail: { name: by.name, ...declaration }, at: now });
      await insertStepEvent(tx, c.workspaceId, `declare:${id}`, { kind: 'incident.step', incidentId: id, by, step: { type: 'declare', ...declaration, channelId: c.channelId } }, now);
    });
    await this.deps.wake(c.workspaceId).catch((err: unknown) => this.deps.log.warn({ err, incidentId: id }, 'declaration stored; the next beat opens it'));
    return { privateText: `Declared ${shortRef(id)}: ${declaration.title} (${declaration.severity}). Its card and thread follow in a moment; \`/tacit resolve ${shortRef(id)}\` closes it.` };
  }

  /** Guests and people from another organisation are refused, and the refusal is audited. */
  private async refuse(workspaceId: string, user: InboundCommand['user'], verb: RespondVerb, detail: Record<string, unknown>): Promise<InteractionResponse | null> {
    const decision = mayRespond(user, verb);
    if (decision.allowed) return null;
    await recordAudit(this.deps.db, { workspaceId, actor: user.id, action: `incident.${verb}`, outcome: 'refused', detail: { ...detail, reason: decision.reason, name: user.name } });
    return { privateText: decision.message };
  }

  /**
   * Which incident a command means: the one named (`inc_1a2b…`, a prefix will do), the one whose
   * thread this is (Discord runs commands in the thread's own channel), or the only open one here.
   */
  private async findIncident(workspaceId: string, channelId: string, ref: string | undefined): Promise<{ kind: 'one'; id: string } | { kind: 'none' | 'many'; text: string }> {
    const { db } = this.deps;
    if (ref) {
      const rows = await db.select({ id: incidents.id }).from(incidents).where(and(eq(incidents.workspaceId, workspaceId), like(incidents.id, `${ref.toLowerCase()}%`))).limit(2);
      if (rows.length === 1 && rows[0]) return { kind: 'one', id: rows[0].id };
      return { kind: rows.length === 0 ? 'none' : 'many', text: rows.length === 0 ? `I know no incident ${ref} in this workspace.` : `${ref} names more than one incident; give more of its id.` };
    }
    const thread = channelId.split('/').pop() ?? '';
    const [inThread] = await db.select({ id: incidents.id }).from(incidents)
      .where(and(eq(incidents.workspaceId, workspaceId), sql`${incidents.parentMessage} ->> 'messageId' = ${thread}`)).limit(1);
    if (inThread) return { kind: 'one', id: inThread.id };
    const open = await db.select({ id: incidents.id, title: incidents.title, status: incidents.status }).from(incidents)
      .where(and(eq(incidents.workspaceId, workspaceId), eq(incidents.channelId, channelId), ne(incidents.status, 'resolved'))).limit(10);
    if (open.length === 1 && open[0]) return { kind: 'one', id: open[0].id };
    if (open.length === 0) return { kind: 'none', text: 'There is no open incident in this channel. Name one: `/tacit ack inc_1a2b3c4d`.' };
    return { kind: 'many', text: `Several incidents are open here; name one:\n${open.map((i) => `• ${shortRef(i.id)} ${i.title} (${i.status})`).join('\n')}` };
  }
}

/** The first 12 characters of an incident id (`inc_1a2b3c4d`): enough to name it in a command. */
export function shortRef(id: string): string {
  return id.slice(0, 12);
}

function answer(outcome: CarryOutcome, verb: 'ack' | 'resolve'): string {
  const done = verb === 'ack' ? 'acknowledged' : 'resolved';
  switch (outcome.kind) {
    case 'unknown':
      return 'I cannot find that incident in this workspace; nothing was done.';
    case 'not_open':
      if (outcome.status === 'resolved') return 'This incident is already resolved; nothing was done.';
      return `This incident is already acknowledged${outcome.by ? ` by ${outcome.by}` : ''}; nothing was done.`;
    case 'already':
      return `Already ${done} by ${outcome.by}; your ${verb === 'ack' ? 'acknowledgement' : 'resolve'} changed nothing.`;
    case 'done':
      return [`${done[0]?.toUpperCase()}${done.slice(1)} by you: ${outcome.incident.title}.`, ...outcome.lines.map((l) => `• ${l}`)].join('\n');
    default: {
      const never: never = outcome;
      return String(never);
    }
  }
}

/** The card's incident buttons, which this module answers (Approve/Deny go to the approvals). */
export function isIncidentStep(actionId: string): boolean {
  return actionId === ACK_ACTION_ID || actionId === RESOLVE_ACTION_ID;
}
