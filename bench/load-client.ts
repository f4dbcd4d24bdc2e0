// A load generator in its own process (so it does not share Tacit's event loop): sends signed GitHub
// webhooks with unique delivery ids over keep-alive HTTP and prints {seconds, ok, failed} as JSON.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';

const [url, secret, bodyText, concurrencyArg, requestsArg] = [
  process.env.LOAD_URL ?? '', process.env.LOAD_SECRET ?? '', process.env.LOAD_BODY ?? '', process.env.LOAD_CONCURRENCY, process.env.LOAD_REQUESTS,
];
const concurrency = Number(concurrencyArg);
const requests = Number(requestsArg);
const body = Buffer.from(bodyText);
const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

function send(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
        headers: {
          'content-type': 'application/json', 'content-length': body.length, 'x-github-event': 'push',
          'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
let ok = 0;
let failed = 0;
const latenciesMs: number[] = [];
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      next++;
      const started = process.hrtime.bigint();
      const status = await send().catch(() => 0);
      latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (status === 200) ok++;
      else failed++;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
latenciesMs.sort((a, b) => a - b);
const pct = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))] ?? 0;
process.stdout.write(JSON.stringify({ seconds, ok, failed, p50Ms: pct(50), p99Ms: pct(99) }));
agent.destroy();
