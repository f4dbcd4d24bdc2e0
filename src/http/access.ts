// Who may use the admin API, dashboard and playground: a bearer TACIT_ADMIN_TOKEN, or — when the
// operator allowed it (playground mode) — a request from this machine.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * From this machine and not relayed: behind a reverse proxy on the same host every request comes
 * from 127.0.0.1, so a forwarded request is never trusted as local.
 */
export function isDirectLoopback(req: { socket: { remoteAddress?: string }; headers: Record<string, unknown> }): boolean {
  return isLoopback(req.socket.remoteAddress) && !req.headers['x-forwarded-for'] && !req.headers.forwarded && !req.headers['x-real-ip'];
}

export function bearerEquals(authorization: string | undefined, expected: string | undefined): boolean {
  if (!expected || !authorization?.startsWith('Bearer ')) return false;
  const a = Buffer.from(authorization.slice(7));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HTTP Basic with the admin token as password (any user name), so a browser can open the dashboard. */
function basicEquals(authorization: string | undefined, expected: string | undefined): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (!expected || !m?.[1]) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  return bearerEquals(`Bearer ${decoded.slice(decoded.indexOf(':') + 1)}`, expected);
}

export function requireAdmin(opts: { adminToken?: string; allowLoopback: boolean; browser?: boolean }) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (bearerEquals(req.headers.authorization, opts.adminToken)) return next();
    if (opts.browser && basicEquals(req.headers.authorization, opts.adminToken)) return next();
    if (opts.allowLoopback && isDirectLoopback(req)) return next();
    if (opts.browser && opts.adminToken) res.setHeader('www-authenticate', 'Basic realm="Tacit", charset="UTF-8"');
    res.status(401).json({
      error: opts.adminToken
        ? 'send TACIT_ADMIN_TOKEN as `Authorization: Bearer <token>`'
        : 'set TACIT_ADMIN_TOKEN to use the admin API from another machine',
    });
  };
}
