// Browser sessions for the dashboard and playground: a random id in an HttpOnly cookie, the session
// (its CSRF token, kind and expiry) in Redis, so logging out or rotating TACIT_ADMIN_TOKEN ends it at once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';

/** How long a login lasts; there is no sliding renewal, a person logs in again after it. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

/**
 * `admin`: logged in with TACIT_ADMIN_TOKEN. `local`: grants nothing by itself; it anchors the CSRF
 * token of a page opened under loopback trust (playground mode on this machine).
 */
export type SessionKind = 'admin' | 'local';

export interface Session {
  kind: SessionKind;
  csrf: string;
  issuedAtMs: number;
  expiresAtMs: number;
  /** Which admin token issued it: a rotated token ends every admin session. */
  tokenTag: string;
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  async create(kind: SessionKind, adminToken: string | undefined): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const issuedAtMs = this.clock.now().getTime();
    const session: Session = { kind, csrf: randomBytes(32).toString('base64url'), issuedAtMs, expiresAtMs: issuedAtMs + SESSION_TTL_MS, tokenTag: tokenTag(adminToken) };
    await this.redis.set(this.key(id), JSON.stringify(session), 'PX', SESSION_TTL_MS);
    return { id, session };
  }

  /** The live session for a cookie value, or null (unknown, expired, revoked, or from an older admin token). */
  async find(id: string | undefined, adminToken: string | undefined): Promise<Session | null> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    const session = parseSession(raw);
    if (!session || session.expiresAtMs <= this.clock.now().getTime()) return null;
    if (session.kind === 'admin' && session.tokenTag !== tokenTag(adminToken)) return null;
    return session;
  }

  async revoke(id: string | undefined): Promise<void> {
    if (id) await this.redis.del(this.key(id));
  }

  /** Stored under a hash of the id: whoever reads Redis cannot replay a cookie from it. */
  private key(id: string): string {
    return `${this.prefix}:http:session:${createHash('sha256').update(id).digest('hex')}`;
  }
}

export function csrfMatches(presented: string | undefined, session: Session): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenTag(adminToken: string | undefined): string {
  return adminToken ? createHash('sha256').update(`tacit session:${adminToken}`).digest('hex').slice(0, 16) : '';
}

function parseSession(raw: string): Session | null {
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if ((s.kind !== 'admin' && s.kind !== 'local') || typeof s.csrf !== 'string' || typeof s.expiresAtMs !== 'number' || typeof s.issuedAtMs !== 'number') return null;
    return { kind: s.kind, csrf: s.csrf, issuedAtMs: s.issuedAtMs, expiresAtMs: s.expiresAtMs, tokenTag: typeof s.tokenTag === 'string' ? s.tokenTag : '' };
  } catch {
    return null;
  }
}
