// The one HTTP server: health, readiness, metrics, alert webhooks and the playground. Routes hold no
// business logic; they read the request, call intake, and map errors to statuses.
import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { DatabaseUnavailableError } from '../db/errors.js';
import type { Logger } from '../log.js';
import { IntakeError, PayloadTooLargeError, RetryLaterError, UnauthorizedError, UnknownSourceError } from '../sources/errors.js';
import { ingestWebhook, type IntakeDeps } from '../sources/intake.js';
import type { HeaderMap } from '../sources/normalised.js';
import { readRawBody } from './raw-body.js';

export interface HttpDeps {
  intake: IntakeDeps;
  log: Logger;
  bodyLimitBytes: number;
  ready(): Promise<{ database: boolean; redis: boolean }>;
  metrics(): Promise<string>;
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
    const ok = checks.database && checks.redis;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', ...checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await deps.metrics());
  });

  const webhook = (route: 'alert' | 'github') => async (req: Request, res: Response) => {
    const body = await readRawBody(req, deps.bodyLimitBytes);
    const result = await ingestWebhook(deps.intake, {
      route,
      sourceId: String(req.params.sourceId),
      headers: lowerCaseHeaders(req.headers),
      body,
      receivedAt: new Date(),
    });
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
  app.post('/hooks/alerts/:sourceId', webhook('alert'));
  app.post('/hooks/github/:sourceId', webhook('github'));

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

function lowerCaseHeaders(headers: Request['headers']): HeaderMap {
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
