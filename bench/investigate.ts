// Benchmark: investigation quality. Generates labelled incidents — a cause planted among decoys (the
// commit that broke it among several changes before the start, its error among steady log noise) —
// gathers the evidence through the real sources against the local Prometheus, Loki and GitHub
// stand-ins, and asks each brain for findings. Prints how often the top hypothesis names the planted
// commit and the top log error is the planted one, for the rules brain and (with --fake) Claude on
// the strict Anthropic stand-in. Offline: no database, no Redis, no key.
import { createClaudeBrain } from '../src/brain/claude/index.js';
import { addUsage } from '../src/brain/claude/pricing.js';
import { LocalTokenBudget } from '../src/brain/local-budget.js';
import type { Brain, EvidenceTools } from '../src/brain/port.js';
import { RulesBrain } from '../src/brain/rules/rules-brain.js';
import { defaults } from '../src/config.js';
import { noUsage, type Usage } from '../src/core/decisions.js';
import type { ChangeFinding, InvestigationReport } from '../src/core/evidence.js';
import type { Incident } from '../src/core/incidents.js';
import { changeEvidence, githubClient } from '../src/investigate/github.js';
import { fillTemplate, logWindow, searchLogs } from '../src/investigate/loki.js';
import { metricEvidence } from '../src/investigate/prometheus.js';
import { bounded } from '../src/investigate/sources.js';
import { createLogger } from '../src/log.js';
import { startFakeGithub } from '../test/fakes/github.js';
import { startFakeLoki } from '../test/fakes/loki.js';
import { startFakePrometheus } from '../test/fakes/prometheus.js';
import { startInvestigatorModel } from './investigate-fake.js';

const SERVICES = ['checkout', 'payments', 'search', 'cart', 'auth', 'inventory', 'shipping', 'profile'];
const COMPONENTS = ['pool', 'cache', 'session', 'queue', 'index', 'retry', 'serializer', 'limiter'];
const FAILURES = ['exhausted', 'timed out', 'rejected the request', 'returned corrupt data', 'overflowed'];
const AUTH = { prom: 'Bearer bench', loki: 'Bearer bench', github: 'bench-token' };
const TEMPLATE = '{service="{{service}}", case="{{case}}"} |~ "(?i)(error|warn)"';

