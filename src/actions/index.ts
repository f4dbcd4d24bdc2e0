// Actions: what the brain may ask for, the approvals people decide, and the worker that executes an
// approved action exactly once (BullMQ job id = approval id), verifies it and reports on the card.
// Authority comes only from a signed click by a person the approval's policy names.
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { ChatAdapter, InboundInteraction, InteractionResponse } from '../chat/port.js';
import type { ActionInfo, ApproverPolicy } from '../core/actions.js';
import { APPROVE_ACTION_ID } from '../core/approval-card.js';
import type { Intent } from '../core/decisions.js';
import type { Incident } from '../core/incidents.js';
import type { Anchor } from '../core/plan.js';
import { redactDeep } from '../core/redact.js';
import { readSettings } from '../core/settings.js';
import type { Db, Tx } from '../db/client.js';
import { approvals, channels, outbox, sources, workspaces } from '../db/schema.js';
import { dedicatedConnection } from '../db/redis.js';
import type { SecretBox } from '../db/secret-box.js';
import type { TickActions } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';
import { audit, describePolicy, expireOverdue, newApprovalId, paramsHash, queueCardUpdate, type ApprovalRow } from './approvals.js';
import { loadIntegrations } from './integrations.js';
import { actionsFor, describeAction, integrationFor, PermanentActionError, type ExecuteResult, type Verification } from './registry.js';

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
  /** Executor attempts before an action is reported failed. */
  attempts?: number;
  backoffMs?: number;
  executeTimeoutMs?: number;
}

