// Benchmark: decision quality. Replays recorded scenarios (event streams with the expected outcome)
// through the real pure core, step by step as a tick does, against a chosen brain; prints per-scenario
// outcomes, model calls and tokens, and the precision and recall of speaking. Offline with the rules brain;
// `--brain claude --fake` runs Claude's side on the strict local stand-in (no key), with token kinds, the
// cache read ratio and dollars at current prices, plus a replayed busy day's dollars per workspace-day.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { createClaudeBrain } from '../src/brain/claude/index.js';
import { addUsage } from '../src/brain/claude/pricing.js';
import { LocalTokenBudget } from '../src/brain/local-budget.js';
import type { Brain, Person } from '../src/brain/port.js';
import { RulesBrain } from '../src/brain/rules/rules-brain.js';
import { defaults } from '../src/config.js';
import { pickSuspects } from '../src/core/correlation.js';
import { describeAction, builtinActions } from '../src/actions/registry.js';
import type { ActionInfo } from '../src/core/actions.js';
import { noUsage, type Decision, type Usage } from '../src/core/decisions.js';
import { eventPayloadSchema, type EventRecord, type RepoEvent } from '../src/core/events.js';
import { gate } from '../src/core/gate.js';
import { applyAcks, applyAlerts, dueTransitions, incidentGroupKey, type Incident, type IncidentTransition } from '../src/core/incidents.js';
import { planMessages, type PlannedMessage } from '../src/core/plan.js';
import { applyPolicy, policyConstraints } from '../src/core/policy.js';
import { applyRepoHealth, type RepoHealth } from '../src/core/repo-health.js';
import { readSettings } from '../src/core/settings.js';
import { formStorms } from '../src/core/storms.js';
import { createLogger } from '../src/log.js';
import { busyDay, dayTemplates } from './decisions-day.js';
import { startFakeClaude, type FakeClaude } from './decisions-fake.js';

const outcomes = ['quiet', 'speak', 'propose_action'] as const;
type Outcome = (typeof outcomes)[number];
const strength: Record<Outcome, number> = { quiet: 0, speak: 1, propose_action: 2 };

const stepSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  /** Brings the scenario to the situation under test: run like any tick, its outcome not scored. */
  setup: z.boolean().default(false),
  events: z.array(eventPayloadSchema),
});

/** A post people should (or must not) see in the scored steps: its purpose and, optionally, words it holds. */
const postLabelSchema = z.object({ purpose: z.string(), contains: z.string().optional() });
type PostLabel = z.infer<typeof postLabelSchema>;

const scenarioSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'expected a kebab-case id'),
  description: z.string().min(1),
  steps: z.array(stepSchema).min(1).refine((steps) => steps.some((s) => !s.setup), 'expected at least one step that is not setup'),
  expect: z.enum(outcomes),
  /**
   * The posts the policy lets out in the scored steps: each `required` one must appear, `allowed` ones
   * may, `forbidden` ones and any post matching no label count against precision.
   */
  posts: z.object({
    required: z.array(postLabelSchema).default([]),
    allowed: z.array(postLabelSchema).default([]),
    forbidden: z.array(postLabelSchema).default([]),
  }).optional(),
});
type Scenario = z.infer<typeof scenarioSchema>;

const scenarioFileSchema = z.array(scenarioSchema).refine((list) => new Set(list.map((s) => s.id)).size === list.length, 'scenario ids must be unique');

const scenariosUrl = new URL('./decisions/scenarios.json', import.meta.url);
const WORKSPACE_ID = 'ws_bench_decisions';
const BUDGET_TOKENS = 2_000_000;
/**
 * The busy day's workspace: GitHub, Alertmanager and PagerDuty connected, an on-call and two approvers
 * (all in the cached prefix). The scored scenarios run with none, as their expectations were written.
 */
const BUSY_WORKSPACE: WorkspaceSetup = {
  actions: builtinActions.map(describeAction),
  people: [{ id: 'U_ONCALL', role: 'on-call' }, { id: 'U_LEAD', role: 'approver' }, { id: 'U_SRE', role: 'approver' }],
};

interface WorkspaceSetup {
  actions: ActionInfo[];
  people: Person[];
}

