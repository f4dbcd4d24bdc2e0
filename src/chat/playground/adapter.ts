// The playground adapter: a team channel stored in Postgres and shown in a browser, behind the same
// ChatAdapter port as Slack and Discord. Live updates go to the page as server-sent events.
import { randomUUID } from 'node:crypto';
import { asc, desc, eq, gt, like, or, sql } from 'drizzle-orm';
import express, { type Request, type Response, type Router } from 'express';
import { systemClock, type Clock } from '../../core/clock.js';
import type { MessageRef, OutgoingMessage } from '../../core/message.js';
import type { Db } from '../../db/client.js';
import type { HttpAccess, Principal } from '../../http/access.js';
import { playgroundMessages } from '../../db/schema.js';
import type { Logger } from '../../log.js';
import { ChatRejectedError } from '../errors.js';
import type { ChatAdapter, InboundHandlers, PostedQuery, PostRequest } from '../port.js';
import { DEMO_ALERTMANAGER_PATH, DemoAlertmanager } from './demo-alertmanager.js';
import { playgroundPage } from './page.js';
import { parseMention } from './parse.js';
import { render, renderPrivate } from './render.js';
import { sampleAlertmanagerPayload, type SampleOccurrence } from './sample-alert.js';
import {
  PLAYGROUND_APPROVERS_GROUP, PLAYGROUND_CHANNEL, PLAYGROUND_WORKSPACE_ID, TACIT_USER, clickSchema, dmChannel, playgroundUsers, postMessageSchema,
  sampleAlertSchema, type WireMessage,
} from './types.js';
import { findUser } from './verify.js';

type Row = typeof playgroundMessages.$inferSelect;

export interface PlaygroundOptions {
  db: Db;
  log: Logger;
  /** Who may open the page and post (routes() needs it): see http/access.ts. It has no login of its own. */
  access?: HttpAccess;
  /** How often open pages look for messages written by other Tacit processes. */
  pollMs?: number;
  clock?: Clock;
}

export interface SampleTarget {
  url: string;
  token: string;
}

export class PlaygroundAdapter implements ChatAdapter {
  readonly platform = 'playground' as const;
  private handlers: InboundHandlers | undefined;
  private readonly clients = new Set<Response>();
  private lastVersion = 0;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private poller: NodeJS.Timeout | undefined;
  private sampleTarget: SampleTarget | undefined;
  private sample: SampleOccurrence | undefined;
  /** The demo Alertmanager the playground workspace's silences go to when no real one is configured. */
  readonly demoAlertmanager: DemoAlertmanager;

  constructor(private readonly opts: PlaygroundOptions) {
    this.demoAlertmanager = new DemoAlertmanager(opts.clock ?? systemClock);
  }

