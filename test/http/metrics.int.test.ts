// GET /metrics on a running Tacit: a valid Prometheus exposition; after one alert through the
// playground, the latency histograms hold observations (webhook answer, tick, alert-to-card,
// delivery); approvals and model calls are counted; on the embedded database too; and every metric
// the deploy/ dashboard and alert rules name is one a scrape exposes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { approvalIdOf, click, startApprovalWorld, type ApprovalWorld } from '../actions/support.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { histogramCount, parseExposition, sampleValue, type Family } from '../support/prometheus.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

/** Sends the sample alert through the playground's source and waits for its card. */
async function oneAlert(tacit: TestTacit): Promise<void> {
  const source = tacit.playgroundSource;
  if (!source) throw new Error('playground source missing');
  expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);
  await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes('Firing')), {
    what: 'the incident card', timeoutMs: 15_000,
  });
}

/** Waits until a scrape shows every histogram of one alert's path observed at least once. */
function afterOneAlert(tacit: TestTacit): Promise<Map<string, Family>> {
  return waitFor(async () => {
    const m = await scrape(tacit.url);
    const seen = [
      histogramCount(m, 'tacit_webhook_ack_seconds', { route: 'alert', source: 'alertmanager', status: '200' }),
      histogramCount(m, 'tacit_tick_duration_seconds', { outcome: 'decided' }),
      histogramCount(m, 'tacit_alert_to_card_seconds', { kind: 'post' }),
      histogramCount(m, 'tacit_delivery_latency_seconds', { anchor: 'incident_parent', outcome: 'sent' }),
    ];
    return seen.every((n) => n >= 1) ? m : undefined;
  }, { what: 'the histograms of one alert', timeoutMs: 15_000 });
}

/** Metric names in PromQL expressions: families, or a histogram's series (`_bucket`, `_sum`, `_count`). */
function referencedMetrics(text: string): Set<string> {
  return new Set(text.match(/\b(?:tacit|process|nodejs)_[a-z0-9_]+/g) ?? []);
}

function exposes(families: Map<string, Family>, name: string): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return families.get(base)?.type === 'histogram';
}

