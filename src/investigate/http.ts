// One bounded HTTP GET for the evidence sources: a deadline, a size cap on the body, the configured
// authorization, and the sources' own error bodies turned into messages that say what to fix.
import { SourceRejectedError, SourceTimeoutError, SourceUnreachableError } from './errors.js';

/** No source answer worth reading is bigger; a larger one is cut off and refused. */
export const MAX_BODY_BYTES = 2_000_000;

export interface SourceTarget {
  /** Base URL of the source (no trailing slash needed). */
  url: string;
  headers: Record<string, string>;
  /** Stops the request: the source's own deadline and the investigation's. */
  signal: AbortSignal;
  /** Shown in errors ("Prometheus answered 400: …"). */
  name: string;
}

/** GETs `path` with `params` and returns the parsed JSON, or throws one of the source errors. */
export async function getJson(target: SourceTarget, path: string, params: Record<string, string>): Promise<unknown> {
  const url = new URL(path.replace(/^\//, ''), target.url.endsWith('/') ? target.url : `${target.url}/`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...target.headers }, signal: target.signal });
  } catch (err) {
    if (target.signal.aborted) throw new SourceTimeoutError(performance.now() - started);
    throw new SourceUnreachableError(`${target.name} could not be reached at ${url.origin}: ${(err as Error).message}`, { cause: err });
  }
  let text: string;
  try {
    text = await readCapped(res);
  } catch (err) {
    if (target.signal.aborted) throw new SourceTimeoutError(performance.now() - started);
    throw err;
  }
  if (!res.ok) {
    const detail = errorDetail(text);
    const message = `${target.name} answered ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new SourceRejectedError(message, res.status);
    throw new SourceUnreachableError(message);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SourceUnreachableError(`${target.name} answered ${res.status} with a body that is not JSON`, { cause: err });
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new SourceUnreachableError(`the answer is larger than ${MAX_BODY_BYTES} bytes; narrow the query`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Prometheus and Loki say what went wrong in `error` (JSON) or in plain text. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; errorType?: unknown; message?: unknown };
    const what = typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : '';
    return `${typeof body.errorType === 'string' ? `${body.errorType}: ` : ''}${what}`.slice(0, 300);
  } catch {
    return text.trim().slice(0, 300);
  }
}

/** The Authorization header a source integration holds, if any. */
export function authHeaders(secrets: Record<string, unknown>, extra: Record<string, string> = {}): Record<string, string> {
  const auth = typeof secrets.authorization === 'string' ? secrets.authorization : undefined;
  return { ...(auth ? { authorization: auth } : {}), ...extra };
}
