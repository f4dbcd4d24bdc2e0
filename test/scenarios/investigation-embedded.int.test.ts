// The investigation story on the embedded database (PGlite, one connection): the job's claim, its
// evidence transaction and the tick that tells the findings share it without deadlocking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAndFindings, criticalAlert, fire, mergeBefore, startInvestigationWorld, type InvestigationWorld } from '../support/investigation.js';

describe('an investigated critical alert on the embedded database', () => {
  let w: InvestigationWorld;
  beforeAll(async () => {
    w = await startInvestigationWorld({ embedded: true });
  });
  afterAll(() => w?.stop());

  it('posts findings with the metric, the suspect commit, the logs and the chart', async () => {
    const start = new Date(Date.now() - 2 * 60_000);
    const expr = 'histogram_quantile(0.99, sum by (le) (rate(search_latency_seconds_bucket{service="search"}[5m])))';
    w.prometheus.setSeries(expr, [{ labels: { service: 'search' }, value: (t) => (t < start.getTime() ? 0.3 : 2.5) }]);
    w.loki.push({ job: 'search' }, [[start.getTime() + 5_000, 'ERROR index shard 3 unavailable'], [start.getTime() + 9_000, 'ERROR index shard 4 unavailable']]);
    await mergeBefore(w, { start, minutesBefore: 4, sha: 'ab12cd34ef567890ab12cd34ef567890ab12cd34', title: 'Move the search index to new shards', files: [{ filename: 'search/index/shards.ts', additions: 80, deletions: 20 }] });
    await fire(w, criticalAlert({ name: 'SearchLatency', service: 'search', expr: `${expr} > 1`, startsAt: start }));
    const { findings, chart } = await cardAndFindings(w.tacit, 'SearchLatency on search');
    expect(findings.text).toMatch(/is 2\.5 now, past its threshold > 1/);
    expect(findings.text).toMatch(/Started 4 min after ab12cd3 .* touching search\/index\/shards\.ts/);
    expect(findings.text).toMatch(/Top log error: "ERROR index shard N unavailable" — 2×/);
    expect(chart?.contentType).toBe('image/png');
  });
});
