// One way to call an integration's HTTP API: a timeout, JSON in and out, and errors sorted into
// permanent (4xx other than 408/429: a retry cannot help) and transient (5xx, network).
import { PermanentActionError } from '../types.js';

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
  const res = await fetch(url, { method: init.method, headers, body, signal: init.signal });
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