describe('GET /metrics', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit();
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
  });

  it('is a valid exposition with process, event-loop and heartbeat metrics from the start', async () => {
    const m = await scrape(tacit.url);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'tacit_ticks_total']) {
      expect(m.has(name), name).toBe(true);
    }
    expect(m.get('tacit_event_loop_lag_seconds')?.type).toBe('histogram');
    expect(sampleValue(m, 'tacit_scrape_read_up', 'tacit_scrape_read_up', { store: 'database' })).toBe(1);
    expect(sampleValue(m, 'tacit_scrape_read_up', 'tacit_scrape_read_up', { store: 'redis' })).toBe(1);
  });

  it('counts the sweep\'s quiet beats as quiet ticks, with how late each beat ran', async () => {
    const quiet = async () => histogramCount(await scrape(tacit.url), 'tacit_tick_duration_seconds', { outcome: 'quiet' });
    const before = await quiet();
    // The playground beats every 500 ms here; the sweep ticks it without a job.
    await waitFor(async () => (await quiet()) >= before + 2, { what: 'two quiet beats', timeoutMs: 10_000 });
    const m = await scrape(tacit.url);
    expect(m.get('tacit_beat_lateness_seconds')?.type).toBe('histogram');
    expect(histogramCount(m, 'tacit_beat_lateness_seconds', {})).toBeGreaterThanOrEqual(2);
    // The sweep looks every 100 ms: a beat on an idle machine is never a second late.
    expect(sampleValue(m, 'tacit_beat_lateness_seconds', 'tacit_beat_lateness_seconds_bucket', { le: '1' })).toBe(histogramCount(m, 'tacit_beat_lateness_seconds', {}));
  });

  it('shows the latency histograms, intake and delivery counters and the gauges after one alert', async () => {
    await oneAlert(tacit);
    const m = await afterOneAlert(tacit);
    expect(sampleValue(m, 'tacit_intake_total', 'tacit_intake_total', { source: 'alertmanager', status: 'accepted' })).toBe(1);
    expect(sampleValue(m, 'tacit_deliveries_total', 'tacit_deliveries_total', { outcome: 'sent' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, 'tacit_open_incidents', 'tacit_open_incidents')).toBe(1);
    expect(sampleValue(m, 'tacit_workspaces', 'tacit_workspaces')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, 'tacit_ticks_total', 'tacit_ticks_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, 'tacit_woken_total', 'tacit_woken_total')).toBeGreaterThanOrEqual(1);
    // The card went out within the test's deadline: its observed latency is bounded by it.
    expect(sampleValue(m, 'tacit_alert_to_card_seconds', 'tacit_alert_to_card_seconds_sum', { kind: 'post' })).toBeLessThan(15);

    // The same alert again is a duplicate; a wrong token is refused: both counted, both timed.
    const source = tacit.playgroundSource;
    if (!source) throw new Error('playground source missing');
    expect((await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    expect((await postAlert(tacit.url, source.id, 'wrong-token', fixture('alertmanager/firing.json'))).status).toBe(401);
    const after = await scrape(tacit.url);
    expect(sampleValue(after, 'tacit_intake_total', 'tacit_intake_total', { source: 'alertmanager', status: 'duplicate' })).toBe(1);
    expect(sampleValue(after, 'tacit_intake_total', 'tacit_intake_total', { source: 'unknown', status: 'unauthorized' })).toBe(1);
    expect(histogramCount(after, 'tacit_webhook_ack_seconds', { route: 'alert', status: '401' })).toBe(1);
  });

  it('exposes every metric the Grafana dashboard and the Prometheus rules in deploy/ use', async () => {
    const m = await scrape(tacit.url);
    const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const rules = readFileSync(new URL('../../deploy/prometheus-rules.yml', import.meta.url), 'utf8');
    const ruleExprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((r) => r[1] ?? '');
    expect(exprs.length).toBeGreaterThan(20);
    expect(ruleExprs.length).toBe([...rules.matchAll(/^\s+- alert: /gm)].length);
    const missing = [...referencedMetrics([...exprs, ...ruleExprs].join('\n'))].filter((name) => !exposes(m, name));
    expect(missing).toEqual([]);
  });
});

describe('GET /metrics on the embedded database', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true });
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
  });

  it('reads its counts and delivery times on PGlite too, and the database stays ready', async () => {
    await oneAlert(tacit);
    const m = await afterOneAlert(tacit);
    expect(sampleValue(m, 'tacit_open_incidents', 'tacit_open_incidents')).toBe(1);
    expect(sampleValue(m, 'tacit_scrape_read_up', 'tacit_scrape_read_up', { store: 'database' })).toBe(1);
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(200);
  });
});

describe('metrics of approvals and model calls', () => {
  let world: ApprovalWorld;
  beforeAll(async () => {
    world = await startApprovalWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it('counts a refused click, the approval and its execution, and times the model calls', async () => {
    const card = await world.fire('DiskFull');
    const id = approvalIdOf(card);
    expect(await click(world.tacit.url, 'bob', card.id, APPROVE_ACTION_ID, id)).toMatch(/not one of the people/);
    expect(await click(world.tacit.url, 'alice', card.id, APPROVE_ACTION_ID, id)).toMatch(/^Approved/);
    const m = await waitFor(async () => {
      const s = await scrape(world.tacit.url);
      return sampleValue(s, 'tacit_approvals_total', 'tacit_approvals_total', { outcome: 'executed' }) === 1 ? s : undefined;
    }, { what: 'the action to be counted as executed', timeoutMs: 15_000 });
    expect(sampleValue(m, 'tacit_approvals_total', 'tacit_approvals_total', { outcome: 'refused' })).toBe(1);
    expect(sampleValue(m, 'tacit_approvals_total', 'tacit_approvals_total', { outcome: 'approved' })).toBe(1);
    expect(histogramCount(m, 'tacit_model_call_seconds', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(histogramCount(m, 'tacit_model_call_seconds', { outcome: 'error' })).toBe(0);
    const calls = m.get('tacit_model_call_seconds')?.samples.filter((s) => s.name === 'tacit_model_call_seconds_count').map((s) => s.labels.call);
    expect(calls).toEqual(expect.arrayContaining(['decision']));
  });
});
