// The contract every source format implements: an authenticated, already-JSON-parsed body in,
// normalised events out, or a reason the body cannot be used (it is then quarantined, answered 2xx).
import type { AlertEvent, RepoEvent } from '../core/events.js';

export interface SourceContext {
  id: string;
  /** Where incidents and notices from this source are announced. */
  channelId: string;
  /** Per-source settings (field mapping for generic JSON); validated by the format that uses them. */
  settings: Record<string, unknown>;
}

/** Request headers, lower-cased names. */
export type HeaderMap = Record<string, string | undefined>;

export interface Normalised<E> {
  /** Unique per workspace: a redelivery of the same news collapses on insert. */
  dedupeKey: string;
  /** Wake the workspace at once instead of at the next beat. */
  urgent: boolean;
  occurredAt: Date;
  event: E;
}

export type NormaliseResult<E> = { ok: true; items: Normalised<E>[] } | { ok: false; reason: string };

/** What a normaliser knows about the request besides its body. */
export interface RequestContext {
  source: SourceContext;
  headers: HeaderMap;
  /** When Tacit received it: the fallback for senders that do not say when things happened. */
  receivedAt: Date;
}

export type AlertNormaliser = (json: unknown, request: RequestContext) => NormaliseResult<AlertEvent>;

/** `eventName` is GitHub's `X-GitHub-Event` header. */
export type RepoNormaliser = (eventName: string, json: unknown, request: RequestContext) => NormaliseResult<RepoEvent>;

/** Zod issues as one short line, for quarantine reasons. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
