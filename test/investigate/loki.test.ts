// The Loki source against its stand-in: the LogQL template filled from the alert's labels, error
// lines deduplicated into patterns, what grew with the incident first; the stand-in refuses like Loki.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillTemplate, logWindow, patternOf, searchLogs, topLines } from '../../src/investigate/loki.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki.js';

describe('log evidence, pure', () => {
  it('fills the template from labels, escaped, and names the labels it lacks', () => {
    expect(fillTemplate('{app="{{service}}", ns="{{ namespace }}"} |= "error"', { service: 'a"b', namespace: 'prod' })).toEqual({ query: '{app="a\\"b", ns="prod"} |= "error"' });
    expect(fillTemplate('{app="{{service}}"}', {})).toEqual({ missing: ['service'] });
  });

  it('masks numbers, ids and times so repeats of one error are one pattern', () => {
    expect(patternOf('2026-12-01T10:00:00Z timeout after 3000ms id=9f8e7d6c5b4a req 4b1c2d3e-0000-4000-8000-000000000001'))
      .toBe('<time> timeout after Nms id=<id> req <uuid>');
  });

  it('ranks an error that began with the incident above steady noise', () => {
    const startedAt = 1_000_000_000;
    const { start, end } = logWindow(startedAt, startedAt + 5 * 60_000);
    const noise = Array.from({ length: 60 }, (_, i) => ({ at: start + i * 20_000, line: `warn cache miss ${i}` }));
    const burst = Array.from({ length: 12 }, (_, i) => ({ at: startedAt + i * 1_000, line: `ERROR pool exhausted after ${i}ms` }));
    const top = topLines([...noise, ...burst], { start, end, startedAt });
    expect(top[0]).toMatchObject({ pattern: 'ERROR pool exhausted after Nms', count: 12, sinceStart: 12 });
    expect(top[1]).toMatchObject({ pattern: 'warn cache miss N', count: 60 });
  });
});

describe('the Loki source', () => {
  let loki: FakeLoki;
  const auth = 'Basic cmVhZGVyOnNlY3JldA==';
  const target = (authorization = auth) => ({ url: loki.url, headers: { authorization, 'x-scope-orgid': 'team-a' }, signal: AbortSignal.timeout(3_000), name: 'Loki' });
  const now = Date.now();
  beforeAll(async () => {
    loki = await startFakeLoki({ authorization: auth, tenant: 'team-a' });
    loki.push({ job: 'api', level: 'error' }, [[now - 60_000, 'ERROR db timeout 1'], [now - 50_000, 'ERROR db timeout 2'], [now - 40_000, 'INFO ok']]);
    loki.push({ job: 'web' }, [[now - 30_000, 'ERROR unrelated']]);
  });
  afterAll(() => loki.close());

  it('returns the matching streams deduplicated, with counts', async () => {
    const found = await searchLogs(target(), '{job="api"} |~ "(?i)error"', now - 600_000, now);
    expect(found.lines).toBe(2);
    expect(found.top).toEqual([expect.objectContaining({ pattern: 'ERROR db timeout N', count: 2 })]);
  });

  it('refuses what Loki refuses: no credentials, a bad query, an empty-compatible selector, too many lines', async () => {
    await expect(searchLogs(target('Basic d3Jvbmc='), '{job="api"}', now - 600_000, now)).rejects.toThrow(/Loki answered 401/);
    await expect(searchLogs(target(), 'job="api"', now - 600_000, now)).rejects.toThrow(/Loki answered 400: parse error at line 1, col 1/);
    await expect(searchLogs(target(), '{job=~".*"}', now - 600_000, now)).rejects.toThrow(/at least one regexp or equality matcher/);
    await expect(searchLogs(target(), '{job="api"}', now - 600_000, now, 6_000)).rejects.toThrow(/max entries limit per query exceeded/);
  });
});
