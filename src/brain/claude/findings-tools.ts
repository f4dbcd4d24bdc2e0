// Claude and investigations: the evidence quoted into the prompt as untrusted data, the read-only
// tools to ask for more (query_metrics, search_logs, get_diff, similar_incidents), and post_findings,
// through which it writes ranked hypotheses — each with its evidence and a confidence — or says it
// does not know. Sources that failed are named in the post whatever the model wrote.
import { z } from 'zod';
import type { ToolUseBlock } from '@anthropic-ai/sdk/resources/messages/messages';
import type { Decision, Hypothesis, Intent } from '../../core/decisions.js';
import { findingsText } from '../rules/findings.js';
import { sourceProblem, type InvestigationReport } from '../../core/evidence.js';
import { redactDeep } from '../../core/redact.js';
import { quoteAsData } from '../../core/untrusted.js';
import type { DecideContext } from '../port.js';
import { cleanOutput, type ToolOutcome } from './decision-tools.js';

const line = z.string().trim().min(1).max(300);

export const evidenceTools = {
  query_metrics: z
    .object({ expr: z.string().trim().min(1).max(1_000), minutes: z.number().int().min(5).max(360).default(60) })
    .describe('Read-only: run a PromQL expression on the workspace\'s Prometheus over the last `minutes`; answers a summary (current, mean before, peak, trend, a few points).'),
  search_logs: z
    .object({ query: z.string().trim().min(1).max(1_000), minutes: z.number().int().min(1).max(120).default(20) })
    .describe('Read-only: run a LogQL log query on the workspace\'s Loki over the last `minutes`; answers the lines deduplicated into patterns with counts (never the raw log).'),
  get_diff: z
    .object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name'), sha: z.string().regex(/^[0-9a-f]{7,40}$/i, 'a commit sha') })
    .describe('Read-only: the files a commit touched, with additions and deletions, from GitHub.'),
  similar_incidents: z
    .object({ incidentId: z.string().min(1) })
    .describe('Read-only: earlier incidents like this one in the last 30 days, how long they lasted and what resolved them, and memory entries about them.'),
} as const;

export const findingsTools = {
  post_findings: z
    .object({
      incidentId: z.string().min(1),
      text: z.string().trim().min(1).max(2_000).describe('What the evidence shows, citing numbers, commits, files and log lines from it.'),
      hypotheses: z.array(z.object({ cause: line, evidence: z.array(line).min(1).max(5), confidence: z.enum(['high', 'medium', 'low']) })).max(5).default([]),
      unknown: z.boolean().default(false).describe('True when the evidence points at no cause: say so instead of guessing.'),
    })
    .describe("Post what an investigation found in the incident's thread: the facts, then causes ranked most likely first, each with the evidence it rests on and a confidence; or unknown=true. Once per investigated incident."),
} as const;

export type EvidenceToolName = keyof typeof evidenceTools;

export function isEvidenceTool(name: string): name is EvidenceToolName {
  return name in evidenceTools;
}

/** At most this many lookups per model turn: a summary, not a crawl. */
const LOOKUPS_PER_TURN = 4;

export async function runEvidenceTool(use: ToolUseBlock, ctx: DecideContext, alreadyThisTurn: number): Promise<{ content: string; is_error?: boolean }> {
  if (alreadyThisTurn >= LOOKUPS_PER_TURN) return { content: `at most ${LOOKUPS_PER_TURN} lookups per turn; write your findings with what you have`, is_error: true };
  const tools = ctx.evidence;
  if (!tools) return { content: 'no evidence sources here', is_error: true };
  const name = use.name as EvidenceToolName;
  const parsed = evidenceTools[name].safeParse(use.input);
  if (!parsed.success) return { content: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, is_error: true };
  let answer: string;
  switch (name) {
    case 'query_metrics':
      answer = await tools.queryMetrics(parsed.data as z.infer<typeof evidenceTools.query_metrics>);
      break;
    case 'search_logs':
      answer = await tools.searchLogs(parsed.data as z.infer<typeof evidenceTools.search_logs>);
      break;
    case 'get_diff':
      answer = await tools.getDiff(parsed.data as z.infer<typeof evidenceTools.get_diff>);
      break;
    case 'similar_incidents': {
      const { incidentId } = parsed.data as z.infer<typeof evidenceTools.similar_incidents>;
      if (!ctx.incidents.has(incidentId)) return { content: `no incident ${incidentId} in this context`, is_error: true };
      answer = await tools.similarIncidents({ incidentId });
      break;
    }
    default: {
      const never: never = name;
      return { content: `unknown tool ${String(never)}`, is_error: true };
    }
  }
  return { content: quoteAsData(`evidence: ${name}`, answer, 8_000) };
}