const QUEUE = 'act';
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
    const integrations = await loadIntegrations(this.opts.db, this.opts.secrets, req.workspaceId);
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

  /** A click on Approve or Deny: authorise, then one atomic transition; everything else is explained privately. */
  async decide(click: InboundInteraction, adapter: ChatAdapter): Promise<InteractionResponse> {
    const { db } = this.opts;
    const approve = click.actionId === APPROVE_ACTION_ID;
    const actor = click.user.id;
    const refuse = async (reason: string, approvalId = click.value): Promise<InteractionResponse> => {
      await audit(db, { approvalId, workspaceId: click.workspaceId, kind: 'refused', actor, detail: { reason, name: click.user.name, click: approve ? 'approve' : 'deny', external: Boolean(click.user.external) } });
      this.opts.log.info({ approvalId, actor, reason }, 'approval click refused');
      return { privateText: reason };
    };
    // Scoped to the workspace the click came from: an id from elsewhere is simply not found.
    const [a] = await db.select().from(approvals).where(and(eq(approvals.id, click.value), eq(approvals.workspaceId, click.workspaceId)));
    if (!a) return refuse('I cannot find that approval in this workspace; nothing was done.');
    if (click.user.external) return refuse('People from other organisations cannot approve or deny actions here; nothing was done.', a.id);
    const policy = a.approverPolicy as ApproverPolicy;
    if (!(await this.authorised(policy, click, adapter))) {
      return refuse(`You are not one of the people who may decide this (${describePolicy(policy)}); nothing was done.`, a.id);
    }
    if (approve && policy.twoPerson && a.requestedBy === actor) return refuse('You asked for this action, so someone else must approve it (two-person rule); nothing was done.', a.id);
    if (paramsHash(a.workspaceId, a.action, a.params) !== a.paramsHash) {
      return refuse('This approval\'s parameters no longer match what was asked for; it cannot be approved. Nothing was done.', a.id);
    }
    const result = await db.transaction(async (tx) => {
      const [decided] = await tx
        .update(approvals)
        .set({ status: approve ? 'approved' : 'denied', decidedBy: actor, decidedAt: sql`now()`, version: sql`${approvals.version} + 1` })
        .where(and(eq(approvals.id, a.id), eq(approvals.status, 'pending'), sql`${approvals.expiresAt} > now()`))
        .returning();
      if (!decided) return null;
      await audit(tx, { approvalId: a.id, workspaceId: a.workspaceId, kind: approve ? 'approved' : 'denied', actor, detail: { name: click.user.name } });
      const card = await queueCardUpdate(tx, decided);
      return { decided, card };
    });
    if (!result) return this.explainUnchanged(a.id, click, refuse);
    if (result.card) await this.opts.deliver([result.card]);
    if (!approve) {
      await this.opts.onFinished?.(a.id, false);
      return { privateText: `Denied: ${a.action} will not run.` };
    }
    await this.enqueue(a.id);
    return { privateText: `Approved: running ${a.action} now. The card will show the result.` };
  }

  /** Why a click changed nothing: decided already, or expired (expiring it now if the sweep has not). */
  private async explainUnchanged(id: string, click: InboundInteraction, refuse: (reason: string, approvalId?: string) => Promise<InteractionResponse>): Promise<InteractionResponse> {
    const [now] = await this.opts.db.select().from(approvals).where(eq(approvals.id, id));
    if (!now) return refuse('That approval no longer exists; nothing was done.', id);
    if (now.status === 'pending') {
      const { outboxIds } = await expireOverdue(this.opts.db);
      await this.opts.deliver(outboxIds);
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
    this.worker = new Worker(QUEUE, (job: Job<{ approvalId: string }>) => this.execute(job), {
      connection: own.connection,
      prefix: this.opts.prefix,
      concurrency: 4,
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
    await this.opts.deliver(outboxIds);
    for (const a of expired) await this.opts.onFinished?.(a.id, false);
    const approved = await this.opts.db.select({ id: approvals.id }).from(approvals).where(eq(approvals.status, 'approved')).orderBy(asc(approvals.decidedAt));
    for (const a of approved) await this.enqueue(a.id);
    return { expired: expired.length, resumed: approved.length };
  }

  private async execute(job: Job<{ approvalId: string }>): Promise<string> {
    const { db } = this.opts;
    const [a] = await db.select().from(approvals).where(eq(approvals.id, job.data.approvalId));
    // Only an approved approval ever runs: a job for anything else (pending, denied, done) does nothing.
    if (!a || a.status !== 'approved') return `skipped (${a?.status ?? 'missing'})`;
    const log = this.opts.log.child({ approvalId: a.id, action: a.action, attempt: job.attemptsMade + 1 });
    const attempts = job.opts.attempts ?? 1;
    try {
      if (paramsHash(a.workspaceId, a.action, a.params) !== a.paramsHash) throw new PermanentActionError('parameters changed since they were approved (hash mismatch); not run');
      const integrations = await loadIntegrations(db, this.opts.secrets, a.workspaceId);
      const action = actionsFor(integrations).find((x) => x.name === a.action);
      const integration = action ? integrationFor(action, integrations) : undefined;
      if (!action || !integration) throw new PermanentActionError(`action ${a.action} is no longer configured in this workspace`);
      const params = action.params.safeParse(a.params);
      if (!params.success) throw new PermanentActionError('stored parameters no longer validate');
      const ctx = { approvalId: a.id, integration, signal: AbortSignal.timeout(this.opts.executeTimeoutMs ?? 30_000), approvedAt: a.decidedAt ?? undefined };
      // A crash mid-call leaves the job to run again: look for the earlier attempt's effect first.
      const earlier = action.findDone ? await action.findDone(ctx, params.data) : null;
      const result: ExecuteResult = earlier ?? (await action.execute(ctx, params.data));
      let verification: Verification;
      try {
        verification = await action.verify({ ...ctx, signal: AbortSignal.timeout(this.opts.executeTimeoutMs ?? 30_000) }, params.data, result);
      } catch (err) {
        verification = { ok: false, detail: `could not verify: ${(err as Error).message}` };
      }
      await this.finish(a, 'executed', redactDeep(result) as ExecuteResult, verification);
      log.info({ verified: verification.ok }, 'action executed');
      return 'executed';
    } catch (err) {
      const message = (err as Error).message;
      const final = err instanceof PermanentActionError || job.attemptsMade + 1 >= attempts;
      if (!final) {
        await audit(db, { approvalId: a.id, workspaceId: a.workspaceId, kind: 'attempt_failed', actor: 'tacit', detail: { attempt: job.attemptsMade + 1, error: message } });
        log.warn({ err: message }, 'action attempt failed; retrying');
        throw err;
      }
      await this.finish(a, 'failed', { summary: `failed: ${message}`, data: { error: message } }, null);
      log.warn({ err: message }, 'action failed');
      throw new UnrecoverableError(message);
    }
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