/** Deterministic pseudo-random numbers (mulberry32): the same cases every run. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T };
}

interface Case {
  id: number;
  kind: 'service-files' | 'shared-library' | 'no-overlap';
  service: string;
  plantedSha: string;
  plantedError: string;
  start: number;
}

interface Outcome {
  commitHit: boolean;
  errorHit: boolean;
  usage: Usage;
}

export async function benchInvestigate(args: readonly string[]): Promise<void> {
  const count = Number(args[args.indexOf('--cases') + 1]) || 40;
  const fake = args.includes('--fake');
  const prom = await startFakePrometheus({ authorization: AUTH.prom });
  const loki = await startFakeLoki({ authorization: AUTH.loki });
  const github = await startFakeGithub({ owner: 'acme', repo: 'shop', hookId: 1, token: AUTH.github });
  const model = fake ? await startInvestigatorModel() : undefined;
  try {
    const r = rng(18);
    const hex = () => Array.from({ length: 40 }, () => '0123456789abcdef'[r.int(0, 15)]).join('');
    const cases: { c: Case; report: InvestigationReport; incident: Incident }[] = [];
    let evidenceMs = 0;
    for (let id = 0; id < count; id++) {
      const c = plant(r, hex, id, prom, loki, github);
      const started = performance.now();
      cases.push({ c, ...(await gather(c, prom.url, loki.url, github.apiUrl)) });
      evidenceMs += performance.now() - started;
    }
    const brains: { label: string; brain: Brain }[] = [{ label: 'rules', brain: new RulesBrain() }];
    if (model) {
      brains.push({
        label: `claude (${defaults.model}, strict local stand-in)`,
        brain: createClaudeBrain({ apiKey: 'fake-key', baseUrl: model.url, model: defaults.model, triageModel: defaults.triageModel, fallback: new RulesBrain(), budget: new LocalTokenBudget(5_000_000, false), log: createLogger('silent'), maxRetries: 0 }),
      });
    }
    process.stdout.write(`\ninvestigate: ${count} incidents with a planted cause among decoys (evidence gathered through the stand-ins in ${(evidenceMs / count).toFixed(0)} ms per incident)\n`);
    const firstError = cases.filter(({ c, report }) => report.logs?.top[0]?.pattern.toLowerCase().startsWith(c.plantedError.toLowerCase())).length;
    process.stdout.write(`the Loki source ranked the planted error first among the noise in ${firstError}/${count} incidents\n`);
    process.stdout.write(`${'brain'.padEnd(48)} ${'commit hit'.padStart(11)} ${'error hit'.padStart(10)}   by case kind (commit hits)                    tokens/incident  $/incident\n`);
    for (const { label, brain } of brains) {
      const outcomes: (Outcome & { kind: Case['kind'] })[] = [];
      for (const { c, report, incident } of cases) outcomes.push({ kind: c.kind, ...(await ask(brain, c, report, incident, tools(prom.url, loki.url, github.apiUrl))) });
      const rate = (xs: boolean[]) => `${xs.filter(Boolean).length}/${xs.length}`;
      const kinds = (['service-files', 'shared-library', 'no-overlap'] as const).map((k) => `${k} ${rate(outcomes.filter((o) => o.kind === k).map((o) => o.commitHit))}`).join(', ');
      const usage = outcomes.reduce((u, o) => addUsage(u, o.usage), noUsage);
      const tokens = (usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens) / count;
      const pct = (xs: boolean[]) => `${((100 * xs.filter(Boolean).length) / xs.length).toFixed(0)} %`;
      process.stdout.write(`${label.padEnd(48)} ${pct(outcomes.map((o) => o.commitHit)).padStart(11)} ${pct(outcomes.map((o) => o.errorHit)).padStart(10)}   ${kinds.padEnd(45)} ${tokens.toFixed(0).padStart(15)}  ${(usage.costMicroUsd / 1e6 / count).toFixed(4).padStart(10)}\n`);
    }
    process.stdout.write('(commit hit: the top hypothesis names the planted commit; error hit: the top hypothesis cites the planted log error. "no-overlap" cases plant a commit whose files share no word with the symptoms: no rule can find it from the evidence.)\n');
  } finally {
    await Promise.all([prom.close(), loki.close(), github.close(), model?.close()]);
  }
}

/** One incident: its metric, a planted commit among 2–4 decoys, a planted error among steady noise. */
function plant(r: ReturnType<typeof rng>, hex: () => string, id: number, prom: Awaited<ReturnType<typeof startFakePrometheus>>, loki: Awaited<ReturnType<typeof startFakeLoki>>, github: Awaited<ReturnType<typeof startFakeGithub>>): Case {
  const service = r.pick(SERVICES);
  const component = r.pick(COMPONENTS);
  const roll = r.next();
  const kind: Case['kind'] = roll < 0.5 ? 'service-files' : roll < 0.8 ? 'shared-library' : 'no-overlap';
  const start = Date.parse('2026-11-02T00:00:00Z') + id * 3 * 3_600_000;
  prom.setSeries(`sum(rate(http_errors_total{service="${service}",case="${id}"}[5m]))`, [{ labels: { service }, value: (t) => (t < start ? 0.4 : 6 + (t % 7)) }]);
  const plantedSha = hex();
  const files = kind === 'service-files' ? [`services/${service}/${component}/client.go`, `services/${service}/${component}/config.go`]
    : kind === 'shared-library' ? [`lib/${component}/${component}.go`] : ['internal/core/handler.go', 'internal/core/wire.go'];
  github.commits.set(plantedSha, { message: 'Refactor connection handling', files: files.map((filename) => ({ filename, additions: r.int(5, 200), deletions: r.int(0, 80) })) });
  const changes = [{ sha: plantedSha, title: 'Refactor connection handling', at: start - r.int(2, 25) * 60_000 }];
  for (let d = 0; d < r.int(2, 4); d++) {
    const other = r.pick(SERVICES.filter((s) => s !== service));
    const sha = hex();
    const decoy = r.pick([
      { title: `Tune ${other} timeouts`, files: [`services/${other}/${r.pick(COMPONENTS)}/timeouts.go`] },
      { title: `Update the ${service} dashboard colours`, files: [`dashboards/${service}.json`] },
      { title: 'Fix typos in the docs', files: ['docs/runbook.md', 'README.md'] },
      { title: 'CI: cache dependencies', files: ['.github/workflows/ci.yml'] },
    ]);
    github.commits.set(sha, { message: decoy.title, files: decoy.files.map((filename) => ({ filename, additions: r.int(1, 50), deletions: r.int(0, 20) })) });
    changes.push({ sha, title: decoy.title, at: start - r.int(1, 29) * 60_000 });
  }
  const plantedError = `ERROR ${component} ${r.pick(FAILURES)} for request`;
  const lines: Array<[number, string]> = [];
  const window = logWindow(start, start + 5 * 60_000);
  for (let n = 0; n < r.int(3, 5); n++) {
    const noise = `${r.pick(['ERROR', 'WARN'])} ${r.pick(COMPONENTS.filter((x) => x !== component))} ${r.pick(['slow call', 'retrying', 'deprecated field', 'failed health probe'])} on shard`;
    const every = r.int(8, 40) * 1_000;
    for (let t = window.start + r.int(0, every); t < window.end; t += every) lines.push([t, `${noise} ${r.int(1, 9)}`]);
  }
  for (let n = 0; n < r.int(15, 60); n++) lines.push([start + r.int(0, 4 * 60_000), `${plantedError} ${r.int(1000, 9999)}`]);
  loki.push({ service, case: String(id) }, lines);
  cases.set(id, changes);
  return { id, kind, service, plantedSha, plantedError, start };
}

const cases = new Map<number, { sha: string; title: string; at: number }[]>();

