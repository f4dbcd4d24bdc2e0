// Slack request signatures: v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>"), checked in
// constant time on the raw bytes; requests older than five minutes are replays and refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_SKEW_MS = 5 * 60_000;

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export function verifySlackRequest(
  rawBody: Buffer | string,
  headers: { signature?: string; timestamp?: string },
  signingSecret: string,
  now: Date,
): SlackVerification {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp' };
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > MAX_SKEW_MS) return { ok: false, reason: 'request timestamp is more than five minutes off' };
  if (!signature.startsWith('v0=')) return { ok: false, reason: 'unsupported signature version' };
  const expected = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest();
  const presented = Buffer.from(signature.slice(3), 'hex');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
