// Row 6: authenticated garbage over every webhook route: random bytes, truncated JSON, wrong types,
// huge strings, deep nesting, odd Unicode, wrong content types. Each body is signed correctly, so it
// reaches the parser. 0 crashes (the process stays up, /healthz 200) and 0 5xx. A body that got a 5xx
// is saved next to the logs for reproduction.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from './run.js';
import { healthy } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { credentials, fixture, routeUrl, send, Tally, type Route } from './senders.js';
import { logDir, startWorld, type World } from './world.js';

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with CHAOS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
const int = (r: Rand, max: number) => Math.floor(r() * max);

interface Base {
  route: Route;
  body: string;
  /** GitHub event name or Sentry resource. */
  event?: string;
  contentType?: string;
}

function bases(world: World): Base[] {
  const channel = world.channels[0] ?? '';
  const envelope = (event: Record<string, unknown>) => JSON.stringify(world.slack.eventEnvelope(event));
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const formType = 'application/x-www-form-urlencoded';
  return [
    { route: 'alertmanager', body: fixture('alertmanager/firing.json') },
    { route: 'alertmanager', body: fixture('alertmanager/resolved.json') },
    { route: 'grafana', body: fixture('grafana/firing.json') },
    { route: 'pagerduty', body: fixture('pagerduty/incident.triggered.json') },
    { route: 'pagerduty', body: fixture('pagerduty/incident.annotated.json') },
    { route: 'sentry', body: fixture('sentry/event_alert.triggered.json'), event: 'event_alert' },
    { route: 'sentry', body: fixture('sentry/metric_alert.critical.json'), event: 'metric_alert' },
    { route: 'sentry', body: fixture('sentry/issue.resolved.json'), event: 'issue' },
    { route: 'generic', body: fixture('generic/datadog.triggered.json') },
    { route: 'generic', body: fixture('generic/opsgenie.create.json') },
    { route: 'github', body: fixture('github/push.json'), event: 'push' },
    { route: 'github', body: fixture('github/workflow_run.completed.json'), event: 'workflow_run' },
    { route: 'github', body: fixture('github/pull_request.closed.json'), event: 'pull_request' },
    { route: 'github', body: fixture('github/check_run.completed.json'), event: 'check_run' },
    { route: 'github', body: fixture('github/deployment_status.created.json'), event: 'deployment_status' },
    { route: 'slack', body: envelope({ type: 'message', channel, channel_type: 'channel', user: 'U0ALICE', text: 'hello', ts: '1764590000.000100' }) },
    { route: 'slack', body: envelope({ type: 'app_mention', channel, user: 'U0ALICE', text: '<@U0TACITBOT> status?', ts: '1764590000.000200' }) },
    { route: 'slack', body: JSON.stringify({ type: 'url_verification', token: 'x', challenge: 'abc' }) },
    {
      route: 'slack', contentType: formType,
      body: form({ payload: JSON.stringify({ type: 'block_actions', team: { id: 'T0TACIT01' }, user: { id: 'U0ALICE' }, channel: { id: channel }, message: { ts: '1.0' }, actions: [{ action_id: 'incident.acknowledge', value: 'inc_x' }] }) }),
    },
    { route: 'slack', contentType: formType, body: form({ command: '/tacit', text: 'status', team_id: 'T0TACIT01', channel_id: channel, user_id: 'U0ALICE', response_url: 'http://127.0.0.1:9/x', trigger_id: '1' }) },
  ];
}

const WRONG: unknown[] = [null, 0, -1, 1.5, 1e308, -1e308, true, false, '', 'x', [], {}, [1, 'a', null], { a: { b: [] } }, '2026-13-45T99:99:99Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '\u0000', '<@U0ALICE> <!channel>', 'constructor'];

function mutateTypes(r: Rand, value: unknown, depth = 0): unknown {
  if (r() < 0.15) return pick(r, WRONG);
  if (Array.isArray(value)) return value.map((v) => mutateTypes(r, v, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mutateTypes(r, v, depth + 1)]));
  return value;
}

