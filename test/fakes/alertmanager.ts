// A local Alertmanager speaking the v2 silences API (POST/GET /api/v2/silences, GET/DELETE
// /api/v2/silence/:id) and GET /api/v2/alerts (the alerts it holds, `filter` matchers applied, each
// suppressed by the active silences that match it), with Alertmanager's shapes and states, plus fault injection.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSilence {
  id: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
  updatedAt: string;
}

/** An alert Alertmanager holds (still firing): tests add and remove them. */
export interface FakeAlert {
  fingerprint: string;
  labels: Record<string, string>;
}

export interface FakeAlertmanager {
  url: string;
  silences: FakeSilence[];
  /** The alerts it currently holds; a resolved alert is one removed from here. */
  alerts: FakeAlert[];
  /** Every POST /api/v2/silences received, including failed ones. */
  createRequests: number;
  /** The next `n` create calls answer this status instead. */
  failCreates(n: number, status?: number): void;
  /** Silences are created but reads report them expired (a verify that must fail). */
  reportExpired(on: boolean): void;
  /** Requests must carry this Authorization header value. */
  requireAuthorization(value: string | undefined): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeAlertmanager(): Promise<FakeAlertmanager> {
  const silences: FakeSilence[] = [];
  const alerts: FakeAlert[] = [];
  let failing = 0;
  let failStatus = 500;
  let expired = false;
  let auth: string | undefined;
  const state = { createRequests: 0 };
  const view = (s: FakeSilence): FakeSilence => (expired ? { ...s, status: { state: 'expired' } } : s);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (auth && req.headers.authorization !== auth) return send(401, 'unauthorized');
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/api/v2/silences') {
        state.createRequests++;
        const raw = await body(req);
        if (failing > 0) {
          failing--;
          return send(failStatus, 'internal error');
        }
        let input: Partial<FakeSilence>;
        try {
          input = JSON.parse(raw) as Partial<FakeSilence>;
        } catch {
          return send(400, 'bad json');
        }
        if (!Array.isArray(input.matchers) || input.matchers.length === 0 || !input.startsAt || !input.endsAt) return send(400, 'missing matchers, startsAt or endsAt');
        const silence: FakeSilence = {
          id: randomUUID(),
          matchers: input.matchers,
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          createdBy: input.createdBy ?? '',
          comment: input.comment ?? '',
          status: { state: new Date(input.startsAt) > new Date() ? 'pending' : 'active' },
          updatedAt: new Date().toISOString(),
        };
        silences.push(silence);
        return send(200, { silenceID: silence.id });
      }
      if (req.method === 'GET' && url.pathname === '/api/v2/silences') return send(200, silences.map(view));
      if (req.method === 'GET' && url.pathname === '/api/v2/alerts') {
        // filter=name="value" (equality matchers only), as Alertmanager's ?filter= takes them.
        const filters = url.searchParams.getAll('filter').map((f) => /^([^=!~]+)="(.*)"$/.exec(f)).flatMap((m) => (m ? [[m[1] ?? '', m[2] ?? ''] as const] : []));
        const matches = (labels: Record<string, string>, ms: { name: string; value: string }[]) => ms.every((m) => labels[m.name] === m.value);
        const held = alerts.filter((a) => filters.every(([k, v]) => a.labels[k] === v)).map((a) => {
          const silencedBy = silences.filter((x) => view(x).status.state === 'active' && matches(a.labels, x.matchers)).map((x) => x.id);
          return { fingerprint: a.fingerprint, labels: a.labels, annotations: {}, status: { state: silencedBy.length > 0 ? 'suppressed' : 'active', silencedBy, inhibitedBy: [] } };
        });
        return send(200, held);
      }
      const one = /^\/api\/v2\/silence\/([^/]+)$/.exec(url.pathname);
      if (one) {
        const s = silences.find((x) => x.id === decodeURIComponent(one[1] ?? ''));
        if (!s) return send(404, 'silence not found');
        if (req.method === 'GET') return send(200, view(s));
        if (req.method === 'DELETE') {
          s.status = { state: 'expired' };
          s.endsAt = new Date().toISOString();
          return send(200, {});
        }
      }
      send(404, 'not found');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    silences,
    alerts,
    get createRequests() {
      return state.createRequests;
    },
    failCreates(n, status = 500) {
      failing = n;
      failStatus = status;
    },
    reportExpired(on) {
      expired = on;
    },
    requireAuthorization(value) {
      auth = value;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
