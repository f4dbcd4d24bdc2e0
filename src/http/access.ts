// Who may use the admin API, dashboard and playground: a bearer TACIT_ADMIN_TOKEN, or — when the
// operator allowed it (playground mode) — a request from this machine.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function bearerEquals(authorization: string | undefined, expected: string | undefined): boolean {
  if (!expected || !authorization?.startsWith('Bearer ')) return false;
  const a = Buffer.from(authorization.slice(7));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireAdmin(opts: { adminToken?: string; allowLoopback: boolean }) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (bearerEquals(req.headers.authorization, opts.adminToken)) return next();
    if (opts.allowLoopback && isLoopback(req.socket.remoteAddress)) return next();
    res.status(401).json({
      error: opts.adminToken
        ? 'send TACIT_ADMIN_TOKEN as `Authorization: Bearer <token>`'
        : 'set TACIT_ADMIN_TOKEN to use the admin API from another machine',
    });
  };
}
