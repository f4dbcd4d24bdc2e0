// Tacit's own Prometheus metrics. One registry per process, owned by main.ts and passed in as a small
// `Metrics` object: the parts report through optional hooks (histograms and counters kept here), and
// a scrape reads the heartbeat counters kept in Redis (every process's) and a few database counts.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counterNames, type CounterName } from '../heartbeat/signals.js';
import type { DeliveryTimes, ScrapeCounts } from './metrics-reads.js';

const help: Record<CounterName, string> = {
  ticks: 'Heartbeat ticks run',
  quiet: 'Ticks that ended quiet (no news, or nothing worth saying)',
  busy: 'Ticks skipped because another process was ticking the workspace',
  woken: 'Ticks whose gate woke the brain',
  spoke: 'Decisions that queued at least one message',
  vetoed: 'Decisions whose every message the policy vetoed',
  acted: 'Decisions that ran an approved action',
  model_calls: 'Calls to a language model',
  tokens: 'Model tokens used (input, output and cache)',
  cost_micro_usd: 'Model cost in millionths of a US dollar',
  replies: 'Mentions answered',
  failed: 'Ticks that failed and will be retried',
  fenced: 'Ticks refused at commit because their lock had passed to another tick',
  quarantined: 'Stored events set aside after failing every tick that read them',
};

export type DeliveryOutcome = 'sent' | 'already-sent' | 'skipped' | 'dead' | 'retried';
export type ApprovalOutcome = 'approved' | 'denied' | 'refused' | 'expired' | 'executed' | 'failed';

/** What a scrape reads; each read is bounded (2 s), so a scrape answers even when a store does not. */
export interface MetricsReads {
  /** The heartbeat counters kept in Redis, summed over every process. */
  counters(): Promise<Record<CounterName, number>>;
  counts(): Promise<ScrapeCounts>;
  /** A finished delivery's times (null: the row is gone). */
  delivery(outboxId: string): Promise<DeliveryTimes | null>;
}

export interface WebhookAck {
  /** `alert` or `github`: the route it came in on. */
  route: string;
  /** The source's kind (`alertmanager`, `github`…), `unknown` when the request never reached one. */
  source: string;
  /** accepted, duplicate, quarantined, pong, or why it was refused (unauthorized, unknown_source…). */
  outcome: string;
  status: number;
  seconds: number;
}

export interface ModelCall {
  model: string;
  /** triage, decision, reply or consolidate. */
  call: string;
  outcome: 'ok' | 'error';
  seconds: number;
}

export interface Metrics {
  /** The exposition's content type, from the registry. */
  readonly contentType: string;
  readonly registry: Registry;
  /** Reads the scrape-time values, then renders the whole registry. */
  render(): Promise<string>;
  webhookAcked(ack: WebhookAck): void;
  tickFinished(outcome: string, seconds: number): void;
  /** Quiet ticks the sweep ran in one script call (heartbeat/scheduler.ts), with how late each beat was. */
  quietTicks(latenessMs: readonly number[], seconds: number): void;
  deliveryFinished(outboxId: string, outcome: DeliveryOutcome): void;
  approval(outcome: ApprovalOutcome, count?: number): void;
  modelCall(call: ModelCall): void;
  /** Stops the event-loop sampler. */
  stop(): void;
}

const SCRAPE_READ_TIMEOUT_MS = 2_000;
const LAG_SAMPLE_MS = 250;
/** Seconds; from a quiet tick (one Redis round trip) to a slow model call. */
const FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds; from a message sent at once to one that waited out rate limits and retries. */
const SLOW = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const MODEL = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