interface Options {
  brain: 'rules' | 'claude';
  /** Only these scenario ids; empty for all. */
  only: string[];
  /** Print every scenario's steps, not only those of mismatches. */
  verbose: boolean;
  /** Claude's side on the strict local stand-in of the Messages API: no key, no cost. */
  fake: boolean;
  /** Also replay a busy day and price it per workspace-day (on by default with --fake). */
  day: boolean;
}

interface ScenarioResult {
  id: string;
  expected: Outcome;
  observed: Outcome;
  modelCalls: number;
  tokens: number;
  /** Every model call's usage and cost, added up. */
  usage: Usage;
  /** Decisions answered by a fallback brain (Claude unavailable or out of budget). */
  fallbacks: number;
  /** One line per step, to explain a mismatch. */
  trail: string[];
  /** Posts the policy let out in scored steps (purpose and text). */
  posts: { purpose: string; text: string; duplicate: boolean }[];
  /** Scored against the scenario's labels, when it has them. */
  labelled?: { good: number; posted: number; requiredMet: number; required: number; duplicates: number };
}

export async function benchDecisions(args: readonly string[], env: Record<string, string | undefined>): Promise<void> {
  const options = readOptions(args, env);
  const scenarios = await loadScenarios(options.only);
  // The stand-in's cache clock follows the replayed time, so TTLs expire as they would that day.
  let replayedNow = 0;
  const fake = options.fake ? await startFakeClaude(() => replayedNow) : undefined;
  try {
    const { brain, label } = buildBrain(options.brain, fake ? { ...env, ANTHROPIC_API_KEY: 'fake-key', ANTHROPIC_BASE_URL: fake.url } : env, fake);
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      fake?.coldStart(); // each scenario is a workspace's first call of the day: nothing cached yet
      results.push(await replay(scenario, brain, (now) => (replayedNow = now.getTime())));
    }
    report(results, label, options.verbose);
    if (options.day && options.brain === 'claude') {
      fake?.coldStart();
      const all = scenarioFileSchema.parse(JSON.parse(await readFile(scenariosUrl, 'utf8')));
      const day = await replay(busyDay(dayTemplates(all)), brain, (now) => (replayedNow = now.getTime()), BUSY_WORKSPACE);
      reportDay(day);
      if (options.verbose) for (const line of day.trail) console.log(`    ${line}`);
    }
    if (fake) console.log(`the strict stand-in refused ${fake.fake.rejected} request(s) (400/404)`);
  } finally {
    await fake?.close();
  }
}

function readOptions(args: readonly string[], env: Record<string, string | undefined>): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--verbose' || arg === '--fake' || arg === '--day') {
      flags.add(arg);
      continue;
    }
    const match = /^--(brain|scenario)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`bench decisions: unknown option "${arg}"; use --brain rules|claude, --fake, --day, --scenario <id>[,<id>…], --verbose`);
    const value = match[2] ?? args[++i];
    if (!value) throw new Error(`bench decisions: --${match[1]} needs a value`);
    values.set(match[1], value);
  }
  const fake = flags.has('--fake');
  const brain = values.get('brain') ?? (env.ANTHROPIC_API_KEY || fake ? 'claude' : 'rules');
  if (brain !== 'rules' && brain !== 'claude') throw new Error(`bench decisions: --brain must be rules or claude, not "${brain}"`);
  const only = (values.get('scenario') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (fake && brain !== 'claude') throw new Error('bench decisions: --fake stands in for Claude; use it with --brain claude');
  return { brain, only, verbose: flags.has('--verbose'), fake, day: fake || flags.has('--day') };
}

