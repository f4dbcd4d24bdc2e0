// Bounded keys: anything from outside that ends up in a unique index (incident group keys, event
// dedupe keys, outbox idempotency keys) or in front of people must have a bounded size. PostgreSQL
// refuses btree index rows over 2,704 bytes, so one long Alertmanager groupKey or fingerprint would
// otherwise fail every tick of its workspace.
import { createHash } from 'node:crypto';

/** Keys up to this many characters are kept as they are (at most 4 bytes each in UTF-8: well under the index limit). */
export const MAX_KEY_LENGTH = 200;

const HASHED = /^sha256:[0-9a-f]{64}$/;

/** The key itself when short, otherwise `sha256:<hex>` of its text: stable, so the same long key always bounds the same. */
export function boundKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** True when `boundKey` replaced a key by its hash. */
export function isHashedKey(key: string): boolean {
  return HASHED.test(key);
}

/**
 * A key (a fingerprint, a group key) as people and the model see it: short keys as they are, long
 * ones as their start and their bounded form, so two long keys with the same start still differ.
 */
export function displayKey(key: string, max = 40): string {
  if (key.length <= max) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12);
  return `${key.slice(0, Math.max(8, max - 20))}…[${hash}]`;
}
