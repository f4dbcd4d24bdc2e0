// A local Prometheus HTTP API (/api/v1/query, /api/v1/query_range) for evidence tests: scripted series
// per expression, answered in Prometheus's envelopes ({status:'success',data:{resultType,result}} or
// {status:'error',errorType,error}: 400 bad_data for bad parameters and unparseable queries, 422
// execution for a query scripted to fail). It refuses requests without the configured Authorization
// (401, as the proxy in front of a real one does), and can hang to test deadlines.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hangable } from './hang.js';

export interface FakeSeries {
  labels: Record<string, string>;
  /** The value at a time (ms since epoch); NaN for no sample. */
  value(atMs: number): number;
}

export interface FakePrometheus {
  url: string;
  /** Every authorised request: path and query parameters. */
  requests: { path: string; params: Record<string, string> }[];
  /** Series returned for this exact expression (whitespace-insensitive). Unknown expressions return no series. */
  setSeries(expr: string, series: FakeSeries[]): void;
  /** Makes this expression fail at execution (422), as a query over too many samples does. */
  failExecution(expr: string, message: string): void;
  /** While on, requests are held open without an answer. */
  hang(on: boolean): void;
  close(): Promise<void>;
}

const MAX_POINTS = 11_000;
const norm = (e: string) => e.replace(/\s+/g, '');

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const bad = (res: ServerResponse, error: string) => send(res, 400, { status: 'error', errorType: 'bad_data', error });

/** Prometheus accepts RFC 3339 or Unix seconds (with decimals). */
function parseTime(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function parseStep(v: string | undefined): number | null {
  if (!v) return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

/** The errors a PromQL parser reports first: unbalanced brackets, an empty query, a dangling operator. */
function parseError(expr: string): string | null {
  if (expr.trim() === '') return 'invalid parameter "query": unknown position: parse error: no expression found in input';
  let depth = 0;
  for (const c of expr) {
    if (c === '(' || c === '{' || c === '[') depth++;
    if (c === ')' || c === '}' || c === ']') depth--;
    if (depth < 0) return `invalid parameter "query": 1:1: parse error: unexpected right parenthesis ')'`;
  }
  if (depth > 0) return `invalid parameter "query": 1:${expr.length}: parse error: unclosed left parenthesis`;
  if (/[+\-*/<>=]\s*$/.test(expr)) return `invalid parameter "query": 1:${expr.length}: parse error: unexpected end of input`;
  return null;
}

export async function startFakePrometheus(opts: { authorization: string }): Promise<FakePrometheus> {
  const series = new Map<string, FakeSeries[]>();
  const failing = new Map<string, string>();
  const requests: FakePrometheus['requests'] = [];

  async function params(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
    const out = Object.fromEntries(url.searchParams);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      Object.assign(out, Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    }
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== opts.authorization) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end('Unauthorized\n');
      return;
    }
    if (url.pathname !== '/api/v1/query' && url.pathname !== '/api/v1/query_range') return send(res, 404, { status: 'error', errorType: 'not_found', error: `${url.pathname} not found` });
    if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { status: 'error', errorType: 'bad_data', error: 'method not allowed' });
    const p = await params(req, url);
    requests.push({ path: url.pathname, params: p });
    if (hang.hold(res)) return;
    const expr = p.query ?? '';
    const problem = parseError(expr);
    if (problem) return bad(res, problem);
    const failure = failing.get(norm(expr));
    if (failure) return send(res, 422, { status: 'error', errorType: 'execution', error: failure });
    const matched = series.get(norm(expr)) ?? [];
    if (url.pathname === '/api/v1/query') {
      const at = p.time === undefined ? Date.now() : parseTime(p.time);
      if (at === null) return bad(res, `invalid parameter "time": cannot parse "${p.time}" to a valid timestamp`);
      const result = matched.flatMap((s) => {
        const v = s.value(at);
        return Number.isNaN(v) ? [] : [{ metric: s.labels, value: [at / 1000, String(v)] }];
      });
      return send(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    }
    const start = parseTime(p.start);
    const end = parseTime(p.end);
    const step = parseStep(p.step);
    if (start === null) return bad(res, `invalid parameter "start": cannot parse "${p.start ?? ''}" to a valid timestamp`);
    if (end === null) return bad(res, `invalid parameter "end": cannot parse "${p.end ?? ''}" to a valid timestamp`);
    if (end < start) return bad(res, 'invalid parameter "end": end timestamp must not be before start time');
    if (step === null || step <= 0) return bad(res, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((end - start) / step > MAX_POINTS) return bad(res, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    const result = matched.map((s) => {
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += step) {
        const v = s.value(t);
        if (!Number.isNaN(v)) values.push([t / 1000, String(v)]);
      }
      return { metric: s.labels, values };
    }).filter((s) => s.values.length > 0);
    return send(res, 200, { status: 'success', data: { resultType: 'matrix', result } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { status: 'error', errorType: 'internal', error: String(err) }));
  });
  const hang = hangable(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setSeries: (expr, list) => void series.set(norm(expr), list),
    failExecution: (expr, message) => void failing.set(norm(expr), message),
    hang: (on) => hang.set(on),
    close: () => hang.close(),
  };
}
