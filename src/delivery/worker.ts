// The delivery worker: sends outbox rows through the workspace's chat adapter, once. The outbox alone
// owns retries; a retry first asks the platform whether the earlier attempt already posted.
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { ChatError, ChatRateLimitedError, ChatRejectedError } from '../chat/errors.js';
import type { ChatAdapter, Platform, PostRequest } from '../chat/port.js';
import type { Anchor } from '../core/plan.js';
import type { MessageRef, OutgoingMessage } from '../core/message.js';
import type { Db } from '../db/client.js';
import { approvals, incidents, outbox, workspaces } from '../db/schema.js';
import { dedicatedConnection } from '../db/redis.js';
import { takeLease } from '../db/redis-lease.js';
import type { Logger } from '../log.js';

export interface DeliveryOptions {
  db: Db;
  connection: Redis;
  prefix: string;
  adapters: Partial<Record<Platform, ChatAdapter>>;
  log: Logger;
  concurrency?: number;
  attempts?: number;
  /** How long a thread reply waits between checks for its incident's parent card. */
  parentWaitMs?: number;
  /** Called after a message is delivered (memory verification hooks in here later). */
  onDelivered?: (outboxId: string) => void;
  /** Threads Tacit is answering in right now: proactive posts there wait for the answer. */
  threads?: ThreadGuard;
  /** Renders an approval card as it stands at delivery time (null: the approval is gone). */
  approvalCard?: (approvalId: string) => Promise<OutgoingMessage | null>;
  /** Told how each delivery attempt ended (metrics); `retried`: it failed and was queued again. */
  onOutcome?: (outboxId: string, outcome: Outcome | 'dead' | 'retried') => void;
}

export interface ThreadGuard {
  conversing(workspaceId: string, channelId: string, threadId: string): Promise<boolean>;
  endConversation(workspaceId: string, channelId: string, threadId: string): Promise<void>;
}

type Outcome = 'sent' | 'skipped' | 'already-sent';

/** `waits`: times it waited (nothing sent); `failures`: platform failures so far; `crashes`: anything else. */
interface DeliveryJob {
  outboxId: string;
  waits?: number;
  failures?: number;
  crashes?: number;
}

const QUEUE = 'deliver';
/**
 * A job whose process died (kill -9, OOM, a lost host) is stalled; BullMQ fails it after
 * `maxStalledCount` stalls (default 1). A crash is never a reason to give up on a message.
 */
const STALLS_ARE_RETRIED = Number.MAX_SAFE_INTEGER;
/** A killed process's jobs come back once their lock expires (30 s) and the next check runs. */
const STALLED_CHECK_MS = 5_000;
const JOB_LOCK_MS = 10_000;
/** A card's lock while it is posted or edited (renewed meanwhile). */
const CARD_LOCK_MS = 10_000;
/** Retries after failures that are not the platform's (database, Redis, a bug) back off up to this. */
const CRASH_BACKOFF_MAX_MS = 30_000;

export class Delivery {
  readonly queue: Queue;
  private worker: Worker | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  private workerConnection(): Redis {
    this.own = dedicatedConnection(this.opts.connection);
    return this.own.connection;
  }

