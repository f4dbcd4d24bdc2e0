// Signs test requests the way each sender does (written from the vendors' docs, independently of
// Tacit's verifiers, so a mistake in one is not mirrored in the other).
import { createHmac, randomUUID } from 'node:crypto';

const hex = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');

export function githubHeaders(secret: string, body: string, event: string, delivery: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/abc1234',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${hex(secret, body)}`,
  };
}

export function pagerDutyHeaders(secrets: string[], body: string, webhookId: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-webhook-id': webhookId,
    'x-pagerduty-signature': secrets.map((s) => `v1=${hex(s, body)}`).join(','),
  };
}

export function sentryHeaders(secret: string, body: string, resource: string, requestId: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'request-id': requestId,
    'sentry-hook-resource': resource,
    'sentry-hook-timestamp': String(Math.floor(Date.now() / 1000)),
    'sentry-hook-signature': hex(secret, body),
  };
}

export function grafanaHmacHeaders(secret: string, body: string, timestamp?: number): Record<string, string> {
  if (timestamp === undefined) return { 'content-type': 'application/json', 'x-grafana-alerting-signature': hex(secret, body) };
  return {
    'content-type': 'application/json',
    'x-grafana-alerting-signature': hex(secret, `${timestamp}:${body}`),
    'x-grafana-alerting-timestamp': String(timestamp),
  };
}

export async function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body });
}
