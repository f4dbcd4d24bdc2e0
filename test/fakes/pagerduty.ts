// A local PagerDuty REST API v2: GET/PUT /incidents/:id with its auth ("Token token=…") and the
// From header it requires for updates.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePagerduty {
  apiUrl: string;
  incidents: Map<string, { id: string; status: 'triggered' | 'acknowledged' | 'resolved' }>;
  updates: { id: string; status: string; from: string | undefined }[];
  close(): Promise<void>;
}

export async function startFakePagerduty(opts: { token: string }): Promise<FakePagerduty> {
  const incidents = new Map<string, { id: string; status: 'triggered' | 'acknowledged' | 'resolved' }>();
  const updates: FakePagerduty['updates'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (req.headers.authorization !== `Token token=${opts.token}`) return send(401, { error: { message: 'Unauthorized', code: 2006 } });
      const m = /^\/incidents\/([A-Z0-9]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
      const incident = m ? incidents.get(m[1] ?? '') : undefined;
      if (!incident) return send(404, { error: { message: 'Not Found', code: 2100 } });
      if (req.method === 'GET') return send(200, { incident });
      if (req.method === 'PUT') {
        const from = req.headers.from as string | undefined;
        if (!from) return send(400, { error: { message: 'Invalid Input Provided', errors: ['From header is required'] } });
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { incident?: { status?: string } };
        const status = input.incident?.status;
        if (status !== 'acknowledged' && status !== 'resolved') return send(400, { error: { message: 'Invalid Input Provided' } });
        if (!(incident.status === 'resolved' && status === 'acknowledged')) incident.status = status;
        updates.push({ id: incident.id, status, from });
        return send(200, { incident });
      }
      send(405, {});
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { apiUrl: `http://127.0.0.1:${port}`, incidents, updates, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
