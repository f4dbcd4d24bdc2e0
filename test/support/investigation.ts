// The investigation scenarios' world: Tacit with Prometheus, Loki and GitHub stand-ins configured as
// a playground workspace's evidence sources, and the alerts, merges and thread reads the stories use.
import { randomUUID } from 'node:crypto';
import type { WireMessage } from '../../src/chat/playground/types.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki.js';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus.js';
import { channelMessages, fixture, postAlert } from './playground.js';
import { githubHeaders, post } from './sign.js';
import { createSourceViaApi, type CreatedSource } from './sources.js';
import { startTestTacit, type TestTacit } from './tacit.js';
import { waitFor } from './wait.js';

export const WS = 'playground:local';
const PROM_AUTH = 'Bearer prom-reader-token';
const LOKI_AUTH = 'Basic bG9raTpyZWFkZXI=';
const GH_TOKEN = 'ghp_investigationtesttoken0123456789';

interface FileBlock { kind: 'file'; filename: string; content: string; encoding?: string; contentType?: string }

export interface InvestigationWorld {
  tacit: TestTacit;
  prometheus: FakePrometheus;
  loki: FakeLoki;
  github: FakeGithub;
  hooks: CreatedSource;
  stop(): Promise<void>;
}

async function put(tacit: TestTacit, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${tacit.url}/api/workspaces/${WS}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

/** Tacit with Prometheus, Loki and GitHub stand-ins configured as the workspace's evidence sources. */
export async function startInvestigationWorld(opts: { embedded?: boolean; env?: Record<string, string> } = {}): Promise<InvestigationWorld> {
  const prometheus = await startFakePrometheus({ authorization: PROM_AUTH });
  const loki = await startFakeLoki({ authorization: LOKI_AUTH });
  const github = await startFakeGithub({ owner: 'Codertocat', repo: 'Hello-World', hookId: 1, token: GH_TOKEN });
  const tacit = await startTestTacit({ embedded: opts.embedded, env: { TACIT_SECRET_KEY: 'investigation-tests-secret-key-0123456789', ...opts.env } });
  await put(tacit, '/integrations/prometheus/default', { settings: { url: prometheus.url }, secrets: { authorization: PROM_AUTH } });
  await put(tacit, '/integrations/loki/default', { settings: { url: loki.url, query: '{job="{{service}}"} |~ "(?i)error"' }, secrets: { authorization: LOKI_AUTH } });
  await put(tacit, '/integrations/github/default', { settings: { apiUrl: github.apiUrl }, secrets: { token: GH_TOKEN } });
  await put(tacit, '/investigation', { severities: ['critical'], sourceTimeoutMs: 2_000, totalTimeoutMs: 8_000 });
  const hooks = await createSourceViaApi(tacit.url, { kind: 'github' });
  return {
    tacit, prometheus, loki, github, hooks,
    async stop() {
      await tacit.cleanup();
      await Promise.all([prometheus.close(), loki.close(), github.close()]);
    },
  };
}

/** An Alertmanager delivery for a critical alert on `service`, with the rule's expression in its generatorURL. */
export function criticalAlert(o: { name: string; service: string; expr: string; startsAt: Date }): string {
  const alert = JSON.parse(fixture('alertmanager/firing.json').toString());
  const a = alert.alerts[0];
  alert.groupKey = `{}:{alertname="${o.name}"}`;
  a.fingerprint = `fp-${o.name}`;
  a.labels = { alertname: o.name, service: o.service, severity: 'critical' };
  a.annotations = { summary: `${o.name} on ${o.service}` };
  a.startsAt = o.startsAt.toISOString();
  a.generatorURL = `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(o.expr)}&g0.tab=1`;
  alert.commonLabels = a.labels;
  alert.commonAnnotations = a.annotations;
  return JSON.stringify(alert);
}

/** A merged PR on the hook, `minutesBefore` the start, whose merge commit the GitHub stand-in knows. */
export async function mergeBefore(w: InvestigationWorld, o: { start: Date; minutesBefore: number; sha: string; title: string; files: { filename: string; additions: number; deletions: number }[] }): Promise<void> {
  const pr = JSON.parse(fixture('github/pull_request.closed.json').toString());
  pr.pull_request.merged_at = new Date(o.start.getTime() - o.minutesBefore * 60_000).toISOString();
  pr.pull_request.title = o.title;
  pr.pull_request.merge_commit_sha = o.sha;
  pr.number = 40 + w.github.commits.size;
  pr.pull_request.number = pr.number;
  w.github.commits.set(o.sha, { message: o.title, files: o.files });
  const body = JSON.stringify(pr);
  const res = await post(w.hooks.url, body, githubHeaders(w.hooks.secret ?? '', body, 'pull_request', randomUUID()));
  if (res.status !== 200) throw new Error(`github hook: ${res.status}`);
}

export async function fire(w: InvestigationWorld, body: string): Promise<void> {
  const source = w.tacit.playgroundSource;
  const res = await postAlert(w.tacit.url, source?.id ?? '', source?.token, body);
  if (res.status !== 200) throw new Error(`alert: ${res.status}`);
}

function files(m: WireMessage): FileBlock[] {
  return m.blocks.filter((b): b is FileBlock => typeof b === 'object' && b !== null && (b as { kind?: unknown }).kind === 'file');
}

export async function cardAndFindings(tacit: TestTacit, title: string, timeoutMs = 15_000) {
  const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes(title)), { what: `the card of ${title}` });
  const findings = await waitFor(
    async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.text.includes('What I found')),
    { what: `the findings of ${title}`, timeoutMs },
  );
  return { card, findings, chart: files(findings).find((f) => f.filename.endsWith('.png')) };
}