export function createMetrics(reads: MetricsReads, log: { debug(obj: object, msg: string): void }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const m = instruments([registry]);
  const refresh = scrapeReader(reads, m, log);
  const stopSampler = sampleEventLoopLag(m.lag);

  const observeDelivery = async (outboxId: string, outcome: DeliveryOutcome) => {
    const times = await reads.delivery(outboxId);
    if (!times) return;
    m.deliveryLatency.observe({ kind: times.kind, anchor: times.anchor, outcome }, times.deliverySeconds);
    if (outcome === 'sent' && times.anchor === 'incident_parent' && times.alertSeconds !== null) {
      m.alertToCard.observe({ kind: times.kind }, Math.max(0, times.alertSeconds));
    }
  };

  return {
    contentType: registry.contentType,
    registry,
    async render() {
      await refresh();
      return registry.metrics();
    },
    webhookAcked(ack) {
      m.webhookAck.observe({ route: ack.route, source: ack.source, status: String(ack.status) }, ack.seconds);
      m.intake.inc({ source: ack.source, status: ack.outcome });
      if (ack.outcome === 'quarantined') m.quarantinedBodies.inc({ source: ack.source });
    },
    tickFinished(outcome, seconds) {
      m.tick.observe({ outcome }, seconds);
    },
    quietTicks(latenessMs, seconds) {
      const quiet = m.tick.labels({ outcome: 'quiet' });
      const each = seconds / Math.max(1, latenessMs.length);
      for (const ms of latenessMs) {
        quiet.observe(each);
        m.beatLateness.observe(ms / 1000);
      }
    },
    deliveryFinished(outboxId, outcome) {
      m.deliveries.inc({ outcome });
      if (outcome === 'dead') m.deadLetters.inc();
      // Latencies for verdicts only; `already-sent` is most often a repeated job for a row already done.
      if (outcome === 'sent' || outcome === 'skipped' || outcome === 'dead') {
        observeDelivery(outboxId, outcome).catch((err: unknown) => log.debug({ err: String(err), outboxId }, 'metrics: delivery times unreadable'));
      }
    },
    approval(outcome, count = 1) {
      if (count > 0) m.approvals.inc({ outcome }, count);
    },
    modelCall(c) {
      m.modelLatency.observe({ model: c.model, call: c.call, outcome: c.outcome }, c.seconds);
    },
    stop: stopSampler,
  };
}

type Instruments = ReturnType<typeof instruments>;

function instruments(registers: Registry[]) {
  return {
    webhookAck: new Histogram({
      name: 'tacit_webhook_ack_seconds', help: 'Time from a webhook request to its answer (2xx only after commit)',
      labelNames: ['route', 'source', 'status'], buckets: FAST, registers,
    }),
    intake: new Counter({ name: 'tacit_intake_total', help: 'Webhook requests by source kind and what became of them', labelNames: ['source', 'status'], registers }),
    quarantinedBodies: new Counter({ name: 'tacit_quarantined_bodies_total', help: 'Authenticated webhook bodies that could not be used, kept in quarantine', labelNames: ['source'], registers }),
    tick: new Histogram({ name: 'tacit_tick_duration_seconds', help: 'Heartbeat tick duration in this process, by outcome', labelNames: ['outcome'], buckets: FAST, registers }),
    beatLateness: new Histogram({
      name: 'tacit_beat_lateness_seconds', help: "How late the sweep ran quiet workspaces' beats in this process (a heartbeat falling behind shows here first)",
      buckets: FAST, registers,
    }),
    alertToCard: new Histogram({
      name: 'tacit_alert_to_card_seconds', help: "Time from an alert's arrival to the incident card showing it (posted or edited)",
      labelNames: ['kind'], buckets: SLOW, registers,
    }),
    deliveryLatency: new Histogram({
      name: 'tacit_delivery_latency_seconds', help: 'Time from an outbox row being queued to its delivery verdict',
      labelNames: ['kind', 'anchor', 'outcome'], buckets: SLOW, registers,
    }),
    deliveries: new Counter({ name: 'tacit_deliveries_total', help: 'Delivery attempts by outcome (retried: failed and queued again)', labelNames: ['outcome'], registers }),
    deadLetters: new Counter({ name: 'tacit_dead_letters_total', help: 'Outbox rows given up on (the platform refused them, or failed every attempt)', registers }),
    approvals: new Counter({ name: 'tacit_approvals_total', help: 'Approval clicks and results by outcome', labelNames: ['outcome'], registers }),
    modelLatency: new Histogram({
      name: 'tacit_model_call_seconds', help: 'Language-model API call duration, by model, call kind and outcome',
      labelNames: ['model', 'call', 'outcome'], buckets: MODEL, registers,
    }),
    lag: new Histogram({
      name: 'tacit_event_loop_lag_seconds', help: `How late a timer due every ${LAG_SAMPLE_MS} ms fired (event-loop lag)`,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    }),
    // Set at scrape time: counters kept in Redis by every process, counts from the database.
    heartbeat: Object.fromEntries(
      counterNames.map((name) => [name, new Counter({ name: `tacit_${name}_total`, help: `${help[name]} (all processes)`, registers })]),
    ) as Record<CounterName, Counter>,
    openIncidents: new Gauge({ name: 'tacit_open_incidents', help: 'Incidents not resolved', registers }),
    pendingOutbox: new Gauge({ name: 'tacit_outbox_pending', help: 'Outbox rows waiting for delivery', registers }),
    workspaces: new Gauge({ name: 'tacit_workspaces', help: 'Workspaces installed (not removed)', registers }),
    feedback: new Gauge({ name: 'tacit_feedback', help: "People's verdicts on summaries (feedback buttons), one per person and decision", labelNames: ['verdict'], registers }),
    readUp: new Gauge({ name: 'tacit_scrape_read_up', help: 'Whether the last scrape could read its values (redis: heartbeat counters; database: counts)', labelNames: ['store'], registers }),
  };
}