  async start(handlers: InboundHandlers): Promise<void> {
    this.handlers = handlers;
    const [latest] = await this.opts.db.select({ v: playgroundMessages.version }).from(playgroundMessages).orderBy(desc(playgroundMessages.version)).limit(1);
    this.lastVersion = latest?.v ?? 0;
    this.poller = setInterval(() => {
      if (this.clients.size > 0) this.pump();
    }, this.opts.pollMs ?? 1_000);
    this.poller.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.poller);
    for (const res of this.clients) res.end();
    this.clients.clear();
    await this.pumping;
  }

  /** Where "send sample alert" posts: the real webhook route and the playground source's token. */
  setSampleTarget(target: SampleTarget): void {
    this.sampleTarget = target;
  }

  async post(request: PostRequest): Promise<MessageRef> {
    const { text, blocks } = render(request.message);
    const id = `pm_${randomUUID()}`;
    const inserted = await this.opts.db
      .insert(playgroundMessages)
      .values({
        id,
        channelId: request.channelId,
        threadId: request.threadId ?? null,
        authorId: TACIT_USER.id,
        authorName: TACIT_USER.name,
        isBot: true,
        text,
        blocks,
        idempotencyKey: request.idempotencyKey,
      })
      .onConflictDoNothing({ target: playgroundMessages.idempotencyKey })
      .returning({ id: playgroundMessages.id });
    this.pump();
    if (inserted[0]) return { channelId: request.channelId, messageId: inserted[0].id };
    const earlier = await this.findPosted({ channelId: request.channelId, idempotencyKey: request.idempotencyKey, since: new Date(0) });
    if (!earlier) throw new Error(`playground message with key ${request.idempotencyKey} vanished`);
    return earlier;
  }

  async update(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const { text, blocks } = render(message);
    await this.opts.db
      .update(playgroundMessages)
      .set({ text, blocks, editedAt: new Date(), version: sql`nextval('playground_version_seq')` })
      .where(eq(playgroundMessages.id, ref.messageId));
    this.pump();
  }

  /** A person's direct-message channel in the playground (the page shows it to that person only). */
  async openDirect(_workspaceId: string, personId: string): Promise<string> {
    if (!findUser(personId)) throw new ChatRejectedError('user_not_found', `no playground user ${personId}`);
    return dmChannel(personId);
  }

  /** Playground has no ephemeral messages: private notes go to the person's direct messages. */
  async postPrivate(_channelId: string, personId: string, text: string): Promise<void> {
    if (!findUser(personId)) return;
    await this.opts.db.insert(playgroundMessages).values({
      id: `pm_${randomUUID()}`, channelId: dmChannel(personId), authorId: TACIT_USER.id, authorName: TACIT_USER.name, isBot: true, text: render({ text }).text,
    });
    this.pump();
  }

  /** The playground's people are fixed: their names are known without asking anyone. */
  async personName(_workspaceId: string, personId: string): Promise<string | null> {
    return findUser(personId)?.name ?? null;
  }

  /** The playground knows one group, `approvers`: the users marked as approvers. */
  async inGroup(_workspaceId: string, personId: string, groupId: string): Promise<boolean> {
    return groupId === PLAYGROUND_APPROVERS_GROUP && Boolean(findUser(personId)?.approver);
  }

  /** Exact: the key is unique among playground messages, whenever it was posted. */
  async findPosted({ channelId, idempotencyKey }: PostedQuery): Promise<MessageRef | null> {
    const [row] = await this.opts.db
      .select({ id: playgroundMessages.id })
      .from(playgroundMessages)
      .where(eq(playgroundMessages.idempotencyKey, idempotencyKey));
    return row ? { channelId, messageId: row.id } : null;
  }

  routes(): Router {
    const access = this.opts.access;
    if (!access) throw new Error('the playground routes need an access policy (PlaygroundOptions.access)');
    const router = express.Router();
    // Tacit's Alertmanager executor calls the demo's API over loopback, without a browser session.
    const page = access.guard('page');
    const machine = access.machineGuard();
    router.use(DEMO_ALERTMANAGER_PATH, (req, res, next) => (req.path === '/' ? page(req, res, next) : machine(req, res, next)), this.demoAlertmanager.routes());
    // You pick who you are in the playground, so it is open only to the admin (token or login) or this machine.
    const api = access.guard('api');
    router.use('/playground', (req, res, next) => (req.path === '/' ? page(req, res, next) : api(req, res, next)));
    router.get('/playground', async (_req, res) => {
      const csrf = await access.pageCsrf(res, res.locals.principal as Principal);
      res.type('html').setHeader('cache-control', 'no-store').send(playgroundPage(csrf));
    });
    router.get('/playground/api/state', async (_req, res) => {
      const rows = await this.opts.db
        .select()
        .from(playgroundMessages)
        .where(or(eq(playgroundMessages.channelId, PLAYGROUND_CHANNEL.id), like(playgroundMessages.channelId, dmChannel('%'))))
        .orderBy(asc(playgroundMessages.seq))
        .limit(2000);
      res.json({ users: playgroundUsers, channel: PLAYGROUND_CHANNEL, tacit: TACIT_USER, messages: rows.map(toWire) });
    });
    router.get('/playground/api/events', (req, res) => this.subscribe(req, res));
    router.post('/playground/api/messages', express.json({ limit: '64kb' }), (req, res) => this.receiveMessage(req, res));
    router.post('/playground/api/actions', express.json({ limit: '16kb' }), (req, res) => this.receiveClick(req, res));
    router.post('/playground/api/sample-alert', express.json({ limit: '1kb' }), (req, res) => this.sendSampleAlert(req, res));
    return router;
  }

  private subscribe(req: Request, res: Response): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private async receiveMessage(req: Request, res: Response): Promise<void> {
    const parsed = postMessageSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => i.message).join('; ') });
      return;
    }
    const user = findUser(parsed.data.userId);
    if (!user) {
      res.status(400).json({ error: `unknown playground user ${parsed.data.userId}` });
      return;
    }
    const slash = /^\/tacit(?:\s+([\s\S]*))?$/i.exec(parsed.data.text);
    if (slash) {
      // Like a slash command: not posted in the channel, answered only to the person who ran it.
      const response = (await this.handlers?.command({
        workspaceId: PLAYGROUND_WORKSPACE_ID,
        channelId: parsed.data.channelId,
        user: { id: user.id, name: user.name, admin: user.admin },
        text: slash[1] ?? '',
        raw: parsed.data,
      })) ?? {};
      res.status(200).json({ command: true, ...renderPrivate(response) });
      return;
    }
    const id = `pm_${randomUUID()}`;
    await this.opts.db.insert(playgroundMessages).values({
      id,
      channelId: parsed.data.channelId,
      threadId: parsed.data.threadId ?? null,
      authorId: user.id,
      authorName: user.name,
      text: parsed.data.text,
    });
    this.pump();
    const mention = parseMention(parsed.data.text);
    await this.handlers?.message({
      workspaceId: PLAYGROUND_WORKSPACE_ID,
      channelId: parsed.data.channelId,
      messageId: id,
      threadId: parsed.data.threadId ?? null,
      author: { id: user.id, name: user.name, isBot: false },
      text: mention.text,
      mentionsTacit: mention.mentionsTacit,
      raw: parsed.data,
    });
    res.status(201).json({ id });
  }

  private async receiveClick(req: Request, res: Response): Promise<void> {
    const parsed = clickSchema.safeParse(req.body);
    const user = parsed.success ? findUser(parsed.data.userId) : undefined;
    if (!parsed.success || !user) {
      res.status(400).json({ error: parsed.success ? `unknown playground user ${parsed.data.userId}` : parsed.error.issues.map((i) => i.message).join('; ') });
      return;
    }
    const [message] = await this.opts.db.select().from(playgroundMessages).where(eq(playgroundMessages.id, parsed.data.messageId));
    if (!message) {
      res.status(404).json({ error: 'no such message' });
      return;
    }
    const response = (await this.handlers?.interaction({
      workspaceId: PLAYGROUND_WORKSPACE_ID,
      channelId: message.channelId,
      messageId: message.id,
      actionId: parsed.data.actionId,
      value: parsed.data.value,
      user: { id: user.id, name: user.name },
      raw: parsed.data,
    })) ?? {};
    res.json(renderPrivate(response));
  }

  private async sendSampleAlert(req: Request, res: Response): Promise<void> {
    const parsed = sampleAlertSchema.safeParse(req.body);
    if (!parsed.success || !this.sampleTarget) {
      res.status(parsed.success ? 503 : 400).json({ error: parsed.success ? 'no playground alert source' : 'status must be firing or resolved' });
      return;
    }
    const now = new Date();
    // A new occurrence starts on "firing" after a resolve; repeated "firing" clicks are repeats of it.
    if (parsed.data.status === 'firing' && !this.sample) this.sample = { startsAt: now.toISOString() };
    const occurrence = this.sample ?? { startsAt: new Date(now.getTime() - 60_000).toISOString() };
    if (parsed.data.status === 'resolved') this.sample = undefined;
    const response = await fetch(this.sampleTarget.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.sampleTarget.token}`, 'user-agent': 'Alertmanager/0.28.1' },
      body: JSON.stringify(sampleAlertmanagerPayload(parsed.data.status, occurrence, now)),
    });
    res.status(response.ok ? 202 : 502).json({ webhookStatus: response.status });
  }

  /** Sends every message changed since the last broadcast to every open page. Coalesces bursts. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        const rows = await this.opts.db
          .select()
          .from(playgroundMessages)
          .where(gt(playgroundMessages.version, this.lastVersion))
          .orderBy(asc(playgroundMessages.version))
          .limit(500);
        for (const row of rows) {
          this.lastVersion = Math.max(this.lastVersion, row.version);
          const data = `event: message\ndata: ${JSON.stringify(toWire(row))}\n\n`;
          for (const res of this.clients) res.write(data);
        }
        if (rows.length === 500) this.pumpAgain = true;
      } while (this.pumpAgain);
    })()
      .catch((err: unknown) => this.opts.log.warn({ err }, 'playground live update failed; pages catch up on the next poll'))
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) this.pump();
      });
  }
}

function toWire(row: Row): WireMessage {
  return {
    id: row.id,
    channelId: row.channelId,
    threadId: row.threadId,
    author: { id: row.authorId, name: row.authorName, isBot: row.isBot },
    text: row.text,
    blocks: row.blocks,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
  };
}
