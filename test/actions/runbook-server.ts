// A local HTTP runbook for action tests: it does its work (counts the call, keeps the Idempotency-Key)
// and then answers with whatever status the test scripted next — a 502 after the work is the case
// that must not be repeated.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunbookServer {
  url: string;
  /** Every call that reached the runbook (its work was done), in order. */
  calls: { path: string; headers: IncomingHttpHeaders; body: string }[];
  /** Statuses for the next calls, in order; after them it answers `then` (default 200). */
  answer(statuses: number[], then?: number): void;
  /** Holds every answer this long after doing the work (for races). */
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startRunbookServer(): Promise<RunbookServer> {
  const calls: RunbookServer['calls'] = [];
  let script: number[] = [];
  let after = 200;
  let delayMs = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      calls.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = script.shift() ?? after;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ done: true, status }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    answer(statuses, then = 200) {
      script = [...statuses];
      after = then;
    },
    delay(ms) {
      delayMs = ms;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
