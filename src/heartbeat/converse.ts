// Conversations: answering a person who mentioned Tacit, in the thread they wrote in. Runs beside
// the heartbeat as its own worker; the reply goes through the outbox like every message.
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Brain, MemoryView } from '../brain/port.js';
import type { Clock } from '../core/clock.js';
import { noUsage, type Reply } from '../core/decisions.js';
import { chatEventSchema, type ChatEvent } from '../core/events.js';
import { botFooter } from '../core/incident-card.js';
import type { Db } from '../db/client.js';
import { approvals, channels, decisions, events, incidents, outbox, sources, workspaces } from '../db/schema.js';
import { queueMessages } from '../delivery/outbox.js';
import { dedicatedConnection } from '../db/redis.js';
import type { Logger } from '../log.js';
import { parseDuration, readSettings } from '../core/settings.js';
import { sharedMatchers } from '../core/silence.js';
import { loadIncidents, toIncident } from './incident-rows.js';
import type { TickActions } from './tick.js';
import type { HeartbeatSignals } from './signals.js';
import { explainThread } from './why.js';

export interface ConversationOptions {
  db: Db;
  connection: Redis;
  prefix: string;
  brain: Brain;
  clock: Clock;
  signals: HeartbeatSignals;
  log: Logger;
  deliver(outboxIds: string[]): Promise<void>;
  /** The workspace's memory, checked against live state before the reply sees it. */
  memory?: { view(workspaceId: string, now: Date): Promise<MemoryView | undefined> };
  /** Turns a person's request ("@tacit silence this for 1h") into an approval; nothing runs without one. */
  actions?: Pick<TickActions, 'available' | 'propose'>;
  /** Shows "looking things up" in the thread while an answer is prepared (the adapter's `working`); best effort. */
  working?(workspaceId: string, channelId: string, threadId: string, status: string): Promise<void>;
}

/** `silence`, `silence this for 2h`, `silence it 30m`: a person asking, in an incident's thread. */
const SILENCE_REQUEST = /^silence(?:\s+(?:this|it))?(?:\s+for)?(?:\s+(\d+\s*[smhd]))?\s*[.!]?$/i;

const QUEUE = 'converse';

export class Conversations {
  readonly queue: Queue<{ eventId: number; workspaceId: string }>;
  private worker: Worker | undefined;
  private own: ReturnType<typeof dedicatedConnection> | undefined;

  private workerConnection(): Redis {
    this.own = dedicatedConnection(this.opts.connection);
    return this.own.connection;
  }

