// Slack request signatures: v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>"), checked in
// constant time on the raw bytes; requests dated more than five minutes in the past (replays) or in the
// future (pre-signed for a later replay) are refused.
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
  const skewMs = Number(timestamp) * 1000 - now.getTime();
  if (skewMs > MAX_SKEW_MS) return { ok: false, reason: 'X-Slack-Request-Timestamp is more than five minutes in the future' };
  if (skewMs < -MAX_SKEW_MS) return { ok: false, reason: 'X-Slack-Request-Timestamp is more than five minutes old (a replay?)' };
  if (!signature.startsWith('v0=')) return { ok: false, reason: 'unsupported signature version' };
  const expected = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest();
  const presented = Buffer.from(signature.slice(3), 'hex');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