  constructor(private readonly opts: DeliveryOptions) {
    this.queue = new Queue(QUEUE, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: opts.attempts ?? 8,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    });
  }

  /**
   * Enqueues delivery of committed outbox rows; the job id is the row id, so this is idempotent. A
   * finished job still holding the id (one that failed without a verdict, say, while its process went
   * down) would make the add a no-op for a row that is pending: it is removed first.
   */
  async enqueue(outboxIds: string[]): Promise<void> {
    if (outboxIds.length === 0) return;
    const states = await Promise.all(outboxIds.map((id) => this.queue.getJobState(id)));
    for (const [i, id] of outboxIds.entries()) {
      if (states[i] === 'failed' || states[i] === 'completed') await this.queue.remove(id);
    }
    await this.queue.addBulk(outboxIds.map((id) => ({ name: 'deliver', data: { outboxId: id }, opts: { jobId: id } })));
  }

  start(): void {
    this.worker = new Worker(QUEUE, (job, token) => this.process(job, token), {
      connection: this.workerConnection(),
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency ?? 16,
      maxStalledCount: STALLS_ARE_RETRIED,
      // A job's lock lasts 10 s (BullMQ: 30 s), renewed every 5 s while it runs, and jobs of dead processes
      // are looked for every 5 s (BullMQ: 30 s): a post a killed process was making goes out about 15 s later.
      lockDuration: JOB_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
    });
    this.worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError) return;
      this.opts.log.warn({ outboxId: job.data.outboxId, attempt: job.attemptsMade, err: err.message }, 'delivery job failed');
      void this.requeueIfPending(String(job.data.outboxId));
    });
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'delivery worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }

  /**
   * Only the processor gives up on a message, marking its row dead first (the platform refused it, or
   * failed on every attempt). A job that failed any other way — stalled past BullMQ's limit, its lock
   * lost, Redis gone while it was being retried — leaves its row pending, and is queued again.
   */
  private async requeueIfPending(id: string): Promise<void> {
    try {
      const [row] = await this.opts.db.select({ status: outbox.status }).from(outbox).where(eq(outbox.id, id));
      if (row?.status !== 'pending') return;
      await this.queue.remove(id);
      await this.queue.add('deliver', { outboxId: id }, { jobId: id, delay: 1_000 });
      this.opts.log.info({ outboxId: id }, 'delivery job failed without a verdict; queued again');
    } catch (err) {
      this.opts.log.error({ err, outboxId: id }, 'could not queue a failed delivery again; the outbox sweep will');
    }
  }

  private async markDead(id: string, error: string): Promise<void> {
    this.opts.onOutcome?.(id, 'dead');
    await this.opts.db.update(outbox).set({ status: 'dead', lastError: error }).where(eq(outbox.id, id)).catch((err: unknown) => {
      this.opts.log.error({ err, outboxId: id }, 'could not mark outbox row dead');
    });
  }

  /**
   * Runs one delivery and decides what a failure means: a wait (nothing sent, not an attempt), dead
   * (the platform refused, or failed every attempt), or a retry later. Failures that are not the
   * platform's — the database, Redis, a bug — are retried with backoff however often they happen.
   */
  private async process(job: Job<DeliveryJob>, token: string | undefined): Promise<Outcome> {
    const id = job.data.outboxId;
    try {
      const outcome = await this.deliver(id);
      this.opts.onOutcome?.(id, outcome);
      return outcome;
    } catch (err) {
      if (err instanceof WaitForParent || err instanceof WaitForConversation || err instanceof ChatRateLimitedError) {
        // Nothing was sent: a wait is not an attempt.
        await this.opts.db.update(outbox).set({ attempts: sql`greatest(${outbox.attempts} - 1, 0)` }).where(eq(outbox.id, id));
        // Waiting for a parent card backs off (its delivery promotes waiting replies at once), so a
        // burst of replies does not keep the workers busy re-checking.
        const waits = (job.data.waits ?? 0) + 1;
        const base = this.opts.parentWaitMs ?? 150;
        const delay = err instanceof ChatRateLimitedError ? err.retryAfterMs : Math.min(base * 2 ** Math.min(waits - 1, 6), 1_000);
        return this.retryLater(job, token, { waits }, delay);
      }
      const error = (err as Error).message;
      if (err instanceof ChatRejectedError || err instanceof Dead) {
        await this.markDead(id, error);
        throw new UnrecoverableError(error);
      }
      if (err instanceof ChatError) {
        const failures = (job.data.failures ?? 0) + 1;
        if (failures >= (this.opts.attempts ?? 8)) {
          await this.markDead(id, `failed on the platform ${failures} times; last: ${error}`);
          throw new UnrecoverableError(error);
        }
        this.opts.log.warn({ outboxId: id, failures, err: error }, 'delivery failed on the platform; retrying');
        await this.noteError(id, error);
        return this.retryLater(job, token, { failures }, 500 * 2 ** (failures - 1));
      }
      const crashes = (job.data.crashes ?? 0) + 1;
      this.opts.log.error({ outboxId: id, crashes, err }, 'delivery failed outside the platform; retrying');
      await this.noteError(id, error);
      return this.retryLater(job, token, { crashes }, Math.min(500 * 2 ** Math.min(crashes - 1, 10), CRASH_BACKOFF_MAX_MS));
    }
  }

  /** Puts the job back, delayed, with its counters; throwing DelayedError tells BullMQ it was moved. */
  private async retryLater(job: Job<DeliveryJob>, token: string | undefined, counters: Partial<DeliveryJob>, delayMs: number): Promise<never> {
    await job.updateData({ ...job.data, ...counters });
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  /** Best effort: the dashboard shows why a pending row is late (the database may be what failed). */
  private async noteError(id: string, error: string): Promise<void> {
    this.opts.onOutcome?.(id, 'retried');
    await this.opts.db.update(outbox).set({ lastError: error }).where(eq(outbox.id, id)).catch(() => undefined);
  }

  /** A workspace's platform never changes: looked up once per process. */
  private readonly platforms = new Map<string, Platform>();

  private async adapterFor(workspaceId: string): Promise<ChatAdapter | undefined> {
    let platform = this.platforms.get(workspaceId);
    if (!platform) {
      const [workspace] = await this.opts.db.select({ platform: workspaces.platform }).from(workspaces).where(eq(workspaces.id, workspaceId));
      if (!workspace) return undefined;
      platform = workspace.platform;
      if (this.platforms.size > 10_000) this.platforms.clear();
      this.platforms.set(workspaceId, platform);
    }
    return this.opts.adapters[platform];
  }

  /** Delivers one outbox row. Exposed for tests that drive delivery without the queue. */
  async deliver(outboxId: string): Promise<Outcome> {
    const { db } = this.opts;
    const [row] = await db
      .update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1` })
      .where(sql`${outbox.id} = ${outboxId} and ${outbox.status} = 'pending'`)
      .returning();
    if (!row) return 'already-sent';
    const adapter = await this.adapterFor(row.workspaceId);
    if (!adapter) throw new Dead(`no chat adapter for workspace ${row.workspaceId}`);
    const anchor = row.anchor as Anchor;
    if (anchor.type === 'approval_card') return this.deliverApprovalCard(row, anchor, adapter);
    const message = row.message as OutgoingMessage;
    const log = this.opts.log.child({ outboxId, workspaceId: row.workspaceId, decisionId: row.decisionId });

    const incident = row.incidentId
      ? (await db.select().from(incidents).where(eq(incidents.id, row.incidentId)))[0]
      : undefined;
    if (row.incidentId && !incident) throw new Dead(`incident ${row.incidentId} no longer exists`);

    if (row.kind === 'update') {
      if (!incident?.parentMessage) await this.waitForParent(row.incidentId);
      if (!incident) throw new WaitForParent();
      // One edit of a card at a time, across processes: an older version can never land last.
      const outcome = await this.withCardLock(incident.id, async (): Promise<'sent' | 'skipped'> => {
        const [current] = await db.select().from(incidents).where(eq(incidents.id, incident.id));
        const ref = current?.parentMessage;
        if (!current || !ref) throw new WaitForParent();
        if (row.incidentVersion !== null && current.cardVersion >= row.incidentVersion) {
          await db.update(outbox).set({ status: 'skipped', sentAt: new Date() }).where(eq(outbox.id, outboxId));
          return 'skipped';
        }
        await adapter.update(ref, message);
        await db.transaction(async (tx) => {
          await tx.update(outbox).set({ status: 'sent', sentAt: new Date(), sentMessage: ref }).where(eq(outbox.id, outboxId));
          await tx.update(incidents).set({ cardVersion: sql`greatest(${incidents.cardVersion}, ${row.incidentVersion ?? 0})` }).where(eq(incidents.id, incident.id));
        });
        return 'sent';
      });
      if (outcome === 'sent') this.opts.onDelivered?.(outboxId);
      else log.debug('card already shows a newer version; update skipped');
      return outcome;
    }

    let threadId: string | undefined;
    if (anchor.type === 'incident_thread') {
      if (!incident?.parentMessage) await this.waitForParent(row.incidentId);
      threadId = incident?.parentMessage?.messageId;
      if (!threadId) throw new WaitForParent();
    } else if (anchor.type === 'thread') {
      threadId = anchor.threadId;
    }
    const isReply = row.purpose === 'reply';
    if (threadId && !isReply && (await this.opts.threads?.conversing(row.workspaceId, row.channelId, threadId))) {
      throw new WaitForConversation();
    }

    // A push goes to the person's direct messages, opened (or found) when it is sent.
    const target = anchor.type === 'dm' ? await adapter.openDirect(row.workspaceId, anchor.personId) : row.channelId;
    // An earlier attempt may have posted before crashing: look before posting again.
    const since = await this.earlierAttempt(row);
    const earlier = since ? await adapter.findPosted({ channelId: target, idempotencyKey: row.idempotencyKey, threadId, since }) : null;
    const ref: MessageRef =
      earlier ?? (await this.post(adapter, row, since, { channelId: target, threadId, message, idempotencyKey: row.idempotencyKey }));
    await db.transaction(async (tx) => {
      await tx.update(outbox).set({ status: 'sent', sentAt: new Date(), sentMessage: ref }).where(eq(outbox.id, outboxId));
      if (anchor.type === 'incident_parent' && incident) {
        await tx
          .update(incidents)
          .set({ parentMessage: ref, cardVersion: sql`greatest(${incidents.cardVersion}, ${row.incidentVersion ?? 0})` })
          .where(eq(incidents.id, incident.id));
      }
    });
    if (anchor.type === 'incident_parent' && incident) await this.promoteWaiting(incident.id);
    if (isReply && threadId) await this.opts.threads?.endConversation(row.workspaceId, row.channelId, threadId);
    log.info({ earlier: Boolean(earlier), kind: row.kind, anchor: anchor.type }, 'delivered');
    this.opts.onDelivered?.(outboxId);
    return earlier ? 'already-sent' : 'sent';
  }

  /**
   * Approval cards: posted (in the incident's thread when it has one) and edited showing the
   * approval as it is when the edit is sent, so an edit that lands late can never show an older state.
   */
  private async deliverApprovalCard(row: typeof outbox.$inferSelect, anchor: Extract<Anchor, { type: 'approval_card' }>, adapter: ChatAdapter): Promise<Outcome> {
    const { db } = this.opts;
    const render = this.opts.approvalCard;
    if (!render) throw new Dead('approval cards cannot be rendered in this process');
    return this.withCardLock(anchor.approvalId, async () => {
      const [approval] = await db.select({ card: approvals.card }).from(approvals).where(eq(approvals.id, anchor.approvalId));
      const message = await render(anchor.approvalId);
      if (!approval || !message) throw new Dead(`approval ${anchor.approvalId} no longer exists`);
      if (row.kind === 'update') {
        if (!approval.card) throw new WaitForParent();
        await adapter.update(approval.card, message);
        await db.update(outbox).set({ status: 'sent', sentAt: new Date(), sentMessage: approval.card }).where(eq(outbox.id, row.id));
        return 'sent';
      }
      let threadId: string | undefined;
      if (anchor.incidentId) {
        const [incident] = await db.select({ parent: incidents.parentMessage }).from(incidents).where(eq(incidents.id, anchor.incidentId));
        if (!incident?.parent) await this.waitForParent(anchor.incidentId);
        threadId = incident?.parent?.messageId;
      }
      const since = await this.earlierAttempt(row);
      const earlier = since ? await adapter.findPosted({ channelId: row.channelId, idempotencyKey: row.idempotencyKey, threadId, since }) : null;
      const ref = earlier ?? (await this.post(adapter, row, since, { channelId: row.channelId, threadId, message, idempotencyKey: row.idempotencyKey }));
      await db.transaction(async (tx) => {
        await tx.update(outbox).set({ status: 'sent', sentAt: new Date(), sentMessage: ref }).where(eq(outbox.id, row.id));
        await tx.update(approvals).set({ card: ref }).where(eq(approvals.id, anchor.approvalId));
      });
      this.opts.onDelivered?.(row.id);
      return earlier ? 'already-sent' : 'sent';
    });
  }

  /**
   * When an earlier attempt to post this row began, if one did (it may have reached the platform);
   * otherwise records that this one begins now, before anything is sent. Waits (a parent card, a
   * conversation, a rate limit) do not count, so they never make a retry look for a post that cannot exist.
   */
  private async earlierAttempt(row: typeof outbox.$inferSelect): Promise<Date | null> {
    if (row.firstAttemptAt) return row.firstAttemptAt;
    // This process's clock, not the database's: adapters compare it with their own `Date.now()`.
    const now = new Date();
    const [set] = await this.opts.db
      .update(outbox)
      .set({ firstAttemptAt: sql`coalesce(${outbox.firstAttemptAt}, ${now.toISOString()}::timestamptz)` })
      .where(eq(outbox.id, row.id))
      .returning({ at: outbox.firstAttemptAt });
    // Set meanwhile by another run of this row: that one may have posted.
    return set?.at && set.at.getTime() !== now.getTime() ? set.at : null;
  }

  /**
   * Posts. A rate limit (the adapter's pacing, or the platform's 429) means nothing was posted: a first
   * attempt stopped by one does not count as begun, so its retry does not look for an earlier post
   * (on Slack's 2026 history tier such a look costs a minute).
   */
  private async post(adapter: ChatAdapter, row: typeof outbox.$inferSelect, since: Date | null, request: PostRequest): Promise<MessageRef> {
    try {
      return await adapter.post(request);
    } catch (err) {
      if (err instanceof ChatRateLimitedError && since === null) {
        await this.opts.db.update(outbox).set({ firstAttemptAt: null }).where(eq(outbox.id, row.id));
      }
      throw err;
    }
  }

  /**
   * Runs `work` holding the card's lock, across processes; a card locked by someone else waits (the
   * job is retried shortly). A Redis lock, not a row lock: the adapter call must not run inside a
   * database transaction.
   */
  private async withCardLock<T>(cardId: string, work: () => Promise<T>): Promise<T> {
    // Renewed while the post or edit runs, so a dead holder's lock frees within CARD_LOCK_MS.
    const lease = await takeLease(this.opts.connection, `${this.opts.prefix}:card-lock:${cardId}`, CARD_LOCK_MS, this.opts.log);
    if (!lease) throw new WaitForParent();
    try {
      return await work();
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** The parent card was never delivered and never will be: messages hanging off it cannot go out. */
  private async waitForParent(incidentId: string | null): Promise<never> {
    if (incidentId) {
      const [parent] = await this.opts.db
        .select({ status: outbox.status })
        .from(outbox)
        .where(sql`${outbox.incidentId} = ${incidentId} and ${outbox.idempotencyKey} = ${`incident:${incidentId}:parent`}`);
      if (parent?.status === 'dead') throw new Dead(`the parent card of incident ${incidentId} could not be delivered`);
    }
    throw new WaitForParent();
  }

  /** Messages waiting for this incident's parent card can go now rather than at their next check. */
  private async promoteWaiting(incidentId: string): Promise<void> {
    const waiting = await this.opts.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(sql`${outbox.incidentId} = ${incidentId} and ${outbox.status} = 'pending'`);
    const unqueued: string[] = [];
    for (const { id } of waiting) {
      const job = await this.queue.getJob(id);
      if (!job) unqueued.push(id);
      else if (await job.isDelayed()) await job.promote().catch(() => undefined);
    }
    // Replies the tick held back until their card was out.
    await this.enqueue(unqueued);
  }
}

class WaitForParent extends Error {
  constructor() {
    super('waiting for the incident parent card');
  }
}

class Dead extends Error {}
class WaitForConversation extends Error {
  constructor() {
    super('waiting for Tacit to finish answering in this thread');
  }
}
