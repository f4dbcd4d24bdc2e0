// A local GitHub: the webhook sender and the hook delivery API (list deliveries, redeliver), speaking
// GitHub's REST shapes so the real Octokit can talk to it. Redelivery re-sends the stored payload
// to the hook URL with the original GUID, as GitHub does, and records the attempt.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: null;
  repository_id: number;
}

interface Stored {
  event: string;
  body: string;
}

export interface FakeGithub {
  apiUrl: string;
  deliveries: FakeDelivery[];
  redeliveryRequests: number[];
  /** Where the hook delivers, and its secret (known once the source exists in Tacit). */
  setHook(hook: { url: string; secret: string }): void;
  /** Sends a webhook to the hook URL (as GitHub would), recording the attempt and its status. */
  deliver(event: string, payload: unknown): Promise<FakeDelivery>;
  close(): Promise<void>;
}

export async function startFakeGithub(opts: { owner: string; repo: string; hookId: number; token: string }): Promise<FakeGithub> {
  let hook = { url: 'http://127.0.0.1:9/unset', secret: '' };
  const deliveries: FakeDelivery[] = [];
  const payloads = new Map<string, Stored>();
  const redeliveryRequests: number[] = [];
  let nextId = 1000;

  async function send(guid: string, stored: Stored, redelivery: boolean): Promise<FakeDelivery> {
    const started = Date.now();
    let statusCode = 0;
    let status = 'failed to connect to host';
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': stored.event,
          'x-github-delivery': guid,
          'x-github-hook-id': String(opts.hookId),
          'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(stored.body).digest('hex')}`,
        },
        body: stored.body,
      });
      statusCode = res.status;
      status = res.ok ? 'OK' : `Invalid HTTP Response: ${res.status}`;
    } catch {
      // Connection refused: Tacit is down.
    }
    const delivery: FakeDelivery = {
      id: nextId++, guid, delivered_at: new Date().toISOString(), redelivery, duration: (Date.now() - started) / 1000,
      status, status_code: statusCode, event: stored.event, action: null, installation_id: null, repository_id: 1,
    };
    deliveries.unshift(delivery); // GitHub lists newest first
    return delivery;
  }

  const base = `/repos/${opts.owner}/${opts.repo}/hooks/${opts.hookId}/deliveries`;
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `token ${opts.token}` && req.headers.authorization !== `Bearer ${opts.token}`) {
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === base) return json(200, deliveries);
    const redeliver = new RegExp(`^${base}/(\\d+)/attempts$`).exec(url.pathname);
    if (req.method === 'POST' && redeliver) {
      const id = Number(redeliver[1]);
      const original = deliveries.find((d) => d.id === id);
      const stored = original && payloads.get(original.guid);
      if (!original || !stored) return json(404, { message: 'Not Found' });
      redeliveryRequests.push(id);
      json(202, {});
      void send(original.guid, stored, true);
      return;
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    deliveries,
    redeliveryRequests,
    setHook(next) {
      hook = next;
    },
    deliver(event, payload) {
      const guid = randomUUID();
      const stored = { event, body: JSON.stringify(payload) };
      payloads.set(guid, stored);
      return send(guid, stored, false);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
