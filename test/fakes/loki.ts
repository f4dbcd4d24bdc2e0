// A local Loki query API (GET /loki/api/v1/query_range) for evidence tests: pushed log streams,
// queried with a LogQL subset (a stream selector with =, !=, =~, !~ matchers and line filters |=, !=,
// |~, !~), answered in Loki's streams envelope. Like Loki it answers bad queries and parameters with
// 400 and a plain-text reason, refuses requests without the configured Authorization (401) or, when
// set, without the tenant's X-Scope-OrgID, caps entries at max_entries_limit, and can hang.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hangable } from './hang.js';

export interface FakeLoki {
  url: string;
  requests: { params: Record<string, string>; headers: Record<string, string | undefined> }[];
  /** Adds lines (ms since epoch, text) to the stream with these labels. */
  push(labels: Record<string, string>, lines: Array<[number, string]>): void;
  hang(on: boolean): void;
  close(): Promise<void>;
}

const MAX_ENTRIES = 5_000;

type Matcher = { name: string; op: '=' | '!=' | '=~' | '!~'; value: string };
type Filter = { op: '|=' | '!=' | '|~' | '!~'; value: string };

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}

/** A Go-style double-quoted or backquoted string at `at`; returns the value and the index after it. */
function readString(q: string, at: number): { value: string; next: number } | null {
  const quote = q[at];
  if (quote === '`') {
    const end = q.indexOf('`', at + 1);
    return end < 0 ? null : { value: q.slice(at + 1, end), next: end + 1 };
  }
  if (quote !== '"') return null;
  let value = '';
  for (let i = at + 1; i < q.length; i++) {
    const c = q[i];
    if (c === '\\') {
      value += q[i + 1] ?? '';
      i++;
    } else if (c === '"') {
      return { value, next: i + 1 };
    } else {
      value += c;
    }
  }
  return null;
}

export function parseLogQl(query: string): { matchers: Matcher[]; filters: Filter[] } | { error: string } {
  const q = query.trim();
  const fail = (col: number, what: string) => ({ error: `parse error at line 1, col ${col + 1}: syntax error: ${what}` });
  if (!q.startsWith('{')) return fail(0, q.length === 0 ? 'unexpected end of input' : `unexpected ${q.split(/\s/)[0] ?? ''}, expecting {`);
  const matchers: Matcher[] = [];
  let i = 1;
  const skip = () => {
    while (q[i] === ' ' || q[i] === ',') i++;
  };
  skip();
  while (q[i] !== '}') {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i))?.[0];
    if (!name) return fail(i, 'unexpected character, expecting IDENTIFIER');
    i += name.length;
    while (q[i] === ' ') i++;
    const op = (['=~', '!~', '!=', '='] as const).find((o) => q.startsWith(o, i));
    if (!op) return fail(i, 'unexpected character, expecting = or != or =~ or !~');
    i += op.length;
    while (q[i] === ' ') i++;
    const s = readString(q, i);
    if (!s) return fail(i, 'unexpected character, expecting STRING');
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(s.value);
      } catch {
        return fail(i, `invalid regular expression ${s.value}`);
      }
    }
    matchers.push({ name, op, value: s.value });
    i = s.next;
    skip();
    if (i >= q.length) return fail(i, 'unexpected end of input, expecting }');
  }
  i++;
  if (!matchers.some((m) => (m.op === '=' && m.value !== '') || (m.op === '=~' && !new RegExp(`^(?:${m.value})$`).test('')))) {
    return { error: 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will' };
  }
  const filters: Filter[] = [];
  for (;;) {
    while (q[i] === ' ') i++;
    if (i >= q.length) break;
    const op = (['|=', '!=', '|~', '!~'] as const).find((o) => q.startsWith(o, i));
    if (!op) return fail(i, `unexpected ${q.slice(i, i + 10)}`);
    i += op.length;
    while (q[i] === ' ') i++;
    const s = readString(q, i);
    if (!s) return fail(i, 'unexpected character, expecting STRING');
    if (op === '|~' || op === '!~') {
      try {
        new RegExp(s.value.replace(/^\(\?i\)/, ''));
      } catch {
        return fail(i, `invalid regular expression ${s.value}`);
      }
    }
    filters.push({ op, value: s.value });
    i = s.next;
  }
  return { matchers, filters };
}

