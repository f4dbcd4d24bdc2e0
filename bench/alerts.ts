// Alertmanager webhook bodies for the benchmarks: the recorded firing fixture as a group of its own,
// firing now, with the labels a benchmark gives it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const template = JSON.parse(readFileSync(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8')) as {
  alerts: { labels: Record<string, string>; fingerprint: string; startsAt: string }[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  groupKey: string;
};

/** One group named `alertname`, its alert carrying `labels` (and the group's common labels `common`). */
export function alertGroupBody(alertname: string, labels: Record<string, string>, common: Record<string, string>, groupKey: string): string {
  const body = structuredClone(template);
  const [alert] = body.alerts;
  if (alert) {
    alert.labels = { ...alert.labels, alertname, ...labels };
    alert.fingerprint = randomBytes(8).toString('hex');
    alert.startsAt = new Date().toISOString();
  }
  body.groupLabels = { alertname };
  body.commonLabels = { ...body.commonLabels, alertname, ...common };
  body.groupKey = groupKey;
  return JSON.stringify(body);
}
