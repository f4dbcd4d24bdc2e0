// The one HTTP server: health, readiness, metrics, alert webhooks and the playground. Routes hold no
// business logic; they read the request, call intake, and map errors to statuses.
import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { DatabaseUnavailableError } from '../db/errors.js';
import type { Logger } from '../log.js';
import { IntakeError, PayloadTooLargeError, RetryLaterError, UnauthorizedError, UnknownSourceError } from '../sources/errors.js';
import { ingestWebhook, type IntakeDeps } from '../sources/intake.js';
import type { HeaderMap } from '../sources/normalised.js';
import type { Metrics } from './metrics.js';
import { readRawBody } from './raw-body.js';

export interface HttpDeps {
  intake: IntakeDeps;
  log: Logger;
  bodyLimitBytes: number;
  /** `schedules`: Redis holds the heartbeat's schedules (false while they are restored from Postgres). */
  /** `brain`: a configuration error of the model brain (Tacit still works, with the rules brain), or null. */
  ready(): Promise<{ database: boolean; redis: boolean; schedules: boolean; brain?: string | null }>;
  /** Renders `/metrics`, and times each webhook's answer. */
  metrics: Pick<Metrics, 'contentType' | 'render' | 'webhookAcked'>;
  /** False in a process without the `http` role (config.ts): no webhook routes, only health, readiness and metrics. */
  webhooks?: boolean;
  /** Extra routers (the playground, later Slack). */
  routers: Router[];
}

export function createHttpServer(deps: HttpDeps): Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.ready();
    const ok = checks.database && checks.redis && checks.schedules;
    // With Redis down the schedules cannot be read either: name the cause, not its consequence.
    const detail = !checks.database ? 'database unreachable' : !checks.redis ? 'redis unreachable' : !checks.schedules ? 'restoring schedules'
      : checks.brain ? `brain configuration error (decisions fall back to the rules brain): ${checks.brain}` : undefined;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', ...checks, ...(detail ? { detail } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    const text = await deps.metrics.render();
    res.setHeader('content-type', deps.metrics.contentType).send(text);
  });

  const webhook = (route: 'alert' | 'github') => async (req: Request, res: Response) => {
    // What became of it is known once intake answers; a refusal (an error) is told by its status.
    const seen = { source: 'unknown', outcome: '' };
    const started = performance.now();
    res.once('finish', () => {
      const outcome = seen.outcome || refusal(res.statusCode);
      deps.metrics.webhookAcked({ route, source: seen.source, outcome, status: res.statusCode, seconds: (performance.now() - started) / 1000 });
    });
    const body = await readRawBody(req, deps.bodyLimitBytes);
    const result = await ingestWebhook(deps.intake, {
      route,
      sourceId: String(req.params.sourceId),
      headers: lowerCaseHeaders(req.headers),
      body,
      receivedAt: new Date(),
    });
    seen.source = result.source;
    seen.outcome = result.kind === 'accepted' && result.inserted === 0 && result.duplicates > 0 ? 'duplicate' : result.kind;
    switch (result.kind) {
      case 'pong':
        res.status(200).json({ status: 'pong' });
        return;
      case 'quarantined':
        // 2xx on purpose: senders stop retrying or disable endpoints that answer 4xx.
        res.status(202).json({ status: 'quarantined', reason: result.reason });
        return;
      case 'accepted':
        res.status(200).json({ status: 'accepted', inserted: result.inserted, duplicates: result.duplicates });
        return;
      default: {
        const never: never = result;
        throw new Error(`unhandled result ${JSON.stringify(never)}`);
      }
    }
  };
  if (deps.webhooks !== false) {
    app.post('/hooks/alerts/:sourceId', webhook('alert'));
    app.post('/hooks/github/:sourceId', webhook('github'));
  }

  for (const router of deps.routers) app.use(router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusFor(err);
    if (status >= 500) deps.log.error({ err, path: req.path }, 'request failed');
    if (status === 503) res.setHeader('retry-after', '5');
    if (status === 413) res.setHeader('connection', 'close');
    const message = err instanceof IntakeError || err instanceof DatabaseUnavailableError ? err.message : status >= 500 ? 'internal error' : String((err as Error).message);
    if (!res.headersSent) res.status(status).json({ error: message });
  });

  return createServer(app);
}

function statusFor(err: unknown): number {
  if (err instanceof UnknownSourceError) return 404;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof DatabaseUnavailableError || err instanceof RetryLaterError) return 503;
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status; // express body parsers
  return 500;
}

/** The intake outcome of a request answered with an error status. */
function refusal(status: number): string {
  switch (status) {
    case 401: return 'unauthorized';
    case 404: return 'unknown_source';
    case 413: return 'too_large';
    case 503: return 'unavailable';
    default: return status >= 500 ? 'error' : 'rejected';
  }
}

function lowerCaseHeaders(headers: Request['headers']): HeaderMap {
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
