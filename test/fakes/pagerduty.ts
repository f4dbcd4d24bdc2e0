// A local PagerDuty REST API v2: GET/PUT /incidents/:id and the bulk PUT /incidents, with its auth
// ("Token token=…"), the From header it requires for updates (a PagerDuty user's email, when `users`
// is given), and its refusals: 401 for a bad token, 400 without From (or with a stranger's), 404 for
// an unknown incident, 400 for acknowledging a resolved one. Every request is recorded in `calls`.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerOnCalls, type FakeOnCalls } from './pagerduty-oncalls.js';

type Status = 'triggered' | 'acknowledged' | 'resolved';

export interface FakePagerdutyCall {
  method: string;
  path: string;
  status: number;
  from: string | undefined;
  /** The status asked for, for updates. */
  wanted?: string;
}

export interface FakePagerduty {
  apiUrl: string;
  incidents: Map<string, { id: string; status: Status }>;
  /** Accepted status changes, in order. */
  updates: { id: string; status: string; from: string | undefined }[];
  /** Every request, refused ones included. */
  calls: FakePagerdutyCall[];
  /** Who is on call (GET /oncalls, GET /users/{id}): fill in users and entries (pagerduty-oncalls.ts). */
  oncalls: FakeOnCalls;
  close(): Promise<void>;
}

const invalid = (errors: string[]) => ({ error: { message: 'Invalid Input Provided', code: 2001, errors } });

export async function startFakePagerduty(opts: { token: string; users?: string[] }): Promise<FakePagerduty> {
  const incidents = new Map<string, { id: string; status: Status }>();
  const updates: FakePagerduty['updates'] = [];
  const calls: FakePagerdutyCall[] = [];
  const oncalls: FakeOnCalls = { users: new Map(), entries: [] };

  /** One status change, as PagerDuty applies it; an error body when it refuses. */
  const change = (id: string, wanted: unknown, from: string | undefined): { status: number; body: unknown } => {
    const incident = incidents.get(id);
    if (!incident) return { status: 404, body: { error: { message: 'Not Found', code: 2100 } } };
    if (wanted !== 'acknowledged' && wanted !== 'resolved') return { status: 400, body: invalid(['Incident status must be acknowledged or resolved']) };
    if (incident.status === 'resolved' && wanted === 'acknowledged') return { status: 400, body: invalid(['Incident Already Resolved']) };
    incident.status = wanted;
    updates.push({ id, status: wanted, from });
    return { status: 200, body: { incident: { ...incident, type: 'incident' } } };
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const from = req.headers.from as string | undefined;
      const call: FakePagerdutyCall = { method: req.method ?? 'GET', path, status: 0, from };
      calls.push(call);
      const send = (status: number, data: unknown) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (req.headers.authorization !== `Token token=${opts.token}`) return send(401, { error: { message: 'Unauthorized', code: 2006 } });
      if (req.method === 'GET' && answerOnCalls(oncalls, req.url ?? '/', send)) return;
      const one = /^\/incidents\/([A-Z0-9]+)$/.exec(path);
      if (req.method === 'GET' && one) {
        const incident = incidents.get(one[1] ?? '');
        return incident ? send(200, { incident }) : send(404, { error: { message: 'Not Found', code: 2100 } });
      }
      if (req.method !== 'PUT' || !(one || path === '/incidents')) return send(405, {});
      if (!from) return send(400, invalid(['From header is required']));
      if (opts.users && !opts.users.includes(from)) return send(400, invalid(['Requester User Not Found']));
      const input = await readJson(req);
      if (one) {
        const body = input as { incident?: { type?: string; status?: string } } | null;
        if (body?.incident?.type !== 'incident' && body?.incident?.type !== 'incident_reference') return send(400, invalid(['incident.type must be incident or incident_reference']));
        call.wanted = body.incident.status;
        const out = change(one[1] ?? '', body.incident.status, from);
        return send(out.status, out.body);
      }
      // Bulk: PUT /incidents with { incidents: [{ id, type, status }] }; each one changes or the request fails.
      const list = (input as { incidents?: { id?: string; type?: string; status?: string }[] } | null)?.incidents;
      if (!Array.isArray(list) || list.length === 0 || list.length > 250) return send(400, invalid(['incidents must be a list of 1 to 250 incident references']));
      const changed: unknown[] = [];
      for (const item of list) {
        call.wanted = item.status;
        const out = change(item.id ?? '', item.status, from);
        if (out.status !== 200) return send(out.status, out.body);
        changed.push((out.body as { incident: unknown }).incident);
      }
      send(200, { incidents: changed });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { apiUrl: `http://127.0.0.1:${port}`, incidents, updates, calls, oncalls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}
