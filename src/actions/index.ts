// Actions: what the brain may ask for, the approvals people decide, and the worker that executes an
// approved action at most once (BullMQ job id = approval id, an execution lease, no repeat of a call
// that may have acted unless the action is idempotent), verifies it and reports on the card.
// Authority comes only from a signed click by a person the approval's policy names.
import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { ChatAdapter, InboundInteraction, InteractionResponse } from '../chat/port.js';
import { approvalsNeeded, type ActionInfo, type ApproverPolicy } from '../core/actions.js';
import { APPROVE_ACTION_ID, DENY_REASON_ACTION_ID, parseButtonValue, shortHash } from '../core/approval-card.js';
import type { Intent } from '../core/decisions.js';
import type { Incident } from '../core/incidents.js';
import type { Anchor } from '../core/plan.js';
import { redactDeep, redactSecrets } from '../core/redact.js';
import { readSettings } from '../core/settings.js';
import type { Db, Tx } from '../db/client.js';
import { approvalAudit, approvals, channels, outbox, sources, workspaces } from '../db/schema.js';
import { dedicatedConnection } from '../db/redis.js';
import type { SecretBox } from '../db/secret-box.js';
import type { TickActions } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';
import {
  audit, describePolicy, expireOverdue, fullTextsShown, newApprovalId, paramsHash, partialApprovers, queueCardUpdate, queueFullTexts, riskOf, type ApprovalRow,
} from './approvals.js';
import { loadIntegrations } from './integrations.js';
import { takeLease } from '../db/redis-lease.js';
import { ActionNotSentError, actionsFor, describeAction, integrationFor, PermanentActionError, type AnyAction, type ExecuteResult, type Verification } from './registry.js';

export { renderApprovalCard } from './approvals.js';

export interface ActionsOptions {
  db: Db;
  connection: Redis;
  prefix: string;
  secrets: SecretBox;
  log: Logger;
  /** Hands committed outbox rows (cards, card edits, DMs) to delivery. */
  deliver(outboxIds: string[]): Promise<void>;
  /** Told when an approved action finished: verified or not (memory activates or drops its entries). */
  onFinished?(approvalId: string, verified: boolean): Promise<void>;
  /** Counts clicks and results (metrics): `refused` clicks changed nothing. */
  onApproval?(outcome: 'approved' | 'denied' | 'refused' | 'expired' | 'executed' | 'failed', count?: number): void;
  /** Executor attempts before an action is reported failed. */
  attempts?: number;
  backoffMs?: number;
  executeTimeoutMs?: number;
}

const QUEUE = 'act';
/** A Deny's reason is kept up to this long (the Discord form allows as much). */
const DENY_REASON_CHARS = 1_000;
/** A job that finds the execution lease held looks again this much later (cheap: one Redis SET). */
const BUSY_RETRY_MS = 1_000;
/**
 * The execution lease's expiry. It is renewed every third of this while the action runs, whatever
 * the action's own timeout, so it only has to outlive a pause of the runner's event loop; a runner
 * that died frees it this soon after its last renewal.
 */
const LEASE_MS = 15_000;
/** The execution job's lock (renewed at half of it): a dead process's job is found stalled this soon. */
const JOB_LOCK_MS = 10_000;

/** Safe to call again after an attempt that may have reached the service. */
function repeatable(action: AnyAction | undefined): boolean {
  return Boolean(action && (action.idempotent || action.findDone));
}
type ProposeIntent = Extract<Intent, { type: 'propose_action' }>;

