// Maps the Web API's errors onto the outbox's three kinds: rejected (final), rate-limited (wait
// Retry-After) and unreachable (retry with backoff). Every Slack call the adapter makes goes through here.
import { ErrorCode } from '@slack/web-api';
import { ChatRateLimitedError, ChatRejectedError, ChatUnreachableError } from '../errors.js';

/** Slack errors that no retry can fix. (`token_expired` is not one: the next attempt refreshes the token.) */
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked', 'msg_too_long',
  'invalid_blocks', 'no_permission', 'missing_scope', 'message_not_found', 'cant_update_message', 'not_installed',
  'invalid_refresh_token', 'invalid_arguments', 'file_not_found', 'user_not_found',
]);

/** Errors after which the cached token of the team must be re-read (or refreshed) before the next call. */
export const TOKEN_ERRORS = new Set(['invalid_auth', 'token_expired', 'token_revoked', 'account_inactive']);

export async function callSlack<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toChatError(err);
  }
}

export function toChatError(err: unknown): Error {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
  if (e.code === ErrorCode.RateLimitedError) return new ChatRateLimitedError((e.retryAfter ?? 1) * 1000);
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    if (PERMANENT.has(code)) return new ChatRejectedError(code, `Slack refused: ${code}`);
    return new ChatUnreachableError(code, `Slack error: ${code}`);
  }
  if (err instanceof ChatRejectedError || err instanceof ChatUnreachableError || err instanceof ChatRateLimitedError) return err;
  return new ChatUnreachableError('unreachable', `Slack unreachable: ${e.message ?? String(err)}`, { cause: err });
}
