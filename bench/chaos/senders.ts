// The senders' side: alert bodies, each route's credentials applied the way its sender applies them,
// and a sender loop that retries until acknowledged (Alertmanager retries on errors and 5xx too).
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CreatedSource } from '../../test/support/sources.js';
import { GRAFANA_TIMESTAMP_HEADER, SIGNING_SECRET, type SourceKind, type World } from './world.js';

export function fixture(path: string): string {
  return readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8');
}

export interface AlertSpec {
  title: string;
  groupKey: string;
  /** Alerts in the group (one unless a poison case asks for more). */
  alerts?: number;
  fingerprint?: string;
  severity?: 'critical' | 'warning';
}

/** An Alertmanager v4 group; `alerts` > 1 gives small distinct alerts under one group key. */
export function alertmanagerBody(spec: AlertSpec): string {
  const startsAt = new Date(Date.now() - 1_000).toISOString();
  const n = spec.alerts ?? 1;
  const alerts = Array.from({ length: n }, (_, i) => ({
    status: 'firing',
    labels: n === 1 ? { alertname: 'ChaosAlert', instance: spec.groupKey.slice(0, 64) } : { i: String(i) },
    ...(n === 1 ? { annotations: { summary: spec.title } } : {}),
    startsAt,
    ...(spec.fingerprint && i === 0 ? { fingerprint: spec.fingerprint } : {}),
  }));
  return JSON.stringify({
    version: '4',
    groupKey: spec.groupKey,
    status: 'firing',
    receiver: 'tacit',
    groupLabels: { alertname: 'ChaosAlert' },
    commonLabels: { alertname: 'ChaosAlert', severity: spec.severity ?? 'critical' },
    commonAnnotations: { summary: spec.title },
    alerts,
  });
}

export type Route = SourceKind | 'slack';

/** HMAC-SHA256 over the raw bytes (fuzz bodies need not be UTF-8, so test/support/sign.ts's string helpers do not fit). */
export function hmacHex(secret: string, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

export interface SignOptions {
  contentType?: string;
  /** Seconds added to now for the signed timestamp (Slack, Grafana): -400 is stale. */
  skewSeconds?: number;
  /** GitHub event name or Sentry resource. */
  event?: string;
}

/** Headers that authenticate `body` on this route, the way each sender signs (see the vendors' docs). */
export function credentials(route: Route, source: CreatedSource | undefined, body: string | Buffer, opts: SignOptions = {}): Record<string, string> {
  const contentType = opts.contentType ?? 'application/json';
  const secret = source?.secret ?? '';
  const ts = String(Math.floor(Date.now() / 1000) + (opts.skewSeconds ?? 0));
  switch (route) {
    case 'github':
      return { 'content-type': contentType, 'x-github-event': opts.event ?? 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` };
    case 'sentry':
      return { 'content-type': contentType, 'request-id': randomUUID(), 'sentry-hook-resource': opts.event ?? 'event_alert', 'sentry-hook-timestamp': ts, 'sentry-hook-signature': hmacHex(secret, body) };
    case 'pagerduty':
      return { 'content-type': contentType, 'x-webhook-id': randomUUID(), 'x-pagerduty-signature': `v1=${hmacHex(secret, body)}` };
    case 'grafana':
      return { 'content-type': contentType, 'x-grafana-alerting-signature': hmacHex(secret, `${ts}:`, body), [GRAFANA_TIMESTAMP_HEADER]: ts };
    case 'slack':
      return { 'content-type': contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${hmacHex(SIGNING_SECRET, `v0:${ts}:`, body)}` };
    default:
      return { 'content-type': contentType, authorization: `Bearer ${source?.token ?? ''}` };
  }
}

export function routeUrl(world: World, route: Route): string {
  if (route === 'slack') return `${world.tacit.url}/slack/events`;
  const source = world.byKind[route];
  return `${world.tacit.url}/hooks/${route === 'github' ? 'github' : 'alerts'}/${source?.id ?? 'missing'}`;
}

export interface Answer {
  /** 0 when the connection failed (Tacit down). */
  status: number;
  body: string;
}

export async function send(url: string, body: string | Buffer, headers: Record<string, string>, timeoutMs = 30_000): Promise<Answer> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** Counts what a sender saw: every answer by status class, and whether it was acknowledged. */
export class Tally {
  sent = 0;
  acked = 0;
  refused = 0;
  /** 5xx other than 503 (the only 5xx the edge rules allow). */
  serverErrors = 0;
  unavailable = 0;
  connectionFailures = 0;
  readonly statuses = new Map<number, number>();

  record(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status === 0) this.connectionFailures++;
    else if (status === 503) this.unavailable++;
    else if (status >= 500) this.serverErrors++;
  }

  summary(): string {
    return [...this.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'conn-fail' : s}×${n}`).join(' ');
  }
}

/**
 * Sends one Alertmanager group to a source until it is answered 2xx (or `deadline` passes), as
 * Alertmanager does; returns whether it was acknowledged.
 */
export async function deliverAlert(url: string, token: string, body: string, tally: Tally, deadline: number): Promise<boolean> {
  tally.sent++;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const answer = await send(url, body, headers);
    tally.record(answer.status);
    if (answer.status >= 200 && answer.status < 300) {
      tally.acked++;
      return true;
    }
    await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * (attempt + 1))));
  }
  return false;
}
