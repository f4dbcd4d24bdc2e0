// Who may use the admin API, dashboard and playground. Nothing is trusted for the peer address alone:
// - a bearer TACIT_ADMIN_TOKEN (API clients, no cookies, so no CSRF) is always enough;
// - otherwise the Host must be this Tacit's address (TACIT_PUBLIC_URL's host, or a loopback name with
//   the listening port when none is set): a DNS-rebinding page sends its own name as Host;
// - state-changing requests must come from that origin (Origin, else Referer) and carry the session's
//   CSRF token when they ride on ambient authority (a session cookie, or a browser under loopback trust);
// - a browser session comes from /login (password = TACIT_ADMIN_TOKEN);
// - loopback trust (playground mode only) needs a loopback peer, a loopback Host and no forwarding
//   headers. It is a single-user development convenience: any local user or process can use it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { csrfMatches, SESSION_TTL_MS, type Session, type SessionStore } from './sessions.js';

export interface AccessOptions {
  adminToken?: string;
  /** TACIT_PUBLIC_URL as configured (not the loopback default). */
  publicUrl?: string;
  /** Playground mode: a request from this machine, by a loopback name, not relayed, needs no token. */
  loopbackTrust: boolean;
  sessions: SessionStore;
}

/** Who a request acts as, once let in. `local`: loopback trust; `session` holds its CSRF anchor when there is one. */
export type Principal =
  | { kind: 'bearer' }
  | { kind: 'session'; id: string; session: Session }
  | { kind: 'local'; id?: string; session?: Session };

/** The request parts access looks at (an express Request has them all). */
export interface AccessRequest {
  method: string;
  headers: Request['headers'];
  socket: { remoteAddress?: string; localPort?: number };
}

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host'] as const;
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
export const CSRF_HEADER = 'x-csrf-token';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * From this machine and not relayed: behind a reverse proxy on the same host every request comes
 * from 127.0.0.1, so a forwarded request is never trusted as local.
 */
export function isDirectLoopback(req: Pick<AccessRequest, 'socket' | 'headers'>): boolean {
  return isLoopback(req.socket.remoteAddress) && FORWARDING_HEADERS.every((h) => !req.headers[h]);
}