async function loadScenarios(only: string[]): Promise<Scenario[]> {
  const parsed = scenarioFileSchema.safeParse(JSON.parse(await readFile(scenariosUrl, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`bench/decisions/scenarios.json is invalid: ${issues}`);
  }
  const unknown = only.filter((id) => !parsed.data.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`bench decisions: no scenario ${unknown.join(', ')} in bench/decisions/scenarios.json`);
  return only.length === 0 ? parsed.data : parsed.data.filter((s) => only.includes(s.id));
}

function buildBrain(kind: Options['brain'], env: Record<string, string | undefined>, fake: FakeClaude | undefined): { brain: Brain; label: string } {
  const rules = new RulesBrain();
  if (kind === 'rules') return { brain: rules, label: 'rules' };
  const apiKey = env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new Error('bench decisions: --brain claude needs ANTHROPIC_API_KEY (and optionally ANTHROPIC_BASE_URL)');
  const model = env.TACIT_MODEL || defaults.model;
  const triageModel = env.TACIT_TRIAGE_MODEL || defaults.triageModel;
  const brain = createClaudeBrain({
    apiKey, baseUrl: env.ANTHROPIC_BASE_URL || undefined, model, triageModel, fallback: rules, budget: new LocalTokenBudget(BUDGET_TOKENS, false), log: createLogger('silent'),
    ...(fake ? { maxRetries: 0 } : {}),
  });
  return { brain, label: `claude (${model}, triage ${triageModel}${fake ? ', on the strict local stand-in' : ''})` };
}

/** Runs a scenario's steps as consecutive ticks of one workspace; incidents carry over between steps. */
async function replay(scenario: Scenario, brain: Brain, onStep: (now: Date) => void = () => undefined, setup?: WorkspaceSetup): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: scenario.id, expected: scenario.expect, observed: 'quiet', modelCalls: 0, tokens: 0, usage: noUsage, fallbacks: 0, trail: [], posts: [] };
  const world = new World(setup);
  for (const [n, step] of scenario.steps.entries()) {
    const now = new Date(step.at);
    onStep(now);
    const { outcome, decision, note, posted } = await world.tick(step.events, now, brain).catch((err: unknown) => {
      throw new Error(`bench decisions: scenario ${scenario.id}, step ${n + 1} failed`, { cause: err });
    });
    if (decision) {
      result.modelCalls += decision.usage.modelCalls;
      result.tokens += tokensOf(decision.usage);
      result.usage = addUsage(result.usage, decision.usage);
      if (decision.brain?.includes('(fallback)')) result.fallbacks++;
    }
    result.trail.push(`${step.setup ? 'setup' : 'step'} ${n + 1} (${step.at}): ${outcome} — ${note}`);
    if (step.setup) continue;
    result.posts.push(...posted);
    if (strength[outcome] > strength[result.observed]) result.observed = outcome;
  }
  if (scenario.posts) result.labelled = scoreLabels(result.posts, scenario.posts);
  return result;
}

const matches = (post: { purpose: string; text: string }, label: PostLabel) => post.purpose === label.purpose && (!label.contains || post.text.includes(label.contains));

/** Precision: posts matching a required or allowed label (and no forbidden one), of all posts. Recall: required labels met. */
function scoreLabels(posts: ScenarioResult['posts'], labels: NonNullable<Scenario['posts']>): NonNullable<ScenarioResult['labelled']> {
  const good = posts.filter((p) => !p.duplicate && !labels.forbidden.some((l) => matches(p, l)) && [...labels.required, ...labels.allowed].some((l) => matches(p, l))).length;
  const requiredMet = labels.required.filter((l) => posts.some((p) => matches(p, l))).length;
  return { good, posted: posts.length, requiredMet, required: labels.required.length, duplicates: posts.filter((p) => p.duplicate).length };
}

/** The state a workspace's ticks share: incidents by group key, and the repository changes seen. */
class World {
  private readonly incidents = new Map<string, Incident>();
  private readonly repoChanges: RepoEvent[] = [];
  private health = new Map<string, RepoHealth>();
  /** What the policy counts: posts per channel (with when) and the last post per incident. */
  private readonly sent: { channelId: string; at: Date }[] = [];
  private readonly lastIncidentPost = new Map<string, Date>();
  private readonly keys = new Set<string>();
  private readonly texts = new Set<string>();
  private readonly settings = readSettings({});
  private nextEventId = 1;
  private nextIncident = 1;
  private readonly unacknowledgedAfterMs = readSettings({}).unacknowledgedAfterMs;

  constructor(private readonly setup?: WorkspaceSetup) {}

