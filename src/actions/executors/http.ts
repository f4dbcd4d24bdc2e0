// One way to call an integration's HTTP API: a timeout, JSON in and out, and errors sorted into
// permanent (4xx other than 408/429: a retry cannot help), not sent (the connection failed before the
// request left: always safe to retry) and the rest (5xx, a reset or timeout mid-request), where the
// service may have acted: whether those are retried is the action's call (actions/index.ts).
import { ActionNotSentError, PermanentActionError } from '../types.js';

/** Connection failures that happen before any byte of the request is sent (undici / Node error codes). */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function notSent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  if (typeof cause?.code === 'string') return NOT_SENT.has(cause.code);
  // Happy eyeballs tries several addresses: an AggregateError whose every attempt was refused.
  return Array.isArray(cause?.errors) && cause.errors.length > 0 && cause.errors.every((e) => typeof e.code === 'string' && NOT_SENT.has(e.code));
}

export async function callJson(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown; signal: AbortSignal; raw?: string },
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method: init.method, headers, body, signal: init.signal });
  } catch (err) {
    if (notSent(err)) throw new ActionNotSentError(`${init.method} ${new URL(url).host}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message} (not sent)`, { cause: err });
    throw err;
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  if (res.status >= 400) {
    const detail = typeof parsed === 'string' ? parsed.slice(0, 200) : JSON.stringify(parsed).slice(0, 200);
    const message = `${init.method} ${new URL(url).pathname} answered ${res.status}: ${detail}`;
    if (res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentActionError(message);
    throw new Error(message);
  }
  return { status: res.status, body: parsed };
}
