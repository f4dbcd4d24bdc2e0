// The metrics registry without I/O: its exposition passes a strict format check (the checker itself
// refuses what Prometheus refuses), the hooks land in the right series, and a scrape still answers
// when Redis or the database does not.
import { Registry, Counter, Gauge, Histogram, Summary } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { counterNames, type CounterName } from '../../src/heartbeat/signals.js';
import { createMetrics, timedTick, type Metrics, type MetricsReads } from '../../src/http/metrics.js';
import { ExpositionError, histogramCount, parseExposition, sampleValue } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';

const silent = { debug: () => undefined };
const counters = Object.fromEntries(counterNames.map((n, i) => [n, i * 10])) as Record<CounterName, number>;

function reads(overrides: Partial<MetricsReads> = {}): MetricsReads {
  return {
    counters: async () => counters,
    counts: async () => ({ openIncidents: 2, pendingOutbox: 3, workspaces: 1, feedback: { helpful: 4, notHelpful: 1 } }),
    delivery: async () => ({ kind: 'post', anchor: 'incident_parent', deliverySeconds: 0.4, alertSeconds: 1.5 }),
    ...overrides,
  };
}

describe('the exposition checker', () => {
  const valid = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n';

  it('accepts what prom-client writes for every metric type, escapes included', async () => {
    const registry = new Registry();
    const registers = [registry];
    new Counter({ name: 'c_total', help: 'C with "quotes" and \\ backslash', labelNames: ['l'], registers }).inc({ l: 'a "b"\\\nc' });
    new Gauge({ name: 'g', help: 'G', registers }).set(-1.5e-7);
    new Histogram({ name: 'h_seconds', help: 'H', labelNames: ['k'], buckets: [0.1, 1], registers }).observe({ k: 'x' }, 0.5);
    new Summary({ name: 's', help: 'S', registers }).observe(2);
    const families = parseExposition(await registry.metrics());
    expect([...families.keys()]).toEqual(['c_total', 'g', 'h_seconds', 's']);
    expect(sampleValue(families, 'c_total', 'c_total', { l: 'a "b"\\\nc' })).toBe(1);
    expect(histogramCount(families, 'h_seconds', { k: 'x' })).toBe(1);
  });

  it.each([
    ['a sample without HELP and TYPE', 'a_total 1\n'],
    ['a missing TYPE', '# HELP a_total A.\na_total 1\n'],
    ['an unknown type', '# HELP a A.\n# TYPE a meter\na 1\n'],
    ['an invalid metric name', '# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n'],
    ['an invalid label name', '# HELP a A.\n# TYPE a gauge\na{1x="y"} 1\n'],
    ['a reserved label name', '# HELP a A.\n# TYPE a gauge\na{__x="y"} 1\n'],
    ['a label given twice', '# HELP a A.\n# TYPE a gauge\na{x="1",x="2"} 1\n'],
    ['an unquoted label value', '# HELP a A.\n# TYPE a gauge\na{x=1} 1\n'],
    ['a value that is not a number', '# HELP a A.\n# TYPE a gauge\na one\n'],
    ['a duplicate series', '# HELP a A.\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['a family split in two', '# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n'],
    ['an invalid escape in HELP', '# HELP a A \\x.\n# TYPE a gauge\na 1\n'],
    ['a TYPE after samples', '# HELP a A.\na 1\n# TYPE a gauge\n'],
    ['a negative counter', '# HELP a_total A.\n# TYPE a_total counter\na_total -1\n'],
    ['no final line feed', valid.trimEnd()],
    ['a histogram without +Inf', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['buckets that are not cumulative', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a _count other than the +Inf bucket', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ['a histogram without _sum', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['a bare histogram sample', '# HELP h H.\n# TYPE h histogram\nh 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
  });
});

describe('metrics', () => {
  let metrics: Metrics | undefined;
  afterEach(() => metrics?.stop());

  it('renders a valid exposition whose families match the registry, type for type', async () => {
    metrics = createMetrics(reads(), silent);
    const families = parseExposition(await metrics.render());
    const json = await metrics.registry.getMetricsAsJSON();
    expect([...families.keys()].sort()).toEqual(json.map((m) => m.name).sort());
    for (const m of json) expect(families.get(m.name)?.type).toBe(m.type);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('exposes the heartbeat counters read from Redis, the database counts, and process metrics', async () => {
    metrics = createMetrics(reads(), silent);
    const families = parseExposition(await metrics.render());
    for (const name of counterNames) {
      expect(families.get(`tacit_${name}_total`)?.type).toBe('counter');
      expect(sampleValue(families, `tacit_${name}_total`, `tacit_${name}_total`)).toBe(counters[name]);
    }
    expect(sampleValue(families, 'tacit_open_incidents', 'tacit_open_incidents')).toBe(2);
    expect(sampleValue(families, 'tacit_outbox_pending', 'tacit_outbox_pending')).toBe(3);
    expect(sampleValue(families, 'tacit_workspaces', 'tacit_workspaces')).toBe(1);
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(families.get('nodejs_eventloop_lag_p99_seconds')?.type).toBe('gauge');
    expect(families.get('tacit_event_loop_lag_seconds')?.type).toBe('histogram');
  });

  it('records webhooks, deliveries, approvals, ticks and model calls in their series', async () => {
    metrics = createMetrics(reads(), silent);
    metrics.webhookAcked({ route: 'alert', source: 'alertmanager', outcome: 'accepted', status: 200, seconds: 0.02 });
    metrics.webhookAcked({ route: 'alert', source: 'alertmanager', outcome: 'quarantined', status: 202, seconds: 0.01 });
    metrics.webhookAcked({ route: 'github', source: 'unknown', outcome: 'unauthorized', status: 401, seconds: 0.001 });
    metrics.deliveryFinished('o1', 'sent');
    metrics.deliveryFinished('o2', 'retried');
    metrics.deliveryFinished('o3', 'dead');
    metrics.approval('approved');
    metrics.approval('expired', 0);
    metrics.modelCall({ model: 'claude-x', call: 'triage', outcome: 'ok', seconds: 0.7 });
    await timedTick(metrics, async () => ({ kind: 'quiet' }));
    await expect(timedTick(metrics, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');

    const m = metrics;
    const families = await waitFor(async () => {
      const f = parseExposition(await m.render());
      return histogramCount(f, 'tacit_delivery_latency_seconds') === 2 ? f : undefined;
    }, { what: 'delivery latencies' });
    expect(histogramCount(families, 'tacit_webhook_ack_seconds', { route: 'alert', source: 'alertmanager', status: '200' })).toBe(1);
    expect(sampleValue(families, 'tacit_intake_total', 'tacit_intake_total', { source: 'alertmanager', status: 'quarantined' })).toBe(1);
    expect(sampleValue(families, 'tacit_intake_total', 'tacit_intake_total', { source: 'unknown', status: 'unauthorized' })).toBe(1);
    expect(sampleValue(families, 'tacit_quarantined_bodies_total', 'tacit_quarantined_bodies_total', { source: 'alertmanager' })).toBe(1);
    expect(sampleValue(families, 'tacit_deliveries_total', 'tacit_deliveries_total', { outcome: 'retried' })).toBe(1);
    expect(sampleValue(families, 'tacit_dead_letters_total', 'tacit_dead_letters_total')).toBe(1);
    expect(histogramCount(families, 'tacit_delivery_latency_seconds', { outcome: 'sent', anchor: 'incident_parent', kind: 'post' })).toBe(1);
    // Only a sent card measures alert-to-card; a dead one does not.
    expect(histogramCount(families, 'tacit_alert_to_card_seconds')).toBe(1);
    expect(sampleValue(families, 'tacit_alert_to_card_seconds', 'tacit_alert_to_card_seconds_sum')).toBe(1.5);
    expect(sampleValue(families, 'tacit_approvals_total', 'tacit_approvals_total', { outcome: 'approved' })).toBe(1);
    expect(sampleValue(families, 'tacit_approvals_total', 'tacit_approvals_total', { outcome: 'expired' })).toBeUndefined();
    expect(histogramCount(families, 'tacit_model_call_seconds', { model: 'claude-x', call: 'triage', outcome: 'ok' })).toBe(1);
    expect(histogramCount(families, 'tacit_tick_duration_seconds', { outcome: 'quiet' })).toBe(1);
    expect(histogramCount(families, 'tacit_tick_duration_seconds', { outcome: 'failed' })).toBe(1);
  });

  it('answers a scrape when Redis and the database do not, and says which reads failed', async () => {
    metrics = createMetrics(reads({ counters: () => Promise.reject(new Error('redis down')), counts: () => new Promise(() => undefined) }), silent);
    const started = Date.now();
    const families = parseExposition(await metrics.render());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sampleValue(families, 'tacit_scrape_read_up', 'tacit_scrape_read_up', { store: 'redis' })).toBe(0);
    expect(sampleValue(families, 'tacit_scrape_read_up', 'tacit_scrape_read_up', { store: 'database' })).toBe(0);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
  });
});