  /** One tick, as src/heartbeat/tick.ts runs it, minus storage, pauses, quiet hours, digest and delivery. */
  async tick(payloads: Scenario['steps'][number]['events'], now: Date, brain: Brain): Promise<{ outcome: Outcome; decision?: Decision; note: string; posted: ScenarioResult['posts'] }> {
    const events: EventRecord[] = payloads.map((payload) => ({ id: this.nextEventId++, workspaceId: WORKSPACE_ID, occurredAt: now, payload }));
    for (const e of events) if (e.payload.kind === 'repo') this.repoChanges.push(e.payload);
    const { byId, transitions, changed } = this.advance(events, now);
    const ci = events.flatMap((e) => (e.payload.kind === 'repo' ? [{ id: e.id, payload: e.payload }] : []));
    const health = applyRepoHealth(this.health, ci);
    this.health = new Map([...this.health, ...health.changed]);
    const repoHealth = ci.length > 0 ? health.changes : undefined;
    const gated = gate({ events, transitions, incidents: byId, now, ...(repoHealth ? { repoHealth } : {}) });
    for (const i of byId.values()) this.incidents.set(i.groupKey, i);
    // The card edits a tick plans whatever the brain says (members joining a storm, a card back to Firing).
    const edits = planMessages([], byId, changed, null, undefined, transitions).messages.filter((m) => m.kind === 'post');
    if (gated.kind === 'quiet') return { outcome: 'quiet', note: `gate: ${gated.reason}`, posted: this.send(edits, byId, now) };

    const decision = await brain.decide({ workspaceId: WORKSPACE_ID, now, reasons: gated.reasons, transitions, incidents: byId, events, ...this.setup, ...(repoHealth ? { repoHealth } : {}), constraints: policyConstraints(this.settings, now, byId.values()) });
    const plan = planMessages(decision.kind === 'speak' ? decision.intents : [], byId, changed, null, undefined, transitions);
    const posted = this.send(plan.messages, byId, now);
    // As the tick does once the cards are queued: reminders count from the announcement.
    for (const id of plan.announced) {
      const i = byId.get(id);
      if (i && posted.some((p) => p.purpose === 'card' && p.incidentId === id)) this.incidents.set(i.groupKey, { ...i, announced: true, announcedAt: now });
    }
    const outcome = outcomeOf(decision, gated.reasons);
    const own = decision.reasons.filter((r) => !gated.reasons.includes(r)).join('; ');
    const said = decision.kind === 'speak' ? `${decision.intents.map((i) => i.type).join(', ')}${own ? ` (${own})` : ''}` : own;
    const suspects = transitions.reduce((n, x) => n + (byId.get(x.incidentId)?.suspects.length ?? 0), 0);
    const note = `woken (${gated.reasons.join('; ')}${suspects > 0 ? `; ${suspects} suspect change(s)` : ''}) → ${decision.kind}: ${said}; posted ${posted.map((p) => p.purpose).join(', ') || 'nothing'}`;
    return { outcome, decision, note, posted };
  }

  /** The restraint policy over an in-memory outbox: what it lets out is "posted"; a key or text seen before is a duplicate. */
  private send(messages: PlannedMessage[], byId: ReadonlyMap<string, Incident>, now: Date): (ScenarioResult['posts'][number] & { incidentId: string | null })[] {
    const hourAgo = now.getTime() - 3_600_000;
    const recent = this.sent.filter((p) => p.at.getTime() >= hourAgo);
    const recentPosts = new Map<string, number>();
    for (const p of recent) recentPosts.set(p.channelId, (recentPosts.get(p.channelId) ?? 0) + 1);
    const fresh = messages.filter((m) => m.kind === 'post' && !this.keys.has(m.idempotencyKey));
    const policy = applyPolicy(fresh, {
      now, settings: this.settings, workspacePausedUntil: null, incidents: byId, recentPosts, lastIncidentPost: this.lastIncidentPost,
      channels: new Map([...new Set(fresh.map((m) => m.channelId))].map((id) => [id, { id, name: id, proactive: true, pausedUntil: null }])),
    });
    return policy.allowed.map((m) => {
      this.keys.add(m.idempotencyKey);
      this.sent.push({ channelId: m.channelId, at: now });
      if (m.incidentId) this.lastIncidentPost.set(m.incidentId, now);
      const where = `${m.channelId}|${m.anchor.type === 'incident_thread' ? m.incidentId : 'top'}|${m.message.text}`;
      const duplicate = this.texts.has(where);
      this.texts.add(where);
      return { purpose: m.purpose, text: m.message.text, duplicate, incidentId: m.incidentId };
    });
  }

