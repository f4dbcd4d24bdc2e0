// The Prometheus source against its stand-in: the alert's expression from its generatorURL, split
// from its threshold; the summary (current, before, peak, trend); and the API's refusals kept apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exprFromGeneratorUrl, metricEvidence, splitComparison, trendOf } from '../../src/investigate/prometheus.js';
import { bounded } from '../../src/investigate/sources.js';
import { SourceRejectedError } from '../../src/investigate/errors.js';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus.js';

describe('the alert expression', () => {
  it('comes from the generatorURL g0.expr', () => {
    const url = 'http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Breason%3D%22CrashLoopBackOff%22%7D%5B5m%5D%29+%3E%3D+1&g0.tab=1';
    expect(exprFromGeneratorUrl(url)).toBe('max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1');
    expect(exprFromGeneratorUrl('https://grafana.example/d/abc')).toBeNull();
    expect(exprFromGeneratorUrl('not a url')).toBeNull();
  });

  it('is split from a top-level comparison with a number, and only that', () => {
    expect(splitComparison('rate(x[5m]) > 0.05')).toEqual({ value: 'rate(x[5m])', comparison: { op: '>', threshold: 0.05 } });
    expect(splitComparison('sum(a) / sum(b) >= 1e-3')).toEqual({ value: 'sum(a) / sum(b)', comparison: { op: '>=', threshold: 0.001 } });
    expect(splitComparison('up == 0')).toEqual({ value: 'up', comparison: { op: '==', threshold: 0 } });
    expect(splitComparison('absent(up{job="x"})').comparison).toBeNull();
    expect(splitComparison('count(x > 5)').comparison).toBeNull();
  });

  it('has a trend only with enough points, and a flat one within 10 %', () => {
    expect(trendOf([1, 2])).toBe('unknown');
    expect(trendOf([1, 1, 1, 2, 3, 4])).toBe('rising');
    expect(trendOf([4, 4, 3, 1, 1, 1])).toBe('falling');
    expect(trendOf([1, 1.05, 1, 1.02, 0.98, 1])).toBe('flat');
  });
});

describe('the Prometheus source', () => {
  let prom: FakePrometheus;
  const auth = 'Bearer reader';
  const target = (signal: AbortSignal, authorization = auth) => ({ url: prom.url, headers: { authorization }, signal, name: 'Prometheus' });
  const start = Date.now() - 10 * 60_000;
  beforeAll(async () => {
    prom = await startFakePrometheus({ authorization: auth });
    prom.setSeries('rate(errors_total[5m])', [
      { labels: { instance: 'a' }, value: (t) => (t < start ? 0.01 : 0.2) },
      { labels: { instance: 'b' }, value: () => 0.02 },
    ]);
  });
  afterAll(() => prom.close());

  it('summarises the series highest now against its threshold', async () => {
    const m = await metricEvidence(target(AbortSignal.timeout(5_000)), 'rate(errors_total[5m]) > 0.1', start, Date.now());
    expect(m).toMatchObject({ expr: 'rate(errors_total[5m])', comparison: { op: '>', threshold: 0.1 }, current: 0.2, peak: 0.2, series: 2, labels: { instance: 'a' } });
    expect(m.before).toBeCloseTo(0.01, 6);
    expect(m.points.length).toBeGreaterThan(10);
    expect(m.points.length).toBeLessThanOrEqual(240);
  });

  it('tells a refused credential, a bad query and an execution error apart', async () => {
    const run = (expr: string, authorization?: string) => bounded('prometheus', expr, { sourceTimeoutMs: 2_000 }, (s) => metricEvidence(target(s, authorization), expr, start, Date.now()), () => false);
    const refused = await run('up', 'Bearer wrong');
    expect(refused.outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('Prometheus answered 401') });
    const bad = await run('sum(rate(x[5m])');
    expect(bad.outcome.error).toMatch(/Prometheus answered 400: bad_data: .*unclosed left parenthesis/);
    prom.failExecution('heavy', 'query processing would load too many samples into memory in query execution');
    const heavy = await run('heavy');
    expect(heavy.outcome.error).toMatch(/Prometheus answered 422: execution: query processing would load too many samples/);
    await expect(metricEvidence(target(AbortSignal.timeout(2_000), 'Bearer wrong'), 'up', start, Date.now())).rejects.toThrow(SourceRejectedError);
  });

  it('gives up on a source that hangs at its limit, and says so', async () => {
    prom.hang(true);
    const t0 = Date.now();
    const hung = await bounded('prometheus', 'up', { sourceTimeoutMs: 300 }, (s) => metricEvidence(target(s), 'up', start, Date.now()), () => false);
    prom.hang(false);
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(hung.outcome).toMatchObject({ status: 'timeout', error: 'no answer in 0 s' });
  });
});