/** Constant time, whatever the lengths (both sides are hashed first). */
export function secretEquals(presented: string | undefined, expected: string | undefined): boolean {
  if (!expected || presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function bearerEquals(authorization: string | undefined, expected: string | undefined): boolean {
  if (!authorization?.startsWith('Bearer ')) return false;
  return secretEquals(authorization.slice(7), expected);
}

export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

function header(req: Pick<AccessRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Browsers always send Origin on POST/PUT/DELETE and Sec-Fetch-Site on every request; scripts (curl,
 * tests) send neither (Node's fetch sends only Sec-Fetch-Mode). A page cannot remove either header.
 */
function looksLikeBrowser(req: Pick<AccessRequest, 'headers'>): boolean {
  return ['cookie', 'origin', 'referer', 'sec-fetch-site'].some((h) => header(req, h) !== undefined);
}

export class HttpAccess {
  private readonly publicUrl: URL | undefined;

  constructor(private readonly opts: AccessOptions) {
    this.publicUrl = opts.publicUrl ? new URL(opts.publicUrl) : undefined;
  }

  get adminTokenSet(): boolean {
    return Boolean(this.opts.adminToken);
  }

  /** Cookies go only over TLS when browsers reach Tacit over https; `__Host-` pins them to this host. */
  get cookieName(): string {
    return this.secureCookies ? '__Host-tacit_session' : 'tacit_session';
  }

  private get secureCookies(): boolean {
    return this.publicUrl?.protocol === 'https:';
  }

  private loopbackHosts(port: number | undefined): string[] {
    return LOOPBACK_NAMES.flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port ?? ''}`]));
  }

  private allowedHosts(req: AccessRequest): string[] {
    return this.publicUrl ? [this.publicUrl.host.toLowerCase()] : this.loopbackHosts(req.socket.localPort);
  }

  private allowedOrigins(req: AccessRequest): string[] {
    return this.publicUrl ? [this.publicUrl.origin.toLowerCase()] : this.loopbackHosts(req.socket.localPort).map((h) => `http://${h.replace(/:80$/, '')}`);
  }

  /** Why this Host is not this Tacit's address, or null when it is. */
  hostProblem(req: AccessRequest): string | null {
    const host = (header(req, 'host') ?? '').toLowerCase();
    const allowed = this.allowedHosts(req);
    if (allowed.includes(host)) return null;
    const expected = this.publicUrl ? `TACIT_PUBLIC_URL's host ${allowed[0]}` : `${allowed.join(', ')} (set TACIT_PUBLIC_URL to the address browsers use)`;
    return `refused: Host ${JSON.stringify(host.slice(0, 200))} is not this Tacit's address; expected ${expected}. This protects against DNS rebinding; a reverse proxy must pass the original Host`;
  }

  /** Why a state-changing request comes from another site (Origin, else Referer), or null. */
  originProblem(req: AccessRequest): string | null {
    const origin = header(req, 'origin');
    const referer = header(req, 'referer');
    let from: string | undefined;
    if (origin !== undefined) from = origin.toLowerCase();
    else if (referer !== undefined) {
      try {
        from = new URL(referer).origin.toLowerCase();
      } catch {
        from = 'an unreadable Referer';
      }
    }
    if (from === undefined || this.allowedOrigins(req).includes(from)) return null;
    return `refused: a cross-site request (from ${JSON.stringify(from.slice(0, 200))}); only pages served by this Tacit (${this.allowedOrigins(req)[0]}) may change anything`;
  }

  /** Loopback trust: playground mode, a loopback peer, a loopback Host, no forwarding headers. */
  loopbackTrusted(req: AccessRequest): boolean {
    const host = (header(req, 'host') ?? '').toLowerCase();
    return this.opts.loopbackTrust && isDirectLoopback(req) && this.loopbackHosts(req.socket.localPort).includes(host);
  }

  sessionId(req: Pick<AccessRequest, 'headers'>): string | undefined {
    const cookies = header(req, 'cookie') ?? '';
    for (const part of cookies.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  /** Who this request acts as, or null. Checks Host and Origin first: their failures are `refused`. */
  async principal(req: AccessRequest): Promise<{ ok: true; principal: Principal } | { ok: false; status: number; error: string }> {
    if (bearerEquals(header(req, 'authorization'), this.opts.adminToken)) return { ok: true, principal: { kind: 'bearer' } };
    const hostProblem = this.hostProblem(req);
    if (hostProblem) return { ok: false, status: 403, error: hostProblem };
    const originProblem = isStateChanging(req.method) ? this.originProblem(req) : null;
    if (originProblem) return { ok: false, status: 403, error: originProblem };
    const id = this.sessionId(req);
    const session = id ? await this.opts.sessions.find(id, this.opts.adminToken) : null;
    if (id && session?.kind === 'admin') return { ok: true, principal: { kind: 'session', id, session } };
    if (this.loopbackTrusted(req)) return { ok: true, principal: { kind: 'local', ...(id && session ? { id, session } : {}) } };
    return { ok: false, status: 401, error: this.unauthenticated(req) };
  }

  /** Null when a state-changing request carries its session's CSRF token, or needs none. */
  csrfProblem(req: AccessRequest, principal: Principal, presented = header(req, CSRF_HEADER)): string | null {
    if (!isStateChanging(req.method) || principal.kind === 'bearer') return null;
    // A script on this machine (no cookie, no Origin, no fetch metadata) cannot be a forged browser request.
    if (principal.kind === 'local' && !looksLikeBrowser(req)) return null;
    if (principal.session && csrfMatches(presented, principal.session)) return null;
    return `refused: missing or wrong CSRF token (send the page's token as ${CSRF_HEADER}); reload the page, or use Authorization: Bearer <TACIT_ADMIN_TOKEN> from scripts`;
  }

  private unauthenticated(req: AccessRequest): string {
    if (this.opts.loopbackTrust && isLoopback(req.socket.remoteAddress) && !isDirectLoopback(req)) {
      return 'this request came through a proxy (it has forwarding headers), so it is not trusted as local: send TACIT_ADMIN_TOKEN as `Authorization: Bearer <token>` or log in at /login';
    }
    return this.opts.adminToken
      ? 'send TACIT_ADMIN_TOKEN as `Authorization: Bearer <token>`, or log in at /login'
      : 'set TACIT_ADMIN_TOKEN to use the admin API from another machine';
  }

  /**
   * Express middleware. `api`: refusals are JSON. `page`: a browser that is not logged in is sent to
   * /login. The principal is left in `res.locals.principal`.
   */
  guard(kind: 'api' | 'page') {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const found = await this.principal(req);
      if (!found.ok) {
        if (kind === 'page' && found.status === 401 && this.opts.adminToken && req.accepts(['json', 'html']) === 'html') {
          res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
          return;
        }
        res.status(found.status).json({ error: found.error });
        return;
      }
      const csrf = this.csrfProblem(req, found.principal);
      if (csrf) {
        res.status(403).json({ error: csrf });
        return;
      }
      res.locals.principal = found.principal;
      next();
    };
  }

  /**
   * For endpoints Tacit itself calls over loopback (the demo Alertmanager): a direct loopback peer or the
   * admin token; a foreign Host or Origin still gets 403. JSON-only, so a browser form cannot post to it.
   */
  machineGuard() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (bearerEquals(header(req, 'authorization'), this.opts.adminToken)) return next();
      const host = (header(req, 'host') ?? '').toLowerCase();
      const hostOk = this.hostProblem(req) === null || this.loopbackHosts(req.socket.localPort).includes(host);
      const problem = !hostOk ? this.hostProblem(req) : isStateChanging(req.method) ? this.originProblem(req) : null;
      if (problem) return void res.status(403).json({ error: problem });
      if (this.opts.loopbackTrust && isDirectLoopback(req)) return next();
      res.status(401).json({ error: this.unauthenticated(req) });
    };
  }

  /** The CSRF token a page embeds: the session's, or a new local session's when under loopback trust. */
  async pageCsrf(res: Response, principal: Principal): Promise<string> {
    if (principal.kind === 'bearer') return '';
    if (principal.session) return principal.session.csrf;
    const created = await this.opts.sessions.create('local', this.opts.adminToken);
    this.setCookie(res, created.id);
    return created.session.csrf;
  }

  async login(res: Response): Promise<void> {
    const created = await this.opts.sessions.create('admin', this.opts.adminToken);
    this.setCookie(res, created.id);
  }

  async logout(req: AccessRequest, res: Response): Promise<void> {
    await this.opts.sessions.revoke(this.sessionId(req));
    res.append('set-cookie', `${this.cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${this.secureCookies ? '; Secure' : ''}`);
  }

  async session(req: AccessRequest): Promise<{ id: string; session: Session } | null> {
    const id = this.sessionId(req);
    const session = id ? await this.opts.sessions.find(id, this.opts.adminToken) : null;
    return id && session ? { id, session } : null;
  }

  passwordMatches(password: string | undefined): boolean {
    return secretEquals(password, this.opts.adminToken);
  }

  // SameSite=Lax, not Strict: a link to the dashboard from a Slack message still arrives logged in;
  // nothing changes on GET, and every change needs the CSRF token and a same-origin Origin.
  private setCookie(res: Response, id: string): void {
    res.append('set-cookie', `${this.cookieName}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}${this.secureCookies ? '; Secure' : ''}`);
  }
}