/** Go's RE2 `(?i)` prefix, which JavaScript spells as a flag. */
function goRegex(pattern: string, anchored: boolean): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const body = insensitive ? pattern.slice(4) : pattern;
  return new RegExp(anchored ? `^(?:${body})$` : body, insensitive ? 'i' : '');
}

function matches(labels: Record<string, string>, m: Matcher): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return goRegex(m.value, true).test(v);
    case '!~':
      return !goRegex(m.value, true).test(v);
  }
}

function passes(line: string, f: Filter): boolean {
  switch (f.op) {
    case '|=':
      return line.includes(f.value);
    case '!=':
      return !line.includes(f.value);
    case '|~':
      return goRegex(f.value, false).test(line);
    case '!~':
      return !goRegex(f.value, false).test(line);
  }
}

/** Loki takes nanosecond integers, or RFC 3339. */
function parseNs(v: string | undefined, fallback: bigint): bigint | null {
  if (v === undefined || v === '') return fallback;
  if (/^\d+$/.test(v)) return BigInt(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : BigInt(t) * 1_000_000n;
}

export async function startFakeLoki(opts: { authorization: string; tenant?: string }): Promise<FakeLoki> {
  const streams = new Map<string, { labels: Record<string, string>; lines: Array<[bigint, string]> }>();
  const requests: FakeLoki['requests'] = [];

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== opts.authorization) return text(res, 401, 'Unauthorized');
    if (opts.tenant && req.headers['x-scope-orgid'] !== opts.tenant) return text(res, 401, 'no org id');
    if (url.pathname !== '/loki/api/v1/query_range') return text(res, 404, '404 page not found');
    if (req.method !== 'GET') return text(res, 405, 'method not allowed');
    const params = Object.fromEntries(url.searchParams);
    requests.push({ params, headers: { authorization: req.headers.authorization, 'x-scope-orgid': req.headers['x-scope-orgid'] as string | undefined } });
    if (hang.hold(res)) return;
    const parsed = parseLogQl(params.query ?? '');
    if ('error' in parsed) return text(res, 400, parsed.error);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const end = parseNs(params.end, nowNs);
    const start = parseNs(params.start, nowNs - 3_600_000_000_000n);
    if (start === null) return text(res, 400, `invalid start parameter: cannot parse "${params.start ?? ''}"`);
    if (end === null) return text(res, 400, `invalid end parameter: cannot parse "${params.end ?? ''}"`);
    if (end < start) return text(res, 400, 'the end timestamp must not be before the start time');
    const limit = params.limit === undefined ? 100 : Number(params.limit);
    if (!Number.isInteger(limit) || limit <= 0) return text(res, 400, 'limit must be a positive value');
    if (limit > MAX_ENTRIES) return text(res, 400, `max entries limit per query exceeded, limit > max_entries_limit (${limit} > ${MAX_ENTRIES})`);
    const direction = params.direction ?? 'backward';
    if (direction !== 'backward' && direction !== 'forward') return text(res, 400, `invalid direction "${direction}"`);
    // Entries of every matching stream, in the asked direction, at most `limit` in all; end is exclusive.
    const entries = [...streams.values()]
      .filter((s) => parsed.matchers.every((m) => matches(s.labels, m)))
      .flatMap((s) => s.lines.filter(([ns, line]) => ns >= start && ns < end && parsed.filters.every((f) => passes(line, f))).map(([ns, line]) => ({ s, ns, line })))
      .sort((a, b) => (direction === 'backward' ? Number(b.ns - a.ns) : Number(a.ns - b.ns)))
      .slice(0, limit);
    const grouped = new Map<(typeof entries)[number]['s'], [string, string][]>();
    for (const e of entries) grouped.set(e.s, [...(grouped.get(e.s) ?? []), [String(e.ns), e.line]]);
    const result = [...grouped].map(([s, values]) => ({ stream: s.labels, values }));
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result, stats: { summary: { totalEntriesReturned: entries.length } } } }));
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      text(res, 500, String(err));
    }
  });
  const hang = hangable(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    push(labels, lines) {
      const key = JSON.stringify(Object.entries(labels).sort());
      const s = streams.get(key) ?? { labels, lines: [] };
      s.lines.push(...lines.map(([ms, line]): [bigint, string] => [BigInt(ms) * 1_000_000n, line]));
      streams.set(key, s);
    },
    hang: (on) => hang.set(on),
    close: () => hang.close(),
  };
}