  /** Alerts, acknowledgements, due reminders and suspects, as the tick's advanceIncidents applies them. */
  private advance(events: EventRecord[], now: Date) {
    const alerts = events.flatMap((r) => (r.payload.kind === 'alert' ? [{ eventId: r.id, alert: r.payload }] : []));
    const keys = new Set(alerts.map((a) => incidentGroupKey(a.alert)));
    // What the tick loads: open incidents plus any with a group key in this batch.
    const known = [...this.incidents.values()].filter((i) => i.status !== 'resolved' || keys.has(i.groupKey));
    const grouping = applyAlerts(WORKSPACE_ID, new Map(known.map((i) => [i.groupKey, i])), alerts, () => `inc_${this.nextIncident++}`);
    const byId = new Map<string, Incident>(known.map((i) => [i.id, i]));
    for (const i of grouping.changed.values()) byId.set(i.id, i);
    const acks = events.flatMap((r) => (r.payload.kind === 'incident.ack' ? [{ eventId: r.id, incidentId: r.payload.incidentId, by: r.payload.by.name }] : []));
    const transitions: IncidentTransition[] = [...grouping.transitions, ...applyAcks(byId, acks)];
    const moved = new Set(transitions.map((x) => x.incidentId));
    for (const nudge of dueTransitions(byId.values(), this.unacknowledgedAfterMs, now)) {
      if (moved.has(nudge.incidentId)) continue;
      const incident = byId.get(nudge.incidentId);
      if (incident) byId.set(incident.id, { ...incident, nudgedAt: now });
      transitions.push(nudge);
    }
    for (const x of transitions) {
      const incident = byId.get(x.incidentId);
      if (incident && (x.kind === 'opened' || x.kind === 'recurred' || x.kind === 'flapping')) {
        byId.set(incident.id, { ...incident, suspects: pickSuspects(this.repoChanges, incident.startedAt) });
      }
    }
    const storms = this.settings.storm ? formStorms(byId, transitions, this.settings.storm, () => `inc_${this.nextIncident++}`) : undefined;
    const told = storms?.transitions ?? transitions;
    const changedIds = new Set([...[...grouping.changed.values(), ...(storms?.changed ?? [])].map((i) => i.id), ...told.map((x) => x.incidentId)]);
    return { byId, transitions: told, changed: [...changedIds].flatMap((id) => byId.get(id) ?? []) };
  }
}

/**
 * Proposing an action is an intent of that type, or (ClaudeBrain, where actions are not wired yet)
 * the note it records when the model called propose_action. Only the brain's own reasons count, not
 * the gate's, which quote alert titles.
 */
function outcomeOf(decision: Decision, gateReasons: readonly string[]): Outcome {
  const own = decision.reasons.filter((r) => !gateReasons.includes(r));
  const intents = decision.kind === 'speak' ? decision.intents : [];
  if (intents.some((i) => String(i.type) === 'propose_action') || own.some((r) => r.includes('asked to propose_action'))) return 'propose_action';
  return decision.kind === 'speak' ? 'speak' : 'quiet';
}

/** Prompt tokens: uncached input, cache reads and cache writes (output is billed apart). */
const promptTokens = (u: Usage): number => u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
const cacheReadRatio = (u: Usage): string => (promptTokens(u) === 0 ? '—' : `${((100 * u.cacheReadTokens) / promptTokens(u)).toFixed(1)}%`);
const dollars = (u: Usage): string => `$${(u.costMicroUsd / 1e6).toFixed(4)}`;

function tokenColumns(u: Usage): Record<string, string | number> {
  return { input: u.inputTokens, output: u.outputTokens, 'cache read': u.cacheReadTokens, 'cache write': u.cacheWriteTokens, 'cache read %': cacheReadRatio(u), cost: dollars(u) };
}