function replaceOneString(r: Rand, value: unknown, replacement: () => unknown): unknown {
  let done = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string' && !done && r() < 0.3) {
      done = true;
      return replacement();
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

const nested = (depth: number, open: string, close: string, inner = '1') => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** One fuzz body: what was done to which base, and the bytes. */
function mutate(r: Rand, base: Base): { kind: string; body: Buffer; contentType?: string } {
  const json = (): unknown => JSON.parse(base.body.startsWith('{') || base.body.startsWith('[') ? base.body : '{}');
  const buf = (s: string) => Buffer.from(s, 'utf8');
  switch (int(r, 10)) {
    case 0: {
      const bytes = Buffer.alloc(int(r, 4_000));
      for (let i = 0; i < bytes.length; i++) bytes[i] = int(r, 256);
      return { kind: 'random bytes', body: bytes };
    }
    case 1:
      return { kind: 'truncated', body: buf(base.body.slice(0, int(r, base.body.length))) };
    case 2:
      return { kind: 'wrong types', body: buf(JSON.stringify(mutateTypes(r, json()))) };
    case 3: {
      const size = pick(r, [10_000, 100_000, 500_000, 1_000_000, 2_000_000]);
      return { kind: `huge string ${size}`, body: buf(JSON.stringify(replaceOneString(r, json(), () => 'A'.repeat(size)))) };
    }
    case 4: {
      const depth = pick(r, [100, 1_000, 10_000, 100_000]);
      const [open, close] = pick(r, [['[', ']'], ['{"a":', '}']] as const);
      if (r() < 0.5) return { kind: `deep nesting ${depth}`, body: buf(nested(depth, open, close)) };
      const marker = '"__DEEP__"';
      const withMarker = JSON.stringify(replaceOneString(r, json(), () => '__DEEP__'));
      return { kind: `deep nesting in a field ${depth}`, body: buf(withMarker.replace(marker, nested(depth, open, close))) };
    }
    case 5: {
      const contentType = pick(r, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/octet-stream', '']);
      return { kind: `content type ${contentType || '(none)'}`, body: buf(base.body), contentType };
    }
    case 6: {
      const odd = pick(r, ['\\ud800', '\\udfff\\ud800', '\\u0000', '\\u202e', '\uFEFF', '\uD83D\uDE00'.repeat(1000)]);
      const text = JSON.stringify(replaceOneString(r, json(), () => '__ODD__')).replace('__ODD__', odd);
      if (r() < 0.3) return { kind: 'invalid utf-8', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf(text.slice(0, 50)), Buffer.from([0xc0, 0x80, 0xff, 0xfe]), buf(text.slice(50))]) };
      return { kind: 'odd unicode', body: buf(text) };
    }
    case 7: {
      // Found by this fuzz (Bolt reads authorizations[0].is_enterprise_install): kept as a fixed case.
      if (base.route === 'slack' && r() < 0.3) return { kind: 'authorizations [null]', body: buf(JSON.stringify({ ...(json() as object), authorizations: [null] })) };
      const shape = pick(r, ['null', '[]', '1', '"s"', '{}', 'true', '1e999999', '-0', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":1,"a":2}', '{"alerts":[]}', '{"alerts":null}', '{"alerts":[null]}', '{"event":null}', '{"type":"event_callback","event":[]}', '{"payload":"x"}']);
      return { kind: `shape ${shape.slice(0, 20)}`, body: buf(shape) };
    }
    case 8: {
      const keys = pick(r, [1_000, 20_000]);
      const obj: Record<string, unknown> = typeof json() === 'object' ? { ...(json() as object) } : {};
      for (let i = 0; i < keys; i++) obj[`k${i}${'x'.repeat(int(r, 20))}`] = i;
      return { kind: `many keys ${keys}`, body: buf(JSON.stringify(obj)) };
    }
    default: {
      // Slack form bodies: the payload field itself fuzzed.
      const inner = mutate(r, { ...base, body: base.body });
      return { kind: `form payload (${inner.kind})`, body: buf(new URLSearchParams({ payload: inner.body.toString('latin1') }).toString()), contentType: 'application/x-www-form-urlencoded' };
    }
  }
}

export const fuzz: Scenario = {
  id: 'fuzz',
  name: 'fuzz webhook bodies',
  async run({ short }) {
    const row = emptyRow(this.name);
    const [total, concurrency] = short ? [1_000, 6] : [10_000, 8];
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const r = prng(seed);
    const world = await startWorld({ name: 'fuzz', allKinds: true });
    const t0 = Date.now();
    try {
      const list = bases(world);
      const tally = new Tally();
      const byRoute = new Map(list.map((b) => [b.route, new Tally()]));
      const examples: string[] = [];
      let saved = 0;
      let unhealthy = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            const i = next++;
            const base = list[i % list.length] as Base;
            const m = mutate(r, base);
            const contentType = m.contentType ?? base.contentType ?? 'application/json';
            const source = base.route === 'slack' ? undefined : world.byKind[base.route];
            const headers = credentials(base.route, source, m.body, { contentType, event: base.event });
            if (contentType === '') delete headers['content-type'];
            tally.sent++;
            const answer = await send(routeUrl(world, base.route), m.body, headers, 30_000);
            tally.record(answer.status);
            byRoute.get(base.route)?.record(answer.status);
            if (answer.status >= 200 && answer.status < 300) tally.acked++;
            if (answer.status >= 500 || answer.status === 0) {
              if (examples.length < 5) examples.push(`${base.route} ${m.kind} → ${answer.status || 'no answer'} ${answer.body.slice(0, 100)}`);
              if (saved < 20) writeFileSync(join(logDir, `fuzz-${answer.status}-${base.route}-${saved++}.bin`), m.body);
            }
            if (i % 250 === 249 && !(await healthy(world))) {
              unhealthy++;
              // Keep fuzzing after a crash, so one bug does not hide the others.
              if (!world.tacit.alive) await world.tacit.start();
            }
          }
        }),
      );
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = [...tally.statuses.entries()].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      expect(row, row.serverErrors === 0, `${row.serverErrors} answers were 5xx, e.g. ${examples.join('; ')}`);
      expect(row, tally.connectionFailures === 0, `${tally.connectionFailures} requests got no answer`);
      expect(row, row.crashes === 0 && unhealthy === 0, `Tacit crashed ${world.tacit.crashes} times; /healthz failed ${unhealthy} times`);
      row.notes.push(`seed ${seed} (CHAOS_SEED=${seed} repeats it); answers ${tally.summary()}`);
      row.notes.push(`by route — ${[...byRoute.entries()].map(([route, t]) => `${route}: ${t.summary()}`).join('; ')}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
    }
    return row;
  },
};
