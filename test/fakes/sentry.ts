// A local Sentry web API for issue updates: PUT /api/0/issues/:id/ with a Bearer auth token and a
// `status` of resolved, unresolved or ignored (Sentry's "Update an Issue"). Refuses a bad token
// (401), an unknown issue (404) and a bad status (400); every request is recorded in `calls`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSentry {
  apiUrl: string;
  issues: Map<string, { id: string; status: 'resolved' | 'unresolved' | 'ignored' }>;
  calls: { method: string; path: string; status: number; body: unknown }[];
  close(): Promise<void>;
}

export async function startFakeSentry(opts: { token: string }): Promise<FakeSentry> {
  const issues: FakeSentry['issues'] = new Map();
  const calls: FakeSentry['calls'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: unknown = null;
      try {
        body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
      } catch {
        body = null;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const call = { method: req.method ?? 'GET', path, status: 0, body };
      calls.push(call);
      const send = (status: number, data: unknown) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (req.headers.authorization !== `Bearer ${opts.token}`) return send(401, { detail: 'Invalid token' });
      const m = /^\/api\/0\/issues\/(\d+)\/$/.exec(path);
      const issue = m ? issues.get(m[1] ?? '') : undefined;
      if (!issue) return send(404, { detail: 'The requested resource does not exist' });
      if (req.method === 'GET') return send(200, issue);
      if (req.method !== 'PUT') return send(405, { detail: `Method "${req.method}" not allowed.` });
      const status = (body as { status?: unknown } | null)?.status;
      if (status !== 'resolved' && status !== 'unresolved' && status !== 'ignored') return send(400, { status: ['"' + String(status) + '" is not a valid choice.'] });
      issue.status = status;
      send(200, issue);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { apiUrl: `http://127.0.0.1:${port}`, issues, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