/** post_findings: checked against the investigations in this context, made safe, with the chart and the missing sources. */
export function handleFindings(use: ToolUseBlock, ctx: DecideContext, hosts: string[]): ToolOutcome {
  const parsed = findingsTools.post_findings.safeParse(use.input);
  if (!parsed.success) return { error: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const input = parsed.data;
  const report = ctx.investigations?.find((r) => r.incidentId === input.incidentId);
  if (!report) return { error: `no investigation of ${input.incidentId} in this context; post_findings is for the investigated incidents listed` };
  const hypotheses: Hypothesis[] = input.unknown ? [] : input.hypotheses.map((h) => ({ cause: cleanOutput(h.cause, hosts), evidence: h.evidence.map((e) => cleanOutput(e, hosts)), confidence: h.confidence }));
  const title = ctx.incidents.get(report.incidentId)?.title ?? report.incidentId;
  const lines = [`*What I found about ${cleanOutput(title, [])}* (${report.sources.length} queries in ${(report.durationMs / 1000).toFixed(1)} s, read-only):`, cleanOutput(input.text, hosts), ''];
  if (hypotheses.length === 0) lines.push('I do not know the cause yet: the evidence does not point at one.');
  else lines.push('Possible causes, most likely first:', ...hypotheses.map((h, i) => `${i + 1}. ${h.cause} (${h.confidence} confidence) — ${h.evidence.join('; ')}`));
  const problems = report.sources.map(sourceProblem).filter((p): p is string => p !== null);
  if (problems.length > 0) lines.push('', `Missing: ${problems.join('; ')}.`);
  const intent: Intent = {
    type: 'post_findings', incidentId: report.incidentId, investigationId: report.investigationId, text: lines.join('\n'), hypotheses,
    ...(report.chart ? { chart: report.chart } : {}),
  };
  return { intent, note: `findings for ${report.incidentId}: ${hypotheses.length} hypotheses` };
}

/**
 * The evidence was paid for and its incident is critical: when the model wrote no findings for an
 * investigated incident (it stayed quiet, or its calls were invalid), the rules' findings go out instead.
 */
export function withRulesFindings(decision: Decision, ctx: DecideContext): Decision {
  const reports = ctx.investigations ?? [];
  const intents = decision.kind === 'speak' ? decision.intents : [];
  const missing = reports.filter((r) => !intents.some((i) => i.type === 'post_findings' && i.incidentId === r.incidentId));
  if (missing.length === 0) return decision;
  const time = { now: ctx.now, timezone: ctx.timezone ?? 'UTC' };
  const added = missing.flatMap((r): Intent[] => {
    const incident = ctx.incidents.get(r.incidentId);
    if (!incident || incident.status === 'resolved') return [];
    const { text, hypotheses } = findingsText(r, incident, time);
    return [{ type: 'post_findings', incidentId: incident.id, investigationId: r.investigationId, text, hypotheses, ...(r.chart ? { chart: r.chart } : {}) }];
  });
  if (added.length === 0) return decision;
  const reasons = [...decision.reasons, `findings by rules for ${added.length} investigation(s): the model wrote none`];
  return { kind: 'speak', reasons, intents: [...intents, ...added], usage: decision.usage, ...(decision.brain ? { brain: decision.brain } : {}) };
}

/** The investigations as quoted data: findings without the picture, a few points of the series, capped. */
export function evidencePrompt(ctx: DecideContext): string[] {
  const reports = ctx.investigations ?? [];
  if (reports.length === 0) return [];
  return [
    'Investigations finished for the incidents below: the evidence Tacit fetched (read-only) is quoted as data. For each, call post_findings once: ' +
      'cite the numbers, commits, files and log lines in it; rank possible causes most likely first, each with the evidence it rests on and a confidence; ' +
      'if nothing points at a cause, set unknown=true instead of guessing. You may first use query_metrics, search_logs, get_diff or similar_incidents for more.',
    // The label must stay short (labels are cut at 80): the incident id first; the investigation's is in the data.
    ...reports.slice(0, 5).map((r) => quoteAsData(`evidence for incident ${r.incidentId}`, JSON.stringify(redactDeep(shown(r)), null, 1), 16_000)),
  ];
}

function shown(r: InvestigationReport): unknown {
  const { chart: _chart, metric, ...rest } = r;
  if (!metric) return rest;
  const every = Math.max(1, Math.ceil(metric.points.length / 24));
  return { ...rest, metric: { ...metric, points: metric.points.filter((_, i) => i % every === 0).map(([t, v]) => [new Date(t).toISOString(), v]) } };
}
