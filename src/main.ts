// Composition root: config → database and Redis → adapters, workers and HTTP; graceful shutdown.
// `startTacit` is also what the end-to-end tests start, with their own database and Redis prefix.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Brain } from './brain/port.js';
import { createClaudeBrain } from './brain/claude/index.js';
import { RulesBrain } from './brain/rules/rules-brain.js';
import { runCommand } from './chat/commands.js';
import { createDiscord } from './chat/discord/index.js';
import { createSlack } from './chat/slack/index.js';
import { Memory } from './memory/index.js';
import { Actions, renderApprovalCard } from './actions/index.js';
import type { ChatAdapter, Platform } from './chat/port.js';
import { bootstrapPlayground } from './chat/playground/bootstrap.js';
import { createPlaygroundAdapter, type PlaygroundAdapter } from './chat/playground/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { connectPglite, connectPostgres, type Database } from './db/client.js';
import { connectRedis, pingRedis, probeRedis, RedisStartupError } from './db/redis.js';
import { createSecretBox } from './db/secret-box.js';
import { events, outbox, workspaces } from './db/schema.js';
import { stalePending } from './delivery/outbox.js';
import { Delivery } from './delivery/worker.js';
import { Conversations } from './heartbeat/converse.js';
import { Maintenance } from './heartbeat/maintenance.js';
import { Heartbeat } from './heartbeat/scheduler.js';
import { HeartbeatSignals } from './heartbeat/signals.js';
import { RedisTokenBudget } from './heartbeat/token-budget.js';
import { runTick, type TickDeps } from './heartbeat/tick.js';
import { adminRoutes } from './http/admin.js';
import { renderMetrics } from './http/metrics.js';
import { createHttpServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { applyChatChange, ensureChannel, handleInteraction, ingestChatMessage, type ChatIntakeDeps } from './sources/chat.js';
import { EventWriter } from './sources/event-writer.js';
import { SourceCache } from './sources/source-cache.js';
import { reconcileGithub, type ReconcileResult } from './sources/github/reconciler.js';

export interface Overrides {
  database?: Database;
  brain?: Brain;
  clock?: Clock;
  logger?: Logger;
  /** How often pending outbox rows whose job may have been lost are re-enqueued. */
  sweepIntervalMs?: number;
  /** The longest any one shutdown step may take before Tacit goes on without it. */
  stopStepMs?: number;
}

export interface Tacit {
  url: string;
  port: number;
  database: Database;
  redis: Redis;
  heartbeat: Heartbeat;
  delivery: Delivery;
  conversations: Conversations;
  signals: HeartbeatSignals;
  memory: Memory;
  actions: Actions;
  adapters: Partial<Record<Platform, ChatAdapter>>;
  playground?: PlaygroundAdapter;
  playgroundSource?: { id: string; token: string };
  /** Runs the GitHub delivery reconciler now (it also runs on a schedule). */
  reconcileGithub(): Promise<ReconcileResult[]>;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export async function startTacit(config: Config, overrides: Overrides = {}): Promise<Tacit> {
  const log = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;

  await probeRedis(config.redisUrl);
  const database = overrides.database ?? (await openDatabase(config, log));
  const redis = connectRedis(config.redisUrl, (err) => log.warn({ err: err.message }, 'redis connection error'));
  const prefix = config.redisPrefix;
  const signals = new HeartbeatSignals(redis, prefix);
  const rules = new RulesBrain();
  const brain =
    overrides.brain ??
    (config.anthropic.apiKey
      ? createClaudeBrain({
          apiKey: config.anthropic.apiKey,
          baseUrl: config.anthropic.baseUrl,
          model: config.anthropic.model,
          triageModel: config.anthropic.triageModel,
          fallback: rules,
          budget: new RedisTokenBudget(redis, prefix, config.anthropic.dailyTokenBudget),
          log: log.child({ part: 'brain' }),
        })
      : rules);

  const secrets = createSecretBox(config.secretKey);
  const adapters: Partial<Record<Platform, ChatAdapter>> = {};
  const slack = createSlack({ config, db: database.db, secrets, redis, prefix, log: log.child({ adapter: 'slack' }) });
  if (slack) adapters.slack = slack.adapter;
  const discord = createDiscord({ config, db: database.db, redis, prefix, log: log.child({ adapter: 'discord' }) });
  if (discord) adapters.discord = discord.adapter;
  const playground = config.playground ? createPlaygroundAdapter({ db: database.db, log: log.child({ adapter: 'playground' }), adminToken: config.adminToken }) : undefined;
  if (playground) adapters.playground = playground;

  const memory = new Memory({ db: database.db, connection: redis, prefix, clock, brain, log: log.child({ part: 'memory' }) });
  const delivery = new Delivery({
    db: database.db, connection: redis, prefix, adapters, log: log.child({ part: 'delivery' }), threads: signals,
    approvalCard: (id) => renderApprovalCard(database.db, id),
    onDelivered: (id) => void memory.onDelivered(id).catch((err: unknown) => log.warn({ err, outboxId: id }, 'memory activation failed')),
  });
  const deliver = (ids: string[]) => delivery.enqueue(ids);
  const actions = new Actions({
    db: database.db, connection: redis, prefix, secrets, log: log.child({ part: 'actions' }), deliver,
    onFinished: (id, verified) => memory.onActionFinished(id, verified).catch((err: unknown) => log.warn({ err, approvalId: id }, 'memory update after action failed')),
  });
  const heartbeat: Heartbeat = new Heartbeat({
    connection: redis, prefix, signals, log: log.child({ part: 'heartbeat' }), runTick: (ws, trigger) => runTick(tickDeps, ws, trigger),
  });
  const tickDeps: TickDeps = {
    db: database.db, signals, brain, clock, log: log.child({ part: 'tick' }), deliver,
    wakeAgain: (ws, gen) => heartbeat.wake(ws, gen),
    memory,
    actions,
  };
  const conversations = new Conversations({ db: database.db, connection: redis, prefix, brain, clock, signals, log: log.child({ part: 'conversation' }), deliver, memory, actions });
  const chatDeps: ChatIntakeDeps = {
    db: database.db, signal: heartbeat, log: log.child({ part: 'intake' }),
    sources: new SourceCache(database.db, secrets), writer: new EventWriter(database.db),
    converse: (eventId, ws) => conversations.enqueue(eventId, ws),
  };

  const server = createHttpServer({
    intake: chatDeps,
    log: log.child({ part: 'http' }),
    bodyLimitBytes: config.webhookBodyLimitBytes,
    ready: async () => ({ database: await database.ping(), redis: await pingRedis(redis) }),
    metrics: async () =>
      renderMetrics(await signals.counters(), [
        { name: 'tacit_outbox_pending', help: 'Outbox rows waiting for delivery', value: await countPending(database) },
      ]),
    routers: [
      adminRoutes({ db: database.db, signals, clock, secrets, publicUrl: () => publicUrl, adminToken: config.adminToken, allowLoopback: config.playground }),
      ...(playground ? [playground.routes()] : []),
      ...(slack?.routes ?? []),
    ],
  });
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const publicUrl = config.publicUrl ?? url;

  let playgroundSource: Tacit['playgroundSource'];
  if (playground) {
    const boot = await bootstrapPlayground(database.db, secrets, publicUrl);
    playgroundSource = { id: boot.sourceId, token: boot.token };
    playground.setSampleTarget({ url: `${url}/hooks/alerts/${boot.sourceId}`, token: boot.token });
  }
  for (const adapter of Object.values(adapters)) {
    // Channels this process has already recorded: ordinary traffic costs no extra writes.
    const seen = new Set<string>();
    const known = async (workspaceId: string, channelId: string) => {
      if (seen.has(channelId)) return;
      if (await ensureChannel(database.db, workspaceId, channelId, adapter.platform)) await heartbeat.schedule(workspaceId, config.heartbeatIntervalMs);
      if (seen.size > 10_000) seen.clear();
      seen.add(channelId);
    };
    await adapter.start({
      message: async (m) => {
        await known(m.workspaceId, m.channelId);
        await ingestChatMessage(chatDeps, m);
      },
      // Approve/Deny clicks go to the approvals; everything else (Acknowledge) is intake.
      interaction: (i) => (i.actionId.startsWith('approval.') ? actions.decide(i, adapter) : handleInteraction(chatDeps, i)),
      command: async (c) => {
        await known(c.workspaceId, c.channelId);
        return runCommand({ db: database.db, secrets, signals, clock, publicUrl: () => publicUrl }, c);
      },
      messageChanged: (change) => applyChatChange(chatDeps, change),
      workspaceAdded: async ({ workspaceId, name }) => {
        await database.db
          .insert(workspaces)
          .values({ id: workspaceId, platform: adapter.platform, name })
          .onConflictDoUpdate({ target: workspaces.id, set: { name, removedAt: null } });
        await heartbeat.schedule(workspaceId, config.heartbeatIntervalMs);
      },
      workspaceRemoved: async (workspaceId) => {
        // Its data stays (history, decisions, audit); its heartbeat stops until it is installed again.
        await database.db.update(workspaces).set({ removedAt: new Date() }).where(eq(workspaces.id, workspaceId));
        await heartbeat.unschedule(workspaceId);
        log.info({ workspaceId }, 'workspace removed; heartbeat stopped');
      },
    });
  }

  delivery.start();
  conversations.start();
  memory.start();
  actions.start();
  heartbeat.start();
  for (const ws of await database.db.select({ id: workspaces.id, settings: workspaces.settings }).from(workspaces).where(isNull(workspaces.removedAt))) {
    const interval = Number(ws.settings.heartbeatIntervalMs ?? config.heartbeatIntervalMs);
    await heartbeat.schedule(ws.id, interval);
  }
  await recover(database, signals, delivery);
  const reconcile = () =>
    reconcileGithub({ db: database.db, secrets, log: log.child({ part: 'github-reconciler' }), apiUrl: config.github.apiUrl });
  const maintenance = new Maintenance({
    connection: redis, prefix, log: log.child({ part: 'maintenance' }),
    tasks: [
      { name: 'github-reconcile', everyMs: config.github.reconcileIntervalMs, run: reconcile },
      // Expires overdue approvals (cards updated) and resumes approved ones whose execution was lost.
      { name: 'approvals', everyMs: 15_000, run: () => actions.reconcile() },
    ],
  });
  await maintenance.start();
  const sweeper = setInterval(() => {
    stalePending(database.db, 10_000)
      .then((ids) => delivery.enqueue(ids))
      .catch((err: unknown) => log.warn({ err }, 'outbox sweep failed'));
  }, overrides.sweepIntervalMs ?? 15_000);
  sweeper.unref();

  log.info({ url, database: database.kind, brain: brain.name, playground: Boolean(playground) }, 'tacit started');
  if (playground && playgroundSource) {
    log.info(
      { playground: `${url}/playground`, webhook: `${url}/hooks/alerts/${playgroundSource.id}` },
      'playground ready (its sample-alert source gets a fresh token at every start)',
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(sweeper);
      // Stop taking work first, then let running jobs finish, then close connections.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Each step is bounded: a job stuck on a dead connection must not keep the process from stopping.
      // (Whatever it was doing is retried: jobs are redelivered and outbox rows swept after a restart.)
      const step = (what: string, work: () => Promise<unknown>) =>
        bounded(
          work().catch((err: unknown) => log.warn({ err, step: what }, 'shutdown step failed; going on')),
          overrides.stopStepMs ?? 10_000,
          () => log.warn({ step: what }, 'shutdown step timed out; going on'),
        );
      await step('maintenance', () => maintenance.close());
      await step('heartbeat', () => heartbeat.close());
      await step('conversations', () => conversations.close());
      await step('actions', () => actions.close());
      await step('delivery', () => delivery.close());
      await step('memory', () => memory.close());
      for (const adapter of Object.values(adapters)) await step(`${adapter.platform} adapter`, () => adapter.stop());
      server.closeAllConnections();
      await step('http server', () => closed);
      await step('redis', () => redis.quit().catch(() => redis.disconnect()));
      if (!overrides.database) await step('database', () => database.close());
      log.info('tacit stopped');
    })();
    return stopping;
  };

  return { url, port, database, redis, heartbeat, delivery, conversations, signals, memory, actions, adapters, playground, playgroundSource, reconcileGithub: reconcile, stop };
}

/** Waits for `work`, but at most `ms`; on timeout, reports and resolves (the work is abandoned). */
async function bounded(work: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') onTimeout();
}

async function openDatabase(config: Config, log: Logger): Promise<Database> {
  const database =
    config.database.kind === 'postgres'
      ? connectPostgres({ url: config.database.url, onError: (err) => log.warn({ err: err.message }, 'postgres connection error') })
      : await connectPglite(config.database.dataDir);
  try {
    await database.migrate();
  } catch (err) {
    await database.close().catch(() => undefined);
    const where = config.database.kind === 'postgres' ? `PostgreSQL at ${redactUrl(config.database.url)}` : `the embedded database in ${config.database.dataDir}`;
    throw new StartupError(`cannot open ${where} (${(err as Error).message}). Check DATABASE_URL, or unset it to use the embedded database.`);
  }
  return database;
}

/** After a crash or a Redis flush: wake workspaces with unconsumed events, re-send pending outbox rows. */
async function recover(database: Database, signals: HeartbeatSignals, delivery: Delivery): Promise<void> {
  const dirty = await database.db.selectDistinct({ id: events.workspaceId }).from(events).where(isNull(events.tickId));
  for (const { id } of dirty) await signals.markDirty(id);
  const pending = await database.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.status, 'pending'));
  await delivery.enqueue(pending.map((p) => p.id));
}

async function countPending(database: Database): Promise<number> {
  const [row] = await database.db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(and(eq(outbox.status, 'pending')));
  return row?.n ?? 0;
}

function listen(server: ReturnType<typeof createHttpServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new StartupError(`port ${port} is already in use; stop the other process or set PORT`));
      else if (err.code === 'EACCES') reject(new StartupError(`no permission to listen on port ${port}; choose a PORT above 1024`));
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

async function cli(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.message.split('\n')) process.stderr.write(`tacit: ${line}\n`);
      process.exit(1);
    }
    throw err;
  }
  let tacit: Tacit;
  try {
    tacit = await startTacit(config);
  } catch (err) {
    if (err instanceof RedisStartupError || err instanceof StartupError) {
      process.stderr.write(`tacit: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`tacit: ${signal} received, shutting down\n`);
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    tacit.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`tacit: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void cli();
}
