// Composition root: config → database and Redis → adapters, workers and HTTP; graceful shutdown.
// `startTacit` is also what the end-to-end tests start, with their own database and Redis prefix.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Brain } from './brain/port.js';
import { createClaudeBrain, createClaudeReportDrafter } from './brain/claude/index.js';
import { RulesBrain } from './brain/rules/rules-brain.js';
import { runCommand } from './chat/commands.js';
import { adapterOf, peopleOver } from './chat/people.js';
import { createDiscord } from './chat/discord/index.js';
import { createSlack } from './chat/slack/index.js';
import { Memory } from './memory/index.js';
import { Actions, renderApprovalCard } from './actions/index.js';
import type { ChatAdapter, Platform } from './chat/port.js';
import { bootstrapPlayground } from './chat/playground/bootstrap.js';
import { DEMO_ALERTMANAGER_PATH } from './chat/playground/demo-alertmanager.js';
import { createPlaygroundAdapter, type PlaygroundAdapter } from './chat/playground/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { connectPglite, connectPostgres, type Database } from './db/client.js';
import { provideRedis } from './db/embedded-redis.js';
import { connectRedis, pingRedis, RedisStartupError } from './db/redis.js';
import { runPurge } from './db/retention.js';
import { createSecretBox, localSecretKey } from './db/secret-box.js';
import { workspaces } from './db/schema.js';
import { stalePending } from './delivery/outbox.js';
import { Delivery } from './delivery/worker.js';
import { Conversations } from './heartbeat/converse.js';
import { Maintenance } from './heartbeat/maintenance.js';
import { restoreMissingHeartbeats, restoreSteps, ScheduleRestore, type RestoreDeps } from './heartbeat/restore.js';
import { Heartbeat } from './heartbeat/scheduler.js';
import { createInvestigations } from './investigate/index.js';
import { HeartbeatSignals } from './heartbeat/signals.js';
import { RedisTokenBudget } from './heartbeat/token-budget.js';
import { runTick, type TickDeps } from './heartbeat/tick.js';
import { tickOncall } from './oncall/wiring.js';
import { HttpAccess } from './http/access.js';
import { adminRoutes } from './http/admin.js';
import { SessionStore } from './http/sessions.js';
import { createMetrics, timedTick } from './http/metrics.js';
import { deliveryTimes, scrapeCounts } from './http/metrics-reads.js';
import { createHttpServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { applyChatChange, ensureChannel, handleInteraction, ingestChatMessage, recordChannels, type ChatIntakeDeps } from './sources/chat.js';
import { boundedSignal } from './sources/intake.js';
import { isIncidentStep, Oncall } from './oncall/respond.js';
import { EventWriter } from './sources/event-writer.js';
import { redisSourceVersions, SourceCache } from './sources/source-cache.js';
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
  /** Incident steps carried to their sources (src/oncall). */
  oncall: Oncall;
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

  // REDIS_URL, or a Redis on the default port, or a private redis-server child (stopped last, below).
  const redisTarget = await provideRedis(config.redis, log.child({ part: 'redis' }));
  const database =
    overrides.database ??
    (await openDatabase(config, log).catch(async (err: unknown) => {
      await redisTarget.stop();
      throw err;
    }));
  const redis = connectRedis(redisTarget.address, (err) => log.warn({ err: err.message }, 'redis connection error'));
  // On a Redis Cluster every queue and key but the heartbeat's shares the hash tag `{prefix}` (one slot:
  // BullMQ's and our multi-key scripts stay legal); the heartbeat's per-workspace state is spread over
  // the cluster by workspace (heartbeat/signals.ts tags each key with its workspace id).
  const prefix = config.redis.kind === 'cluster' ? `{${config.redisPrefix}}` : config.redisPrefix;
  const signals = new HeartbeatSignals(redis, config.redisPrefix);
  const metrics = createMetrics(
    { counters: () => signals.counters(), counts: () => scrapeCounts(database.db), delivery: (id) => deliveryTimes(database.db, id) },
    log.child({ part: 'metrics' }),
  );
  const rules = new RulesBrain();
  const brain =
    overrides.brain ??
    (config.anthropic.apiKey
      ? createClaudeBrain({
          apiKey: config.anthropic.apiKey,
          baseUrl: config.anthropic.baseUrl,
          model: config.anthropic.model,
          triageModel: config.anthropic.triageModel,
          effort: config.anthropic.effort,
          triageEffort: config.anthropic.triageEffort,
          fallback: rules,
          budget: new RedisTokenBudget(redis, prefix, config.anthropic.dailyTokenBudget),
          log: log.child({ part: 'brain' }),
          onModelCall: (call) => metrics.modelCall(call),
        })
      : rules);

  const secrets = createSecretBox(config.secretKey ?? (config.playground ? playgroundKey(config.dataDir, log) : undefined));
  // Shared by intake and by whoever rotates or revokes a source: a change reaches every process at once.
  const sourceCache = new SourceCache(database.db, secrets, { versions: redisSourceVersions(redis, prefix) });
  const invalidateSource = (id: string) => sourceCache.invalidate(id);
  const adapters: Partial<Record<Platform, ChatAdapter>> = {};
  const slack = createSlack({ config, db: database.db, secrets, redis, prefix, log: log.child({ adapter: 'slack' }) });
  if (slack) adapters.slack = slack.adapter;
  const discord = createDiscord({ config, db: database.db, redis, prefix, log: log.child({ adapter: 'discord' }) });
  if (discord) adapters.discord = discord.adapter;
  // Who may reach the admin API, dashboard and playground (http/access.ts); browser sessions live in Redis.
  const access = new HttpAccess({ adminToken: config.adminToken, publicUrl: config.publicUrl, loopbackTrust: config.playground, sessions: new SessionStore(redis, prefix, clock) });
  const playground = config.playground ? createPlaygroundAdapter({ db: database.db, log: log.child({ adapter: 'playground' }), access, clock }) : undefined;
  if (playground) adapters.playground = playground;
  // Names as each platform shows them, cached with expiry (chat/people.ts).
  const people = peopleOver(adapters, (err, workspaceId, personId) => log.debug({ err, workspaceId, personId }, 'could not look a person up; showing the id'));

  const memory = new Memory({ db: database.db, connection: redis, prefix, clock, brain, log: log.child({ part: 'memory' }) });
  const delivery = new Delivery({
    db: database.db, connection: redis, prefix, adapters, log: log.child({ part: 'delivery' }), threads: signals,
    approvalCard: (id) => renderApprovalCard(database.db, id, clock.now(), (ws, person) => people.name(ws, person)),
    onOutcome: (id, outcome) => metrics.deliveryFinished(id, outcome),
    onDelivered: (id) => {
      void memory.onDelivered(id).catch((err: unknown) => log.warn({ err, outboxId: id }, 'memory activation failed'));
      // A posted approval card's long parameters follow as files in its thread (reconcile retries a lost one).
      void actions.cardDelivered(id).catch((err: unknown) => log.warn({ err, outboxId: id }, 'queueing an approval\'s full texts failed'));
    },
  });
  const deliver = (ids: string[]) => delivery.enqueue(ids);
  const actions = new Actions({
    db: database.db, connection: redis, prefix, secrets, log: log.child({ part: 'actions' }), deliver,
    onApproval: (outcome, count) => metrics.approval(outcome, count),
    onFinished: (id, verified) => memory.onActionFinished(id, verified).catch((err: unknown) => log.warn({ err, approvalId: id }, 'memory update after action failed')),
  });
  const heartbeat: Heartbeat = new Heartbeat({
    connection: redis, prefix, signals, log: log.child({ part: 'heartbeat' }), runTick: (ws, trigger, slot) => timedTick(metrics, () => runTick(tickDeps, ws, trigger, slot)),
    mode: config.heartbeatMode, now: () => clock.now(),
    onQuietTicks: (lateness, seconds) => metrics.quietTicks(lateness, seconds),
  });
  // Investigations run as jobs of their own; their findings wake the tick like any news.
  const investigations = createInvestigations({
    db: database.db, secrets, connection: redis, prefix, clock, log: log.child({ part: 'investigate' }),
    wake: async (ws) => heartbeat.wake(ws, await signals.markDirty(ws)),
  });
  const tickDeps: TickDeps = {
    db: database.db, signals, brain, clock, log: log.child({ part: 'tick' }), deliver,
    investigation: investigations.tick,
    wakeAgain: (ws, gen) => heartbeat.wake(ws, gen),
    retrySoon: (ws, tickId) => heartbeat.retrySoon(ws, tickId),
    memory,
    actions,
    oncall: tickOncall({
      db: database.db, secrets, log: log.child({ part: 'oncall' }),
      // Post-incident drafts by Claude when it is configured; the rules draft otherwise, and when it fails.
      drafter: config.anthropic.apiKey
        ? createClaudeReportDrafter({ apiKey: config.anthropic.apiKey, baseUrl: config.anthropic.baseUrl, model: config.anthropic.model, budget: new RedisTokenBudget(redis, prefix, config.anthropic.dailyTokenBudget), log: log.child({ part: 'brain' }) })
        : undefined,
    }),
  };
  const conversations = new Conversations({ db: database.db, connection: redis, prefix, brain, clock, signals, log: log.child({ part: 'conversation' }), deliver, memory, actions,
    working: async (ws, channelId, threadId, status) => adapterOf(adapters, ws)?.working?.(channelId, threadId, status),
  });
  const chatDeps: ChatIntakeDeps = {
    db: database.db, signal: heartbeat, log: log.child({ part: 'intake' }),
    sources: sourceCache, writer: new EventWriter(database.db),
    converse: (eventId, ws) => conversations.enqueue(eventId, ws),
    feedback: { onFeedback: (ws, decisionId) => memory.onFeedback(ws, decisionId) },
  };

  // Acknowledge/resolve/declare, carried to PagerDuty and Alertmanager (src/oncall); the tick applies the steps.
  const oncall = new Oncall({
    db: database.db, secrets, clock, log: log.child({ part: 'oncall' }), actions, deliver,
    wake: async (ws) => boundedSignal(chatDeps.signal.wake(ws, await boundedSignal(chatDeps.signal.markDirty(ws)))),
  });
  const reconcile = () =>
    reconcileGithub({ db: database.db, secrets, log: log.child({ part: 'github-reconciler' }), apiUrl: config.github.apiUrl });
  const restoreDeps: RestoreDeps = {
    db: database.db, defaultIntervalMs: config.heartbeatIntervalMs, deliver,
    schedule: (list) => heartbeat.scheduleMany(list),
    markDirty: (ws) => signals.markDirty(ws),
    // The maintenance tasks, and the dream sweep beside them.
    scheduleMaintenance: async (runNow) => {
      await memory.schedule();
      return (await maintenance.schedule(runNow)) + 1;
    },
    converse: (eventId, ws) => conversations.enqueue(eventId, ws),
    reconcileActions: () => actions.reconcile(),
  };
  const maintenance = new Maintenance({
    connection: redis, prefix, log: log.child({ part: 'maintenance' }),
    tasks: [
      { name: 'github-reconcile', everyMs: config.github.reconcileIntervalMs, run: reconcile },
      // Expires overdue approvals (cards updated) and resumes approved ones whose execution was lost.
      { name: 'approvals', everyMs: 15_000, run: () => actions.reconcile() },
      // Finishes acknowledge/resolve calls to PagerDuty or Alertmanager that a dead process left half done.
      { name: 'oncall-sync', everyMs: 60_000, run: () => oncall.reconcile() },
      // A scheduler lost on its own (while the restore marker stayed) comes back within a minute.
      { name: 'heartbeat-schedules', everyMs: 60_000, runAtStart: false, run: () => replanHeartbeats() },
      { name: 'retention', everyMs: config.retention.intervalMs, runAtStart: false, run: () => runPurge(database.db, config.retention.days, clock.now(), log.child({ part: 'retention' })) },
    ],
  });
  /**
   * Beats lost on their own come back, and the other mode's go (TACIT_HEARTBEAT_MODE changed, or a
   * rolling upgrade's older processes still making schedulers): at start-up and every minute.
   */
  const replanHeartbeats = async () => {
    const retired = await heartbeat.retireOtherMode();
    if (retired > 0) log.info({ retired, mode: heartbeat.mode }, 'removed the other heartbeat mode\'s beats; planning every workspace the configured way');
    return restoreMissingHeartbeats({ ...restoreDeps, schedulerCount: () => heartbeat.schedulerCount() }, log);
  };
  const restore = new ScheduleRestore({ redis, prefix, log: log.child({ part: 'restore' }), checkEveryMs: config.restoreCheckIntervalMs, steps: restoreSteps(restoreDeps) });

  const server = createHttpServer({
    intake: chatDeps,
    log: log.child({ part: 'http' }),
    bodyLimitBytes: config.webhookBodyLimitBytes,
    ready: async () => {
      const [db, reachable, schedules] = await Promise.all([database.ping(), pingRedis(redis), restore.ready()]);
      return { database: db, redis: reachable, schedules, brain: (brain as Brain).health?.().configurationError ?? null };
    },
    metrics,
    webhooks: config.roles.has('http'),
    routers: !config.roles.has('http') ? [] : [
      adminRoutes({
        db: database.db, signals, clock, secrets, publicUrl: () => publicUrl, access, log: log.child({ part: 'admin' }), invalidateSource,
        brainError: () => (brain as Brain).health?.().configurationError ?? null,
      }),
      ...(playground ? [playground.routes()] : []),
      ...(slack?.routes ?? []),
    ],
  });
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const publicUrl = config.publicUrl ?? url;

  let playgroundSource: Tacit['playgroundSource'];
  // Its source gets a fresh token at each start: only where its page and webhook are served.
  if (playground && config.roles.has('http')) {
    const boot = await bootstrapPlayground(database.db, secrets, publicUrl, `${url}${DEMO_ALERTMANAGER_PATH}`);
    if (boot.approversSet) log.info({ workspaceId: boot.workspaceId, approvers: ['alice'] }, 'playground approver policy set: alice may approve (as the sidebar says)');
    if (boot.demoAlertmanager) log.info({ url: `${url}${DEMO_ALERTMANAGER_PATH}` }, 'playground silences go to the demo Alertmanager (nothing real is silenced); configure the alertmanager integration to use yours');
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
        await ingestChatMessage(chatDeps, await people.named(m));
      },
      // Approve/Deny clicks (and a Deny's reason form) go to the approvals; everything else (Acknowledge) is intake.
      interaction: (i) => (/^approval[._]/.test(i.actionId) ? actions.decide(i, adapter) : isIncidentStep(i.actionId) ? oncall.interaction(i) : handleInteraction(chatDeps, i)),
      command: async (c) => {
        await known(c.workspaceId, c.channelId);
        return runCommand({ db: database.db, secrets, signals, clock, publicUrl: () => publicUrl, inGroup: (ws, person, group) => adapter.inGroup(ws, person, group), invalidateSource, oncall, people }, c);
      },
      messageChanged: (change) => applyChatChange(chatDeps, change),
      workspaceAdded: async ({ workspaceId, name, channels }) => {
        await database.db
          .insert(workspaces)
          .values({ id: workspaceId, platform: adapter.platform, name })
          .onConflictDoUpdate({ target: workspaces.id, set: { name, removedAt: null } });
        await recordChannels(database.db, workspaceId, channels ?? []);
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

  // Workers by role (TACIT_ROLES, all by default); every process can still queue any work.
  if (config.roles.has('delivery')) delivery.start();
  if (config.roles.has('actions')) actions.start();
  if (config.roles.has('heartbeat')) {
    conversations.start();
    memory.start();
    investigations.start();
    heartbeat.start();
    maintenance.start();
  }
  // Schedules, dirty flags and lost jobs come from Postgres (heartbeat/restore.ts); /readyz is 503 until then.
  await restore.start();
  if (config.roles.has('heartbeat')) await replanHeartbeats();
  const sweeper = setInterval(() => {
    if (!config.roles.has('delivery')) return;
    stalePending(database.db, 10_000)
      .then((ids) => delivery.enqueue(ids))
      .catch((err: unknown) => log.warn({ err }, 'outbox sweep failed'));
  }, overrides.sweepIntervalMs ?? 15_000);
  sweeper.unref();

  log.info({ url, database: database.kind, brain: brain.name, playground: Boolean(playground), roles: [...config.roles] }, 'tacit started');
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
      metrics.stop();
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
      await step('restore', () => restore.close());
      await step('maintenance', () => maintenance.close());
      // Before the heartbeat: a finishing investigation still wakes its tick.
      await step('investigations', () => investigations.close());
      await step('heartbeat', () => heartbeat.close());
      await step('conversations', () => conversations.close());
      await step('actions', () => actions.close());
      await step('delivery', () => delivery.close());
      await step('memory', () => memory.close());
      for (const adapter of Object.values(adapters)) await step(`${adapter.platform} adapter`, () => adapter.stop());
      server.closeAllConnections();
      await step('http server', () => closed);
      await step('heartbeat counters', () => signals.close());
      await step('redis', () => redis.quit().catch(() => redis.disconnect()));
      await step('private redis', () => redisTarget.stop());
      if (!overrides.database) await step('database', () => database.close());
      log.info('tacit stopped');
    })();
    return stopping;
  };

  return { url, port, database, redis, heartbeat, delivery, conversations, signals, memory, actions, oncall, adapters, playground, playgroundSource, reconcileGithub: reconcile, stop };
}

/** The playground works out of the box: without TACIT_SECRET_KEY, a key of its own under TACIT_DATA_DIR. */
function playgroundKey(dataDir: string, log: Logger): string {
  const local = localSecretKey(dataDir);
  log.info(
    { path: local.path },
    local.created
      ? 'TACIT_SECRET_KEY is not set: generated a local key for the playground (reused at every start; set TACIT_SECRET_KEY in production)'
      : 'TACIT_SECRET_KEY is not set: using the local playground key',
  );
  return local.key;
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