/** Reads Redis and the database for a scrape; an unreadable store keeps its last values and reports 0 in `tacit_scrape_read_up`. */
function scrapeReader(reads: MetricsReads, m: Instruments, log: { debug(obj: object, msg: string): void }): () => Promise<void> {
  return async () => {
    const [counters, counts] = await Promise.allSettled([bounded(reads.counters()), bounded(reads.counts())]);
    m.readUp.set({ store: 'redis' }, counters.status === 'fulfilled' ? 1 : 0);
    m.readUp.set({ store: 'database' }, counts.status === 'fulfilled' ? 1 : 0);
    if (counters.status === 'fulfilled') {
      for (const name of counterNames) {
        m.heartbeat[name].reset();
        m.heartbeat[name].inc(counters.value[name]);
      }
    } else log.debug({ err: String(counters.reason) }, 'metrics: heartbeat counters unreadable');
    if (counts.status === 'fulfilled') {
      m.openIncidents.set(counts.value.openIncidents);
      m.pendingOutbox.set(counts.value.pendingOutbox);
      m.workspaces.set(counts.value.workspaces);
      m.feedback.set({ verdict: 'helpful' }, counts.value.feedback.helpful);
      m.feedback.set({ verdict: 'not_helpful' }, counts.value.feedback.notHelpful);
    } else log.debug({ err: String(counts.reason) }, 'metrics: database counts unreadable');
  };
}

/**
 * prom-client's own event-loop metrics are gauges (percentiles since the last scrape); this histogram
 * can be aggregated over processes and time. Returns the function that stops it.
 */
function sampleEventLoopLag(lag: Histogram): () => void {
  let expected = performance.now() + LAG_SAMPLE_MS;
  const sampler = setInterval(() => {
    const now = performance.now();
    lag.observe(Math.max(0, now - expected) / 1000);
    expected = now + LAG_SAMPLE_MS;
  }, LAG_SAMPLE_MS);
  sampler.unref();
  return () => clearInterval(sampler);
}

/** A scrape must answer even when Redis or the database does not (it says so in `tacit_scrape_read_up`). */
async function bounded<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SCRAPE_READ_TIMEOUT_MS} ms`)), SCRAPE_READ_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a tick and records its duration by outcome (`failed` when it threw). */
export async function timedTick<T extends { kind: string }>(metrics: Pick<Metrics, 'tickFinished'>, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const outcome = await work();
    metrics.tickFinished(outcome.kind, (performance.now() - started) / 1000);
    return outcome;
  } catch (err) {
    metrics.tickFinished('failed', (performance.now() - started) / 1000);
    throw err;
  }
}
