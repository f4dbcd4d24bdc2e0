// Webhook signature schemes, checked on the exact raw bytes in constant time, before any parsing.
// Sources: reference/webhooks.md §2.2 (Grafana), §2.3 (PagerDuty), §2.4 (Sentry), §2.7 (GitHub).
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacHex(secret: string, ...parts: (string | Buffer)[]): string {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(p);
  return mac.digest('hex');
}

/** Constant-time comparison of two hex digests (false for different lengths or non-hex). */
export function hexEquals(presented: string, expected: string): boolean {
  if (!/^[0-9a-f]+$/i.test(presented) || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(presented.toLowerCase(), 'hex'), Buffer.from(expected, 'hex'));
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyGithub(body: Buffer, header: string | undefined, secret: string): boolean {
  if (!header?.startsWith('sha256=')) return false;
  return hexEquals(header.slice(7), hmacHex(secret, body));
}

/** PagerDuty: `X-PagerDuty-Signature: v1=<hex>,v1=<hex>` — several during secret rotation; any match. */
export function verifyPagerDuty(body: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = hmacHex(secret, body);
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .some((s) => hexEquals(s.slice(3), expected));
}

/** Sentry: `Sentry-Hook-Signature: <hex>` of the body with the integration's client secret. */
export function verifySentry(body: Buffer, header: string | undefined, secret: string): boolean {
  return Boolean(header) && hexEquals(String(header), hmacHex(secret, body));
}

export const GRAFANA_SIGNATURE_HEADERS = ['x-grafana-alerting-signature', 'x-grafana-alert-signature'];

/**
 * Grafana: hex HMAC of the body, or of `<unix seconds>:<body>` when a timestamp header is configured
 * (then the timestamp must also be fresh). No `sha256=` prefix.
 */
export function verifyGrafana(
  body: Buffer,
  headers: Record<string, string | undefined>,
  secret: string,
  opts: { header?: string; timestampHeader?: string; now: Date; maxSkewMs?: number },
): boolean {
  const names = opts.header ? [opts.header.toLowerCase()] : GRAFANA_SIGNATURE_HEADERS;
  const presented = names.map((n) => headers[n]).find((v) => v !== undefined);
  if (!presented) return false;
  if (!opts.timestampHeader) return hexEquals(presented, hmacHex(secret, body));
  const ts = headers[opts.timestampHeader.toLowerCase()];
  if (!ts || !/^\d+$/.test(ts)) return false;
  if (Math.abs(opts.now.getTime() - Number(ts) * 1000) > (opts.maxSkewMs ?? 5 * 60_000)) return false;
  return hexEquals(presented, hmacHex(secret, `${ts}:`, body));
}