  constructor(private readonly opts: ConversationOptions) {
    this.queue = new Queue(QUEUE, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
    });
    // While Redis is away the connection reports every retry; the outage shows on /readyz, not as noise.
    this.queue.on('error', (err) => opts.log.debug({ err: err.message }, 'conversation queue: redis error'));
  }

  /** Idempotent per event: a redelivered mention is answered once. */
  async enqueue(eventId: number, workspaceId: string): Promise<void> {
    await this.queue.add('reply', { eventId, workspaceId }, { jobId: `mention.${eventId}` });
  }

  start(): void {
    this.worker = new Worker(QUEUE, (job) => this.answer(job.data.eventId), {
      connection: this.workerConnection(),
      prefix: this.opts.prefix,
      concurrency: 4,
      // An answer whose process died is stalled; BullMQ's default fails it after one stall. Answer again.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      // A person is waiting: a dead process's answer is taken over within 15 s, not BullMQ's 30–60 s. The
      // lock is renewed every 5 s while the answer runs, however long the model takes; it lapses only
      // when the process is gone (or its event loop stalls for 10 s).
      lockDuration: 10_000,
      stalledInterval: 5_000,
    });
    this.worker.on('failed', (job, err) => this.opts.log.error({ eventId: job?.data.eventId, err }, 'answering a mention failed'));
    this.worker.on('error', (err) => this.opts.log.error({ err }, 'conversation worker error'));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.own?.close();
    await this.queue.close();
  }

  private async showWorking(workspaceId: string, channelId: string, threadId: string, status: string): Promise<void> {
    await this.opts.working?.(workspaceId, channelId, threadId, status).catch((err: unknown) =>
      this.opts.log.debug({ err, workspaceId, channelId }, 'could not show that Tacit is working on an answer'),
    );
  }

  async answer(eventId: number): Promise<string | null> {
    const { db } = this.opts;
    const [row] = await db.select().from(events).where(eq(events.id, eventId));
    if (!row) throw new UnrecoverableError(`event ${eventId} does not exist`);
    const parsed = chatEventSchema.safeParse(row.payload);
    if (!parsed.success || parsed.data.kind !== 'chat.mention') throw new UnrecoverableError(`event ${eventId} is not a mention`);
    const mention = parsed.data;
    const workspaceId = row.workspaceId;

    const threadId = mention.threadId ?? mention.messageId;
    // While Tacit answers in this thread, proactive posts to it wait (delivery checks this mark).
    await this.opts.signals.beginConversation(workspaceId, mention.channelId, threadId);
    await this.showWorking(workspaceId, mention.channelId, threadId, 'is looking things up…');
    let queuedReply = false;
    try {
      const silence = SILENCE_REQUEST.exec(mention.text.trim());
      const reply = /^why\b/i.test(mention.text.trim())
        ? { text: await explainThread(db, workspaceId, mention.threadId, this.opts.clock.now()), usage: noUsage, brain: 'why' }
        : silence
          ? { text: await this.requestSilence(eventId, workspaceId, mention, silence[1] ?? '1h'), usage: noUsage, brain: 'request' }
          : await this.replyWithBrain(workspaceId, mention).then((r) => ({ ...r, brain: r.brain ?? this.opts.brain.name }));
      const decisionId = await this.commitReply(eventId, workspaceId, mention, threadId, reply);
      queuedReply = decisionId !== null;
      return decisionId;
    } finally {
      // Delivery releases the mark once the reply is posted; if nothing was queued, release it now.
      if (!queuedReply) {
        await this.opts.signals.endConversation(workspaceId, mention.channelId, threadId);
        await this.showWorking(workspaceId, mention.channelId, threadId, '');
      }
    }
  }

  /**
   * A person asks to silence the incident whose thread they are in: an approval request made by them
   * (so under the two-person rule someone else must approve), for the alerts' shared labels.
   */
  private async requestSilence(eventId: number, workspaceId: string, mention: ChatEvent, duration: string): Promise<string> {
    const { db, actions } = this.opts;
    const ms = parseDuration(duration);
    if (!ms || ms > 7 * 86_400_000) return 'Say how long, from one minute to seven days: `@tacit silence this for 1h`.';
    if (!actions || !(await actions.available(workspaceId)).some((a) => a.name === 'alertmanager.silence')) {
      return 'I cannot silence alerts here: no Alertmanager is configured for this workspace.';
    }
    const [row] = mention.threadId
      ? await db.select().from(incidents).where(and(eq(incidents.workspaceId, workspaceId), sql`${incidents.parentMessage}->>'messageId' = ${mention.threadId}`))
      : [];
    if (!row) return 'Ask me inside the thread of the incident you want silenced.';
    const incident = toIncident(row);
    const matchers = sharedMatchers(incident);
    if (matchers.length === 0) return 'This incident has no alert labels I could silence it by.';
    const minutes = Math.ceil(ms / 60_000);
    const decisionId = `mention_${eventId}`;
    const { notes, outboxIds, earlier } = await db.transaction(async (tx) => {
      // This job may run again (its process died after this commit; BullMQ hands the stalled job to
      // another): the approval asked for then is the answer, not a second one. The incident row lock
      // keeps two runs from both finding none.
      await tx.select({ id: incidents.id }).from(incidents).where(eq(incidents.id, incident.id)).for('update');
      const [earlier] = await tx.select({ id: approvals.id }).from(approvals).where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.decisionId, decisionId))).limit(1);
      if (earlier) {
        const queued = await tx.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.decisionId, decisionId), eq(outbox.status, 'pending')));
        return { notes: [], outboxIds: queued.map((r) => r.id), earlier: true };
      }
      return { ...(await actions.propose(tx, {
        workspaceId,
        decisionId,
        requestedBy: mention.author.id,
        incidents: new Map([[incident.id, incident]]),
        now: this.opts.clock.now(),
        intents: [{
          type: 'propose_action', action: 'alertmanager.silence', incidentId: incident.id,
          params: { matchers, durationMinutes: minutes, comment: `Asked by ${mention.author.name}: ${incident.title}` },
          reason: `${mention.author.name} asked to silence "${incident.title}" for ${duration}.`,
        }],
      })), earlier: false };
    });
    await this.opts.deliver(outboxIds);
    if (!earlier && outboxIds.length === 0) return `I could not ask for that: ${notes.join('; ')}`;
    return `I asked for approval to silence ${matchers.map((m) => `${m.name}=${m.value}`).join(', ')} for ${duration}; nothing happens until an approver presses Approve on the card.`;
  }

  private async replyWithBrain(workspaceId: string, mention: ChatEvent) {
    const openIncidents = await loadIncidents(this.opts.db, workspaceId, []);
    const watching = await this.opts.db
      .select({ kind: sources.kind, channelName: channels.name })
      .from(sources)
      .innerJoin(channels, eq(channels.id, sources.channelId))
      .where(eq(sources.workspaceId, workspaceId));
    const now = this.opts.clock.now();
    const memory = await this.opts.memory?.view(workspaceId, now);
    const [workspace] = await this.opts.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
    return this.opts.brain.reply({
      workspaceId, now, timezone: readSettings(workspace?.settings).timezone, asker: mention.author, text: mention.text, openIncidents, watching, ...(memory ? { memory } : {}),
      lookups: {
        recentEvents: (limit) => this.recentEvents(workspaceId, limit, undefined),
        repoActivity: (limit) => this.recentEvents(workspaceId, limit, 'repo'),
      },
    });
  }

  private async recentEvents(workspaceId: string, limit: number, kind: string | undefined): Promise<string[]> {
    const rows = await this.opts.db
      .select({ kind: events.kind, payload: events.payload, at: events.occurredAt })
      .from(events)
      .where(kind ? and(eq(events.workspaceId, workspaceId), eq(events.kind, kind)) : and(eq(events.workspaceId, workspaceId), ne(events.kind, 'chat.message')))
      .orderBy(desc(events.id))
      .limit(Math.min(limit, 50));
    return rows.map((r) => {
      const p = (r.payload ?? {}) as Record<string, unknown>;
      const what = r.kind === 'repo' ? `${String(p.repo)}: ${String(p.title)}` : r.kind === 'alert' ? `${String(p.title)} ${String(p.status)} (${String(p.severity)})` : r.kind;
      return `${r.at.toISOString()} ${r.kind} ${what}`;
    });
  }

  private async commitReply(eventId: number, workspaceId: string, mention: ChatEvent, threadId: string, reply: Reply & { brain: string }): Promise<string | null> {
    const { db } = this.opts;

    const decisionId = `dec_${randomUUID()}`;
    const queued = await db.transaction(async (tx) => {
      const result = await queueMessages(tx, workspaceId, decisionId, [
        {
          idempotencyKey: `reply:${eventId}`,
          purpose: 'reply',
          kind: 'post',
          channelId: mention.channelId,
          anchor: { type: 'thread', threadId },
          incidentId: null,
          incidentVersion: null,
          // Model-written Markdown, streamed to the asker where the platform streams answers.
          message: { text: reply.text, blocks: [{ kind: 'section', text: reply.text, markdown: true }, { kind: 'context', text: botFooter(decisionId) }], answerTo: mention.author.id },
        },
      ]);
      if (result.inserted.length === 0) return result; // answered before
      await tx.insert(decisions).values({
        id: decisionId,
        workspaceId,
        tickId: `mention_${eventId}`,
        trigger: 'mention',
        brain: reply.brain,
        outcome: 'spoke',
        reasons: [`${mention.author.name} mentioned Tacit`],
        eventIds: [eventId],
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        cacheReadTokens: reply.usage.cacheReadTokens,
        cacheWriteTokens: reply.usage.cacheWriteTokens,
        costMicroUsd: reply.usage.costMicroUsd,
      });
      return result;
    });
    const ids = queued.inserted.map((r) => r.id);
    await this.opts.deliver(ids);
    if (ids.length === 0) return null;
    // Replies cost tokens too: counted with the ticks' in /metrics and the dashboard's counters.
    const u = reply.usage;
    await this.opts.signals.count(workspaceId, {
      replies: 1, model_calls: u.modelCalls, tokens: u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens, cost_micro_usd: u.costMicroUsd,
    });
    this.opts.log.info({ workspaceId, decisionId, eventId }, 'answered a mention');
    return decisionId;
  }
}