async function gather(c: Case, promUrl: string, lokiUrl: string, githubUrl: string): Promise<{ report: InvestigationReport; incident: Incident }> {
  const now = c.start + 5 * 60_000;
  const bounds = { sourceTimeoutMs: 5_000 };
  const target = (url: string, authorization: string, name: string) => (signal: AbortSignal) => ({ url, headers: { authorization }, signal, name });
  const expr = `sum(rate(http_errors_total{service="${c.service}",case="${c.id}"}[5m]))`;
  const metric = await bounded('prometheus', expr, bounds, (s) => metricEvidence(target(promUrl, AUTH.prom, 'Prometheus')(s), `${expr} > 1`, c.start, now), () => false);
  const filled = fillTemplate(TEMPLATE, { service: c.service, case: String(c.id) });
  const window = logWindow(c.start, now);
  const logs = 'query' in filled ? await bounded('loki', filled.query, bounds, (s) => searchLogs(target(lokiUrl, AUTH.loki, 'Loki')(s), filled.query, window.start, window.end, 1_000, c.start), () => false) : undefined;
  const changes: ChangeFinding[] = [];
  const outcomes = [metric.outcome, ...(logs ? [logs.outcome] : [])];
  for (const ch of cases.get(c.id) ?? []) {
    const o = await bounded('github', ch.sha, bounds, (s) => changeEvidence(githubClient(githubUrl, AUTH.github, s), { repo: 'acme/shop', sha: ch.sha, change: 'merge', title: ch.title, url: null, at: new Date(ch.at).toISOString() }, s), () => false);
    outcomes.push(o.outcome);
    if (o.result) changes.push(o.result);
  }
  const incidentId = `inc_bench_${c.id}`;
  const report: InvestigationReport = {
    incidentId, investigationId: `inv_bench_${c.id}`, at: new Date(now).toISOString(), durationMs: Math.max(...outcomes.map((o) => o.durationMs)),
    ...(metric.result ? { metric: metric.result } : {}), ...(logs?.result ? { logs: logs.result } : {}), changes, sources: outcomes,
  };
  const labels = { alertname: 'HighErrorRate', service: c.service, case: String(c.id), severity: 'critical' };
  const incident: Incident = {
    id: incidentId, workspaceId: 'ws_bench_investigate', channelId: 'c', groupKey: incidentId, status: 'firing', severity: 'critical', title: `HighErrorRate on ${c.service}`,
    alerts: { [incidentId]: { status: 'firing', title: `HighErrorRate on ${c.service}`, severity: 'critical', labels, annotations: {}, startsAt: new Date(c.start).toISOString(), endsAt: null, links: [] } },
    startedAt: new Date(c.start), resolvedAt: null, recurrences: 0, version: 1, cardVersion: 1, announced: true, acknowledgedBy: null, flapping: false, cycleTimes: [],
    suspects: changes.map((ch) => ({ repo: ch.repo, change: ch.change, title: ch.title, url: null, at: ch.at, sha: ch.sha })), nudgedAt: null,
  };
  return { report, incident };
}

/** Read-only lookups for Claude, straight against the stand-ins (there is no history here). */
function tools(promUrl: string, lokiUrl: string, githubUrl: string): EvidenceTools {
  const json = async (o: Promise<{ outcome: unknown; result?: unknown }>) => JSON.stringify(await o).slice(0, 6_000);
  const bounds = { sourceTimeoutMs: 5_000 };
  return {
    queryMetrics: ({ expr, minutes }) => json(bounded('prometheus', expr, bounds, (s) => metricEvidence({ url: promUrl, headers: { authorization: AUTH.prom }, signal: s, name: 'Prometheus' }, expr, Date.now() - minutes * 30_000, Date.now()), () => false)),
    searchLogs: ({ query, minutes }) => json(bounded('loki', query, bounds, (s) => searchLogs({ url: lokiUrl, headers: { authorization: AUTH.loki }, signal: s, name: 'Loki' }, query, Date.now() - minutes * 60_000, Date.now()), () => false)),
    getDiff: ({ repo, sha }) => json(bounded('github', sha, bounds, (s) => changeEvidence(githubClient(githubUrl, AUTH.github, s), { repo, sha, change: 'push', title: sha, url: null, at: new Date().toISOString() }, s), () => false)),
    similarIncidents: async () => 'no history in this benchmark',
  };
}

async function ask(brain: Brain, c: Case, report: InvestigationReport, incident: Incident, evidence: EvidenceTools): Promise<Outcome> {
  const decision = await brain.decide({
    workspaceId: incident.workspaceId, now: new Date(Date.parse(report.at)), reasons: [`investigation finished: ${incident.title}`], transitions: [], events: [],
    incidents: new Map([[incident.id, incident]]), investigations: [report], evidence,
  });
  const findings = decision.kind === 'speak' ? decision.intents.find((i) => i.type === 'post_findings') : undefined;
  const top = findings?.type === 'post_findings' ? findings.hypotheses?.[0] : undefined;
  const planted = c.plantedError.toLowerCase();
  const cited = top ? [top.cause, ...top.evidence].join(' ').toLowerCase() : '';
  return {
    commitHit: Boolean(top?.cause.includes(c.plantedSha.slice(0, 7))),
    errorHit: cited.includes(planted),
    usage: decision.usage,
  };
}
