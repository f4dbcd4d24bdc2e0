// User story: a critical alert fires; the card and summary go out at once; seconds later Tacit's
// investigation follows in the thread — the metric against its threshold, the change it started
// after and the files it touched, the top log error, the last time it happened and what fixed it —
// with a chart of the metric. A log source that hangs delays nothing and is named.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvals, incidents } from '../../src/db/schema.js';
import { cardAndFindings, criticalAlert, fire, mergeBefore, startInvestigationWorld, WS, type InvestigationWorld } from '../support/investigation.js';
import { channelMessages } from '../support/playground.js';
import { waitFor } from '../support/wait.js';

describe('an investigated critical alert', () => {
  let w: InvestigationWorld;
  beforeAll(async () => {
    w = await startInvestigationWorld();
  });
  afterAll(() => w?.stop());

  it('posts findings citing the value and threshold, the suspect commit and its files, the top log error and a past incident, with a chart', async () => {
    const start = new Date(Date.now() - 3 * 60_000);
    const t0 = start.getTime();
    const expr = 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))';
    w.prometheus.setSeries(expr, [{ labels: { service: 'checkout' }, value: (t) => (t < t0 ? 0.01 : 0.12) }]);
    const noise = Array.from({ length: 20 }, (_, i): [number, string] => [t0 - 14 * 60_000 + i * 50_000, `level=error msg="cache miss for key ${1000 + i}" retrying`]);
    const planted = Array.from({ length: 40 }, (_, i): [number, string] => [t0 + 1_000 + i * 2_000, `level=error msg="connection pool exhausted (db=orders) after ${3000 + i}ms"`]);
    w.loki.push({ job: 'checkout', level: 'error' }, [...noise, ...planted]);
    await mergeBefore(w, { start, minutesBefore: 7, sha: 'c0ffee1234567890abcdef1234567890abcdef12', title: 'Shrink the checkout DB pool', files: [{ filename: 'services/checkout/db/pool.go', additions: 40, deletions: 12 }, { filename: 'services/checkout/config.yaml', additions: 2, deletions: 2 }] });
    await mergeBefore(w, { start, minutesBefore: 20, sha: 'deadbeef34567890abcdef1234567890abcdef12', title: 'Fix a typo in the README', files: [{ filename: 'README.md', additions: 1, deletions: 1 }] });
    // Five days ago the same alert fired for 20 minutes and a runbook run fixed it.
    const title = 'CheckoutErrorRate on checkout';
    const pastId = `inc_past_${randomUUID()}`;
    const pastStart = new Date(Date.now() - 5 * 86_400_000);
    await w.tacit.database.db.insert(incidents).values({
      id: pastId, workspaceId: WS, channelId: 'playground:incidents', groupKey: 'past-group', status: 'resolved', severity: 'critical', title,
      alerts: {}, startedAt: pastStart, resolvedAt: new Date(pastStart.getTime() + 20 * 60_000),
    });
    await w.tacit.database.db.insert(approvals).values({
      id: `apr_${randomUUID()}`, workspaceId: WS, action: 'runbook.restart-checkout', params: {}, paramsHash: 'x', requestedBy: 'tacit', approverPolicy: {},
      status: 'executed', expiresAt: pastStart, incidentId: pastId, executedAt: new Date(pastStart.getTime() + 15 * 60_000),
    });

    await fire(w, criticalAlert({ name: 'CheckoutErrorRate', service: 'checkout', expr: `${expr} > 0.05`, startsAt: start }));
    const { card, findings, chart } = await cardAndFindings(w.tacit, title);
    const thread = (await channelMessages(w.tacit.url)).filter((m) => m.threadId === card.id);
    // The card and the ordinary summary went out first; the findings followed.
    expect(thread.findIndex((m) => m.text.includes('is firing'))).toBeLessThan(thread.findIndex((m) => m.id === findings.id));
    expect(findings.text).toMatch(/is 0\.12 now, past its threshold > 0\.05/);
    expect(findings.text).toContain('0.01 on average in the hour before');
    expect(findings.text).toMatch(/Started 7 min after c0ffee1 \(PR #\d+ merged: Shrink the checkout DB pool\)/);
    expect(findings.text).toContain('services/checkout/db/pool.go');
    expect(findings.text).toMatch(/Top log error: "level=error msg="connection pool exhausted \(db=orders\) after Nms"" — 40×/);
    expect(findings.text).toMatch(/Seen 1 time\(s\) in 30 days, last on \d{4}-\d\d-\d\d \(lasted 20 min\); last resolved by runbook\.restart-checkout/);
    expect(findings.text).toMatch(/Most likely \((high|medium) confidence\): change c0ffee1/);
    expect(findings.text).not.toContain('Missing:');
    expect(chart?.encoding).toBe('base64');
    expect(chart?.contentType).toBe('image/png');
    expect(Buffer.from(chart?.content ?? '', 'base64').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // Every source was asked with its credentials, the alert's own expression split from its threshold.
    expect(w.prometheus.requests.some((r) => r.path === '/api/v1/query_range' && r.params.query === expr)).toBe(true);
    expect(w.loki.requests.at(-1)?.params.query).toBe('{job="checkout"} |~ "(?i)error"');

    // `@tacit why` in the thread shows which queries ran, how long they took and what came back.
    const ask = await fetch(`${w.tacit.url}/playground/api/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bob', channelId: 'playground:incidents', text: '@tacit why', threadId: card.id }),
    });
    expect(ask.status).toBe(201);
    const why = await waitFor(async () => (await channelMessages(w.tacit.url)).find((m) => m.threadId === card.id && m.text.includes('Evidence')), { what: 'the why answer' });
    expect(why.text).toMatch(/prometheus ok in \d+ ms/);
    expect(why.text).toMatch(/loki ok in \d+ ms: 60 lines/);
  });

  it('names a log source that hangs, without holding up the card', async () => {
    w.loki.hang(true);
    const start = new Date(Date.now() - 60_000);
    const expr = 'sum(rate(payment_failures_total{service="payments"}[5m]))';
    w.prometheus.setSeries(expr, [{ labels: { service: 'payments' }, value: (t) => (t < start.getTime() ? 1 : 9) }]);
    const posted = Date.now();
    await fire(w, criticalAlert({ name: 'PaymentFailures', service: 'payments', expr: `${expr} > 5`, startsAt: start }));
    const card = await waitFor(async () => (await channelMessages(w.tacit.url)).find((m) => !m.threadId && m.text.includes('PaymentFailures on payments')), { what: 'the card', timeoutMs: 1_900 });
    expect(Date.parse(card.createdAt) - posted).toBeLessThan(1_900); // inside Loki's 2 s budget: the card did not wait
    const { findings } = await cardAndFindings(w.tacit, 'PaymentFailures on payments');
    expect(findings.text).toContain('Loki did not answer in 2 s');
    expect(findings.text).toMatch(/is 9 now, past its threshold > 5/);
    w.loki.hang(false);
  });
});
