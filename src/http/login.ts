// Browser login for the dashboard and playground: POST /login with the admin token as password sets a
// session cookie; POST /logout ends the session on the server. Both check Host and Origin first.
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log.js';
import type { HttpAccess } from './access.js';
import { renderLogin } from './dashboard/login-page.js';

/** Only a path on this site: `//evil.example` or `https://…` would make the login an open redirect. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export function loginRoutes(access: HttpAccess, log: Logger): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const refusedSite = (req: Request, res: Response): boolean => {
    const problem = access.hostProblem(req) ?? (req.method === 'POST' ? access.originProblem(req) : null);
    if (problem) res.status(403).json({ error: problem });
    return problem !== null;
  };
  const page = (res: Response, status: number, next: string, error?: string) =>
    res.status(status).type('html').setHeader('cache-control', 'no-store').send(renderLogin({ next, error, disabled: !access.adminTokenSet }));

  router.get('/login', (req, res) => {
    if (refusedSite(req, res)) return;
    page(res, 200, safeNext(req.query.next));
  });

  router.post('/login', form, async (req, res) => {
    if (refusedSite(req, res)) return;
    const body = (req.body ?? {}) as { password?: unknown; next?: unknown };
    const next = safeNext(body.next);
    if (!access.adminTokenSet) return void page(res, 403, next);
    if (!access.passwordMatches(typeof body.password === 'string' ? body.password : undefined)) {
      log.warn({ ip: req.socket.remoteAddress }, 'dashboard login refused: wrong admin token');
      return void page(res, 401, next, 'That is not the admin token.');
    }
    await access.login(res);
    res.redirect(303, next);
  });

  router.post('/logout', form, async (req, res) => {
    if (refusedSite(req, res)) return;
    const found = await access.session(req);
    const presented = (req.body as { _csrf?: unknown } | undefined)?._csrf;
    const problem = found ? access.csrfProblem(req, { kind: 'session', ...found }, typeof presented === 'string' ? presented : req.get('x-csrf-token')) : null;
    if (problem) return void res.status(403).json({ error: problem });
    await access.logout(req, res);
    res.redirect(303, '/login');
  });
  return router;
}