export class Actions implements TickActions {
  readonly queue: Queue;
  private worker: Worker | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  constructor(private readonly opts: ActionsOptions) {
    this.queue = new Queue(QUEUE, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: opts.attempts ?? 3,
        backoff: { type: 'exponential', delay: opts.backoffMs ?? 1_000 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    });
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'action queue: redis error'));
  }

  async available(workspaceId: string): Promise<ActionInfo[]> {
    return actionsFor(await loadIntegrations(this.opts.db, this.opts.secrets, workspaceId)).map(describeAction);
  }

  /**
   * Inside the tick's transaction: each proposal whose action exists and whose parameters validate
   * becomes a pending approval with its card (and a DM to each named approver). Nothing runs.
   */
  async propose(tx: Tx, req: { workspaceId: string; decisionId: string; intents: ProposeIntent[]; incidents: ReadonlyMap<string, Incident>; now: Date; requestedBy?: string }) {
    const requester = req.requestedBy ?? 'tacit';
    const notes: string[] = [];
    const outboxIds: string[] = [];
    // Through the transaction: on the embedded database it holds the only connection.
    const integrations = await loadIntegrations(tx, this.opts.secrets, req.workspaceId);
    const known = actionsFor(integrations);
    const [ws] = await tx.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, req.workspaceId));
    const settings = readSettings(ws?.settings);
    const policy: ApproverPolicy = settings.approvers;
    for (const intent of req.intents) {
      const action = known.find((a) => a.name === intent.action);
      if (!action) {
        notes.push(`proposal refused: no action ${intent.action} in this workspace`);
        continue;
      }
      const parsed = action.params.safeParse(intent.params);
      if (!parsed.success) {
        notes.push(`proposal refused: ${intent.action} parameters invalid (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
        continue;
      }
      const params = redactDeep(parsed.data) as Record<string, unknown>;
      const incident = intent.incidentId ? req.incidents.get(intent.incidentId) : undefined;
      const channelId = incident?.channelId ?? (await defaultChannel(tx, req.workspaceId));
      if (!channelId) {
        notes.push(`proposal refused: no channel to ask in for ${intent.action}`);
        continue;
      }
      const id = newApprovalId();
      const [row] = await tx
        .insert(approvals)
        .values({
          id,
          workspaceId: req.workspaceId,
          decisionId: req.decisionId,
          action: action.name,
          params,
          paramsHash: paramsHash(req.workspaceId, action.name, params),
          requestedBy: requester,
          approverPolicy: policy,
          status: 'pending',
          // Database time: every process and the click's check agree on when it ends.
          expiresAt: sql`now() + make_interval(secs => ${settings.approvalTtlMs / 1000})`,
          reason: intent.reason,
          incidentId: incident?.id ?? null,
          channelId,
        })
        .returning();
      if (!row) continue;
      await audit(tx, { approvalId: id, workspaceId: req.workspaceId, kind: 'requested', actor: requester, detail: { decisionId: req.decisionId, action: action.name, params, reason: intent.reason, risk: action.risk } });
      // In the incident's thread when its card exists or is queued (by this very tick, perhaps).
      const inThread = incident ? incident.announced || (await cardQueued(tx, req.workspaceId, incident.id)) : false;
      const anchor: Anchor = { type: 'approval_card', approvalId: id, ...(inThread && incident ? { incidentId: incident.id } : {}) };
      const queued = await tx
        .insert(outbox)
        .values([
          {
            id: `out_${randomUUID()}`, workspaceId: req.workspaceId, decisionId: req.decisionId, idempotencyKey: `approval:${id}:card`, kind: 'post' as const,
            channelId, anchor, incidentId: inThread && incident ? incident.id : null, message: { text: `Approval needed: ${action.name}` }, purpose: 'approval', proactive: true,
          },
          // Push: each named approver learns that something waits for them.
          ...policy.users.map((user) => ({
            id: `out_${randomUUID()}`, workspaceId: req.workspaceId, decisionId: req.decisionId, idempotencyKey: `approval:${id}:dm:${user}`, kind: 'post' as const,
            channelId, anchor: { type: 'dm', personId: user } satisfies Anchor, incidentId: null,
            message: { text: `An approval waits for you: ${action.name} — ${intent.reason} (approval ${id}, in the channel's card).`, notify: user },
            purpose: 'push', proactive: true,
          })),
        ])
        .onConflictDoNothing()
        .returning({ id: outbox.id });
      outboxIds.push(...queued.map((q) => q.id));
      notes.push(`asked for approval ${id}: ${action.name} (${describePolicy(policy)})`);
    }
    return { notes, outboxIds };
  }

  /**
   * A click on Approve or Deny: authorise, check that the card showed exactly these parameters (and,
   * for long ones, that their full text was delivered), then one atomic transition under the row's
   * lock. Where two people must approve, the first approval is recorded in the audit trail and the
   * second distinct person's moves it to approved. Everything else is explained privately and audited.
   * A Deny where the adapter has forms first asks why (nothing changes yet); the submitted reason
   * (`approval_deny_reason`) denies, stored as the decision note, in the audit and on the card.
   */
  async decide(click: InboundInteraction, adapter: ChatAdapter): Promise<InteractionResponse> {
    const { db } = this.opts;
    const approve = click.actionId === APPROVE_ACTION_ID;
    const reasoned = click.actionId === DENY_REASON_ACTION_ID;
    const note = reasoned ? redactSecrets((click.text ?? '').trim().slice(0, DENY_REASON_CHARS)).text || null : null;
    const actor = click.user.id;
    const { approvalId, hash: shownHash } = parseButtonValue(click.value);
    const refuse = async (reason: string, id = approvalId): Promise<InteractionResponse> => {
      await audit(db, { approvalId: id, workspaceId: click.workspaceId, kind: 'refused', actor, detail: { reason, name: click.user.name, click: approve ? 'approve' : 'deny', external: Boolean(click.user.external), shownHash } });
      this.opts.log.info({ approvalId: id, actor, reason }, 'approval click refused');
      this.opts.onApproval?.('refused');
      return { privateText: reason };
    };
    // Scoped to the workspace the click came from: an id from elsewhere is simply not found.
    const [a] = await db.select().from(approvals).where(and(eq(approvals.id, approvalId), eq(approvals.workspaceId, click.workspaceId)));
    if (!a) return refuse('I cannot find that approval in this workspace; nothing was done.');
    if (click.user.external) return refuse('People from other organisations cannot approve or deny actions here; nothing was done.', a.id);
    const policy = a.approverPolicy as ApproverPolicy;
    if (!(await this.authorised(policy, click, adapter))) {
      // Who may approve is not listed here: a refusal must not tell anyone whom to ask (or impersonate).
      return refuse('You are not one of the people who may decide this approval, so nothing was done. A workspace admin sets who may (`/tacit approvers`).', a.id);
    }
    if (approve && policy.twoPerson && a.requestedBy === actor) return refuse('You asked for this action, so someone else must approve it (two-person rule); nothing was done.', a.id);
    if (paramsHash(a.workspaceId, a.action, a.params) !== a.paramsHash) {
      return refuse('This approval\'s parameters no longer match what was asked for; it cannot be approved. Nothing was done.', a.id);
    }
    // Decided or expired already: say so, whatever the click carried.
    if (a.status !== 'pending') return this.explainUnchanged(a.id, click, refuse);
    // Checked first, so nobody is asked why for a Deny that could not count.
    if (!approve && !reasoned && adapter.forms?.includes('deny_reason')) {
      return { form: { kind: 'deny_reason', approvalId: a.id, action: a.action }, privateText: `Why do you deny ${a.action}? Nothing is decided until you say.` };
    }
    // Denying is always safe; approving binds to what the card showed.
    if (approve && shownHash !== shortHash(a.paramsHash)) {
      return refuse(`The parameters changed after this card was posted (it showed sha256 ${shownHash ?? 'nothing'}, they are now ${shortHash(a.paramsHash)}); nothing was done. Read the card again before approving.`, a.id);
    }
    if (approve && !(await fullTextsShown(db, a))) {
      await this.opts.deliver(await queueFullTexts(db, a.id));
      return refuse('The full text is still being posted in this thread; read it there, then approve. Nothing was done.', a.id);
    }
    const [requested] = await db.select().from(approvalAudit).where(and(eq(approvalAudit.approvalId, a.id), eq(approvalAudit.kind, 'requested'))).limit(1);
    const risk = riskOf(requested?.detail);
    // A workspace admin (as the platform says) who may approve this is enough on their own.
    const needed = click.user.admin ? 1 : approvalsNeeded(risk, policy, a.requestedBy);
    const detail = { name: click.user.name, paramsHash: a.paramsHash, risk, needed, admin: Boolean(click.user.admin) };
    // Everything inside the one transaction (on the embedded database it holds the only connection).
    const result = await db.transaction(async (tx) => {
      const [locked] = await tx
        .select()
        .from(approvals)
        .where(and(eq(approvals.id, a.id), eq(approvals.status, 'pending'), eq(approvals.paramsHash, a.paramsHash), sql`${approvals.expiresAt} > now()`))
        .for('update');
      if (!locked) return null;
      const earlier = approve && needed > 1 ? await partialApprovers(tx, a.id, a.paramsHash) : [];
      if (earlier.includes(actor)) return { kind: 'again' as const };
      if (approve && earlier.length + 1 < needed) {
        await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: 'approved_partial', actor, detail });
        const [bumped] = await tx.update(approvals).set({ version: sql`${approvals.version} + 1` }).where(eq(approvals.id, a.id)).returning();
        return { kind: 'partial' as const, card: bumped ? await queueCardUpdate(tx, bumped) : null };
      }
      const [decided] = await tx
        .update(approvals)
        .set({ status: approve ? 'approved' : 'denied', decidedBy: actor, decidedAt: sql`now()`, decisionNote: approve ? null : note, version: sql`${approvals.version} + 1` })
        .where(and(eq(approvals.id, a.id), eq(approvals.status, 'pending')))
        .returning();
      if (!decided) return null;
      await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: approve ? 'approved' : 'denied', actor, detail: { ...detail, with: earlier, ...(note && !approve ? { reason: note } : {}) } });
      return { kind: 'decided' as const, card: await queueCardUpdate(tx, decided) };
    });
    if (!result) return this.explainUnchanged(a.id, click, refuse);
    if (result.kind === 'again') return refuse('You approved this already; a second, different person must approve it too. Your click changed nothing.', a.id);
    if (result.card) await this.opts.deliver([result.card]);
    if (result.kind === 'partial') {
      const why = risk === 'dangerous' ? 'it is dangerous' : 'Tacit proposed it and the two-person rule applies';
      return { privateText: `Your approval is recorded. ${a.action} runs once a second person approves it too (${why}).` };
    }
    this.opts.onApproval?.(approve ? 'approved' : 'denied');
    if (!approve) {
      await this.opts.onFinished?.(a.id, false);
      return { privateText: `Denied: ${a.action} will not run.${note ? ' Your reason is on the card.' : ''}` };
    }
    await this.enqueue(a.id);
    return { privateText: `Approved: running ${a.action} now. The card will show the result.` };
  }

  /** A long parameter's full text is posted once the card is (its thread exists only then). */
  async cardDelivered(outboxId: string): Promise<void> {
    const [row] = await this.opts.db.select({ key: outbox.idempotencyKey, anchor: outbox.anchor }).from(outbox).where(eq(outbox.id, outboxId));
    const anchor = row?.anchor as Anchor | undefined;
    if (anchor?.type !== 'approval_card' || !row?.key.endsWith(':card')) return;
    await this.opts.deliver(await queueFullTexts(this.opts.db, anchor.approvalId));
  }

  /** Why a click changed nothing: decided already, or expired (expiring it now if the sweep has not). */
  private async explainUnchanged(id: string, click: InboundInteraction, refuse: (reason: string, approvalId?: string) => Promise<InteractionResponse>): Promise<InteractionResponse> {
    const [now] = await this.opts.db.select().from(approvals).where(eq(approvals.id, id));
    if (!now) return refuse('That approval no longer exists; nothing was done.', id);
    if (now.status === 'pending') {
      const { expired, outboxIds } = await expireOverdue(this.opts.db);
      this.opts.onApproval?.('expired', expired.length);
      await this.opts.deliver(outboxIds);
      // Still pending and not overdue: its parameters changed while the click was being checked.
      if (!expired.some((e) => e.id === id) && now.expiresAt > new Date()) return refuse('This approval changed while you clicked; nothing was done. Read the card again.', id);
      await this.opts.onFinished?.(id, false);
      return refuse('This approval has expired; nothing was done. Ask again if it is still needed.', id);
    }
    if (now.status === 'expired') return refuse('This approval has expired; nothing was done. Ask again if it is still needed.', id);
    const by = now.decidedBy === click.user.id ? 'you' : (now.decidedBy ?? 'someone');
    return refuse(`This was already ${now.status === 'denied' ? 'denied' : 'approved'} by ${by}; your click changed nothing.`, id);
  }

  private async authorised(policy: ApproverPolicy, click: InboundInteraction, adapter: ChatAdapter): Promise<boolean> {
    // Fails closed: an empty policy names nobody.
    if (policy.users.includes(click.user.id)) return true;
    for (const group of policy.groups) {
      if (click.user.roles?.includes(group)) return true;
      try {
        if (await adapter.inGroup(click.workspaceId, click.user.id, group)) return true;
      } catch (err) {
        this.opts.log.warn({ err, group }, 'could not check group membership; treating as not a member');
      }
    }
    return false;
  }

  /** Execution is a job whose id is the approval id: however often this is called, it runs once. */
  async enqueue(approvalId: string): Promise<void> {
    await this.queue.add('execute', { approvalId }, { jobId: approvalId });
  }

  start(): void {
    const own = dedicatedConnection(this.opts.connection);
    this.own = own;
    this.worker = new Worker(QUEUE, (job: Job<{ approvalId: string }>, token?: string) => this.execute(job, token), {
      connection: own.connection,
      prefix: this.opts.prefix,
      concurrency: 4,
      // An execution whose process died is stalled; BullMQ's default fails it after one stall, leaving the
      // approval approved but never run. It runs again instead (executors look for an earlier effect first).
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      // Look for a dead process's executions every 5 s (BullMQ: 30 s) and hold a job's lock 10 s (BullMQ:
      // 30 s): an approved action whose process died runs within about 20 s. The lease still guards it.
      lockDuration: JOB_LOCK_MS,
      stalledInterval: 5_000,
    });
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'action worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }

  /** After a restart: overdue requests expire (cards updated); approved but unexecuted ones run, once. */
  async reconcile(): Promise<{ expired: number; resumed: number }> {
    const { expired, outboxIds } = await expireOverdue(this.opts.db);
    this.opts.onApproval?.('expired', expired.length);
    await this.opts.deliver(outboxIds);
    for (const a of expired) await this.opts.onFinished?.(a.id, false);
    const approved = await this.opts.db.select({ id: approvals.id }).from(approvals).where(eq(approvals.status, 'approved')).orderBy(asc(approvals.decidedAt));
    for (const a of approved) await this.enqueue(a.id);
    // A card posted just before a crash may still lack its full-text files (they follow the card).
    const waiting = await this.opts.db.select({ id: approvals.id }).from(approvals).where(and(eq(approvals.status, 'pending'), sql`${approvals.card} is not null`));
    for (const a of waiting) await this.opts.deliver(await queueFullTexts(this.opts.db, a.id));
    return { expired: expired.length, resumed: approved.length };
  }

  private async execute(job: Job<{ approvalId: string }>, token?: string): Promise<string> {
    const outcome = await this.run(job.data.approvalId, { attempt: job.attemptsMade + 1, attempts: job.opts.attempts ?? 1 });
    if (outcome !== 'busy') return outcome;
    // Another worker holds the execution lease (this job was redelivered while that one still runs):
    // look again later, when it has finished (and this one skips) or died (and its lease ran out).
    await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
    throw new DelayedError();
  }

  /**
   * Runs an approved approval at most once: under an execution lease (one runner at a time, across
   * processes), after looking for an earlier attempt's effect, and never again after an attempt that
   * may have reached the service unless the action is idempotent or can find its own earlier effect.
   * `busy`: another runner holds the lease. Throws to have the job retried; UnrecoverableError when final.
   */
  async run(approvalId: string, attempt = { attempt: 1, attempts: 1 }): Promise<string> {
    const lease = await takeLease(this.opts.connection, `${this.opts.prefix}:act:lease:${approvalId}`, LEASE_MS, this.opts.log);
    if (!lease) return 'busy';
    try {
      return await this.runLeased(approvalId, attempt);
    } finally {
      await lease.release();
    }
  }

  private async runLeased(approvalId: string, { attempt, attempts }: { attempt: number; attempts: number }): Promise<string> {
    const { db } = this.opts;
    const [a] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
    // Only an approved approval ever runs: a job for anything else (pending, denied, done) does nothing.
    if (!a || a.status !== 'approved') return `skipped (${a?.status ?? 'missing'})`;
    const log = this.opts.log.child({ approvalId: a.id, action: a.action, attempt });
    let action: AnyAction | undefined;
    try {
      if (paramsHash(a.workspaceId, a.action, a.params) !== a.paramsHash) throw new PermanentActionError('parameters changed since they were approved (hash mismatch); not run');
      const integrations = await loadIntegrations(db, this.opts.secrets, a.workspaceId);
      action = actionsFor(integrations).find((x) => x.name === a.action);
      const integration = action ? integrationFor(action, integrations) : undefined;
      if (!action || !integration) throw new PermanentActionError(`action ${a.action} is no longer configured in this workspace`);
      const params = action.params.safeParse(a.params);
      if (!params.success) throw new PermanentActionError('stored parameters no longer validate');
      const ctx = { approvalId: a.id, integration, signal: AbortSignal.timeout(this.opts.executeTimeoutMs ?? 30_000), approvedAt: a.decidedAt ?? undefined };
      // A crash mid-call leaves the job to run again: look for the earlier attempt's effect first.
      const earlier = action.findDone ? await action.findDone(ctx, params.data) : null;
      if (!earlier) await this.markExecuting(a, action, attempt);
      const result: ExecuteResult = earlier ?? (await action.execute(ctx, params.data));
      let verification: Verification;
      try {
        verification = await action.verify({ ...ctx, signal: AbortSignal.timeout(this.opts.executeTimeoutMs ?? 30_000) }, params.data, result);
      } catch (err) {
        verification = { ok: false, detail: `could not verify: ${(err as Error).message}` };
      }
      await this.finish(a, 'executed', redactDeep(result) as ExecuteResult, verification);
      log.info({ verified: verification.ok }, 'action executed');
      this.opts.onApproval?.('executed');
      return 'executed';
    } catch (err) {
      const retryable = !(err instanceof PermanentActionError) && (err instanceof ActionNotSentError || repeatable(action));
      let message = (err as Error).message;
      if (!retryable && !(err instanceof PermanentActionError) && attempt < attempts) {
        message += ' — not retried: the service answered, so it may have acted (an action is retried after an answer only when it is idempotent)';
      }
      if (retryable && attempt < attempts) {
        await audit(db, { approvalId: a.id, workspaceId: a.workspaceId, kind: 'attempt_failed', actor: 'tacit', detail: { attempt, error: message, notSent: err instanceof ActionNotSentError } });
        log.warn({ err: message }, 'action attempt failed; retrying');
        throw err;
      }
      await this.finish(a, 'failed', { summary: `failed: ${message}`, data: { error: message } }, null);
      log.warn({ err: message }, 'action failed');
      this.opts.onApproval?.('failed');
      throw new UnrecoverableError(message);
    }
  }

  /**
   * Records that an attempt is about to call the service. An earlier such record with no failure after
   * it means an attempt was interrupted mid-call (the process died): it may have acted, so an action
   * that can neither find its earlier effect nor be repeated safely is not called again.
   */
  private async markExecuting(a: ApprovalRow, action: AnyAction, attempt: number): Promise<void> {
    const trail = await this.opts.db
      .select({ kind: approvalAudit.kind })
      .from(approvalAudit)
      .where(and(eq(approvalAudit.approvalId, a.id), inArray(approvalAudit.kind, ['executing', 'attempt_failed'])));
    const interrupted = trail.filter((r) => r.kind === 'executing').length > trail.filter((r) => r.kind === 'attempt_failed').length;
    if (interrupted && !repeatable(action)) {
      throw new PermanentActionError('an earlier attempt was interrupted while it called the service and may have taken effect; not run again (at most once). Check the result by hand');
    }
    await audit(this.opts.db, { approvalId: a.id, workspaceId: a.workspaceId, kind: 'executing', actor: 'tacit', detail: { attempt } });
  }

  private async finish(a: ApprovalRow, status: 'executed' | 'failed', result: ExecuteResult, verification: Verification | null): Promise<void> {
    const card = await this.opts.db.transaction(async (tx) => {
      const [done] = await tx
        .update(approvals)
        .set({ status, result, verification, executedAt: sql`now()`, version: sql`${approvals.version} + 1` })
        .where(and(eq(approvals.id, a.id), eq(approvals.status, 'approved')))
        .returning();
      if (!done) return null;
      await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: status, actor: 'tacit', detail: { result: result.summary } });
      if (verification) await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: verification.ok ? 'verified' : 'verify_failed', actor: 'tacit', detail: { detail: verification.detail } });
      return queueCardUpdate(tx, done);
    });
    if (card) await this.opts.deliver([card]);
    await this.opts.onFinished?.(a.id, status === 'executed' && Boolean(verification?.ok));
  }
}

async function cardQueued(tx: Tx, workspaceId: string, incidentId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.idempotencyKey, `incident:${incidentId}:parent`)));
  return Boolean(row);
}

/** Where a request that belongs to no incident is asked: the channel of the first alert source, or the first channel. */
async function defaultChannel(tx: Tx, workspaceId: string): Promise<string | undefined> {
  const [source] = await tx.select({ channelId: sources.channelId }).from(sources).where(eq(sources.workspaceId, workspaceId)).orderBy(asc(sources.createdAt)).limit(1);
  if (source) return source.channelId;
  const [channel] = await tx.select({ id: channels.id }).from(channels).where(eq(channels.workspaceId, workspaceId)).orderBy(asc(channels.createdAt)).limit(1);
  return channel?.id;
}