const NAIVE_INTERVAL_MS = 10_000;

/** The busy day as one workspace's day: what it costs, and how much of the prompt the cache served. */
function reportDay(day: ScenarioResult): void {
  const woken = day.trail.filter((l) => l.includes('woken')).length;
  console.table([{ id: day.id, ticks: day.trail.length, woken, 'model calls': day.modelCalls, ...tokenColumns(day.usage) }]);
  console.log(
    `busy day: ${dollars(day.usage)} per workspace-day at current prices; ${cacheReadRatio(day.usage)} of prompt tokens read from cache ` +
      `(${day.usage.cacheReadTokens} of ${promptTokens(day.usage)}); ${day.fallbacks} decision(s) fell back to the rules brain`,
  );
  // The naive agent: a model call on every 10-second heartbeat, whether or not anything happened.
  const naive = (24 * 3_600_000) / NAIVE_INTERVAL_MS;
  const share = (100 * day.modelCalls) / naive;
  console.log(
    `busy day vs a naive agent that asks the model every ${NAIVE_INTERVAL_MS / 1000} s: ${day.modelCalls} of ${naive} calls (${share.toFixed(2)}%); goal < 1%: ${share < 1 ? 'pass' : 'FAIL'}`,
  );
}

function tokensOf(u: Usage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

function report(results: ScenarioResult[], brainLabel: string, verbose: boolean): void {
  console.table(
    results.map((r) => ({
      id: r.id, expected: r.expected, observed: r.observed, ok: r.expected === r.observed ? '✓' : '✗', 'model calls': r.modelCalls, ...tokenColumns(r.usage),
    })),
  );
  const speaks = (o: Outcome) => o !== 'quiet';
  const tp = results.filter((r) => speaks(r.expected) && speaks(r.observed)).length;
  const predicted = results.filter((r) => speaks(r.observed)).length;
  const actual = results.filter((r) => speaks(r.expected)).length;
  const correct = results.filter((r) => r.expected === r.observed).length;
  const ratio = (n: number, d: number) => (d === 0 ? 'n/a' : `${(n / d).toFixed(2)} (${n}/${d})`);
  const calls = results.reduce((s, r) => s + r.modelCalls, 0);
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const fallbacks = results.reduce((s, r) => s + r.fallbacks, 0);
  console.log(
    `decisions: precision of speaking ${ratio(tp, predicted)}, recall ${ratio(tp, actual)}, accuracy ${ratio(correct, results.length)}; ` +
      `${calls} model calls, ${tokens} tokens; brain: ${brainLabel}${fallbacks > 0 ? `; ${fallbacks} decision(s) fell back to the rules brain` : ''}`,
  );
  const labelled = results.flatMap((r) => (r.labelled ? [r.labelled] : []));
  if (labelled.length > 0) {
    const sum = (f: (l: (typeof labelled)[number]) => number) => labelled.reduce((n, l) => n + f(l), 0);
    console.log(
      `posts (${labelled.length} labelled scenarios): precision ${ratio(sum((l) => l.good), sum((l) => l.posted))}, recall ${ratio(sum((l) => l.requiredMet), sum((l) => l.required))}, ` +
        `duplicates ${sum((l) => l.duplicates)}; brain: ${brainLabel}`,
    );
  }
  const postsOk = (r: ScenarioResult) => !r.labelled || (r.labelled.good === r.labelled.posted && r.labelled.requiredMet === r.labelled.required);
  for (const r of results.filter((x) => verbose || x.expected !== x.observed || !postsOk(x))) {
    console.log(`${r.expected === r.observed ? '✓' : '✗'} ${r.id}: expected ${r.expected}, observed ${r.observed}`);
    for (const line of r.trail) console.log(`    ${line}`);
    if (r.labelled) console.log(`    posts: ${r.labelled.good} of ${r.labelled.posted} labelled good, ${r.labelled.requiredMet} of ${r.labelled.required} required, ${r.labelled.duplicates} duplicate(s): ${r.posts.map((p) => p.purpose).join(', ')}`);
  }
}
