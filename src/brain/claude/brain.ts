// ClaudeBrain: decisions and replies through Claude, speaking only through tools. A cheap triage
// model decides whether the main model is needed; every call reserves its largest cost against the
// workspace's daily token budget first; while the API fails, a circuit breaker hands decisions to the
// rules brain; a configuration error (a refused key, a retired model, a refused request) is reported
// once and kept for the dashboard and /readyz instead of being swallowed by the fallback.
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, MessageCreateParamsNonStreaming, MessageParam, OutputConfig, TextBlockParam, Tool, ToolResultBlockParam, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages/messages';
import { noUsage, type Decision, type Intent, type Reply, type Usage } from '../../core/decisions.js';
import { quoteAsData } from '../../core/untrusted.js';
import type { Logger } from '../../log.js';
import { BrainUnavailableError } from '../errors.js';
import type { Brain, BrainHealth, ConsolidateInput, ConsolidateProposal, Conversation, DecideContext, MemoryView, TokenBudget } from '../port.js';
import { CircuitBreaker } from './breaker.js';
import { cleanOutput, handleDecisionTool } from './decision-tools.js';
import { evidenceTools, findingsTools, handleFindings, isEvidenceTool, runEvidenceTool, withRulesFindings } from './findings-tools.js';
import { attentionFor } from './attention.js';
import { ConfigurationErrors } from './health.js';
import { addUsage, totalTokens, usageOf } from './pricing.js';
import { allowedHosts, consolidatePrompt, decisionPrompt, memoryBlock, replyPrompt, SYSTEM_PROMPT } from './prompt.js';
import { consolidateTool, decisionTools, replyTools, toolDefinitions, triageTool } from './tools.js';
import { workspaceBlock } from './workspace.js';

export type Effort = NonNullable<OutputConfig['effort']>;

export interface ClaudeBrainOptions {
  client: Anthropic;
  model: string;
  triageModel: string;
  fallback: Brain;
  budget: TokenBudget;
  log: Logger;
  breaker?: CircuitBreaker;
  maxToolRounds?: number;
  /** Output cap of a decision or reply call (thinking counts as output). */
  maxTokens?: number;
  /** Effort per call, sent explicitly: triage `low`, decisions (and replies, consolidation) `medium`. */
  effort?: { triage?: Effort; decision?: Effort };
  /** Told each API call's duration (metrics, wired in main.ts: brain/ stays free of them). */
  onCall?: (call: { model: string; call: CallKind; outcome: 'ok' | 'error'; seconds: number }) => void;
}

export type CallKind = 'triage' | 'decision' | 'reply' | 'consolidate';

/** Calls of a heartbeat are minutes to hours apart: a 5-minute cache would never be read. */
const CACHE_1H = { type: 'ephemeral', ttl: '1h' } as const;
const TRIAGE_MAX_TOKENS = 2_048;
const CONSOLIDATE_MAX_TOKENS = 16_000;
// Tool use adds a system prompt of a few hundred tokens on the API's side.
const TOOL_OVERHEAD_TOKENS = 600;

interface CallRequest {
  workspaceId: string;
  now: Date;
  model: string;
  effort: Effort;
  tools: Tool[];
  system: TextBlockParam[];
  messages: MessageParam[];
  maxTokens: number;
  signal?: AbortSignal;
  kind: CallKind;
}

export class ClaudeBrain implements Brain {
  readonly name = 'claude';
  private readonly breaker: CircuitBreaker;
  private readonly errors: ConfigurationErrors;
  private readonly effort: { triage: Effort; decision: Effort };
  private readonly decisionToolDefs: Tool[] = toolDefinitions(decisionTools);
  private readonly replyToolDefs: Tool[] = toolDefinitions(replyTools);
  private readonly triageToolDefs: Tool[] = toolDefinitions({ triage: triageTool });
  /** Offered only when investigations finished: their findings, and read-only lookups into the evidence sources. */
  private readonly findingsToolDefs: Tool[] = toolDefinitions({ ...decisionTools, ...evidenceTools, ...findingsTools });
  private readonly consolidateToolDefs: Tool[] = toolDefinitions({ consolidate: consolidateTool });

  constructor(private readonly opts: ClaudeBrainOptions) {
    this.breaker = opts.breaker ?? new CircuitBreaker();
    this.errors = new ConfigurationErrors(opts.log);
    this.effort = { triage: opts.effort?.triage ?? 'low', decision: opts.effort?.decision ?? 'medium' };
  }

  health(): BrainHealth {
    return { configurationError: this.errors.current() };
  }

  async decide(ctx: DecideContext): Promise<Decision> {
    let usage: Usage = noUsage;
    try {
      const attention = attentionFor(ctx);
      if (attention === 'rules') {
        const d = await this.opts.fallback.decide(ctx);
        return { ...d, reasons: [...d.reasons, 'reminders only: written by the rules brain, no model call'], brain: `${this.opts.fallback.name} (reminders)` };
      }
      const prompt = decisionPrompt(ctx);
      const system = systemBlocks(workspaceBlock(ctx.actions, ctx.people), memoryBlock(ctx.memory));
      // The digest due is news by any measure: triage would only agree.
      // So is an investigation's evidence: it was paid for, and its incident already qualified.
      if (attention === 'main' || (ctx.investigations?.length ?? 0) > 0) return withRulesFindings(await this.decideWithMainModel(ctx, prompt, usage, system), ctx);
      const triage = await this.call({
        kind: 'triage', workspaceId: ctx.workspaceId, now: ctx.now, model: this.opts.triageModel, effort: this.effort.triage, tools: this.triageToolDefs, system,
        messages: [{ role: 'user', content: prompt }], maxTokens: TRIAGE_MAX_TOKENS, signal: ctx.signal,
      });
      usage = addUsage(usage, triage.usage);
      const verdict = triageTool.safeParse(firstToolUse(triage.content, 'triage')?.input);
      if (verdict.success && !verdict.data.worth_it) {
        return { kind: 'quiet', reasons: [...ctx.reasons, `triage: ${cleanOutput(verdict.data.reason, [])}`], usage, brain: this.name };
      }
      // Without a verdict (triage answered in text) the main model looks: missing news costs more than a call.
      return await this.decideWithMainModel(ctx, prompt, usage, system);
    } catch (err) {
      // Any API error (a retired model, a revoked key, a prompt too long) falls back, or the tick
      // would fail every beat and post nothing; only outages count toward the breaker.
      if (!(err instanceof BrainUnavailableError) && !(err instanceof Anthropic.APIError)) throw err;
      if (isApiFailure(err)) this.breaker.failure();
      const why = err instanceof BrainUnavailableError ? err.message : ConfigurationErrors.isConfiguration(err) ? `Claude misconfigured (${describe(err)})` : `Claude unavailable (${describe(err)})`;
      // A configuration error was logged once when first seen (health.ts); repeating it every tick is noise.
      if (ConfigurationErrors.isConfiguration(err)) this.opts.log.debug({ workspaceId: ctx.workspaceId, why }, 'falling back to the rules brain');
      else this.opts.log.warn({ workspaceId: ctx.workspaceId, why }, 'falling back to the rules brain');
      const d = await this.opts.fallback.decide(ctx);
      return { ...d, reasons: [...d.reasons, `fallback to rules: ${why}`], usage: addUsage(usage, d.usage), brain: `${this.opts.fallback.name} (fallback)` };
    }
  }

  private async decideWithMainModel(ctx: DecideContext, prompt: string, spent: Usage, system: TextBlockParam[]): Promise<Decision> {
    let usage = spent;
    const intents: Intent[] = [];
    const reasons = [...ctx.reasons];
    const hosts = allowedHosts(ctx.incidents.values());
    const messages: MessageParam[] = [{ role: 'user', content: prompt }];
    const rounds = this.opts.maxToolRounds ?? 3;
    let quiet = false;
    let valid = 0;
    let problem = `no valid tool call in ${rounds} rounds`;
    for (let round = 0; round < rounds && !quiet; round++) {
      const res = await this.call({
        kind: 'decision', workspaceId: ctx.workspaceId, now: ctx.now, model: this.opts.model, effort: this.effort.decision,
        tools: (ctx.investigations?.length ?? 0) > 0 ? this.findingsToolDefs : this.decisionToolDefs, system, messages,
        maxTokens: this.opts.maxTokens ?? 4_096, signal: ctx.signal,
      });
      usage = addUsage(usage, res.usage);
      const uses = res.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (uses.length === 0) {
        // "Act only through tools", enforced here: text is discarded, never posted; no tool call is silence.
        problem = `the model answered without a tool call (stop reason ${res.stopReason ?? 'none'}); its text was discarded`;
        break;
      }
      const results: ToolResultBlockParam[] = [];
      let errors = 0;
      let read = false;
      let lookups = 0;
      for (const use of uses) {
        if (isEvidenceTool(use.name)) {
          // A read-only lookup into the evidence sources; like recall, answered for the next round.
          read = true;
          results.push({ type: 'tool_result', tool_use_id: use.id, ...(await runEvidenceTool(use, ctx, lookups++)) });
          continue;
        }
        if (use.name === 'recall') {
          // A read: its answer goes back to the model, which decides in the next round.
          read = true;
          results.push({ type: 'tool_result', tool_use_id: use.id, ...(await recall(use, ctx.memory)) });
          continue;
        }
        const outcome = use.name === 'post_findings' ? handleFindings(use, ctx, hosts) : handleDecisionTool(use, ctx, hosts);
        if (outcome.refusedPerson) this.opts.log.warn({ workspaceId: ctx.workspaceId, personId: outcome.refusedPerson }, 'refused notify_person: not the on-call or an approver (an id from untrusted text?)');
        if (outcome.intent) intents.push(outcome.intent);
        if (outcome.quiet) quiet = true;
        if (outcome.note) reasons.push(outcome.note);
        if (outcome.error) errors++;
        else valid++;
        results.push({ type: 'tool_result', tool_use_id: use.id, content: outcome.error ?? 'ok', is_error: Boolean(outcome.error) });
      }
      // The assistant turn goes back whole and unchanged: its thinking blocks are signed.
      messages.push({ role: 'assistant', content: res.content }, { role: 'user', content: results });
      if (errors === 0 && (!read || quiet || intents.length > 0)) break;
    }
    if (intents.length === 0) return { kind: 'quiet', reasons: quiet || valid > 0 ? reasons : [...reasons, `quiet: ${problem}`], usage, brain: this.name };
    // A summary repeated across rounds (after an error elsewhere) is said once: the last one wins.
    const latest = new Map(intents.map((i) => [i.type === 'post_summary' ? `summary:${i.incidentId}` : `${i.type}:${JSON.stringify(i)}`, i]));
    return { kind: 'speak', reasons, intents: [...latest.values()], usage, brain: this.name };
  }

  async reply(conversation: Conversation): Promise<Reply> {
    try {
      const hosts = allowedHosts(conversation.openIncidents);
      const messages: MessageParam[] = [{ role: 'user', content: replyPrompt(conversation) }];
      const system = systemBlocks(undefined, memoryBlock(conversation.memory));
      let usage: Usage = noUsage;
      for (let round = 0; round < (this.opts.maxToolRounds ?? 3); round++) {
        const res = await this.call({
          kind: 'reply', workspaceId: conversation.workspaceId, now: conversation.now, model: this.opts.model, effort: this.effort.decision, tools: this.replyToolDefs, system, messages,
          maxTokens: this.opts.maxTokens ?? 4_096,
        });
        usage = addUsage(usage, res.usage);
        const uses = res.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
        const answer = uses.find((u) => u.name === 'reply');
        const parsed = answer ? replyTools.reply.safeParse(answer.input) : undefined;
        if (parsed?.success) return { text: cleanOutput(parsed.data.text, hosts), usage, brain: this.name };
        if (uses.length === 0) break;
        const results: ToolResultBlockParam[] = [];
        for (const u of uses) {
          if (u.name === 'reply' && parsed && !parsed.success) {
            results.push({ type: 'tool_result', tool_use_id: u.id, is_error: true, content: `invalid input: ${parsed.error.issues.map((i) => i.message).join('; ')}` });
          } else {
            results.push({ type: 'tool_result', tool_use_id: u.id, ...(await lookup(u, conversation)) });
          }
        }
        messages.push({ role: 'assistant', content: res.content }, { role: 'user', content: results });
      }
      const fallback = await this.opts.fallback.reply(conversation);
      return { ...fallback, usage: addUsage(usage, fallback.usage), brain: `${this.opts.fallback.name} (fallback)` };
    } catch (err) {
      if (!(err instanceof BrainUnavailableError) && !(err instanceof Anthropic.APIError)) throw err;
      if (isApiFailure(err)) this.breaker.failure();
      const fallback = await this.opts.fallback.reply(conversation);
      return { ...fallback, brain: `${this.opts.fallback.name} (fallback)` };
    }
  }

  /**
   * A proposal for consolidating memory, through one call offering only the consolidate tool. Memory
   * judges it like any other proposal (no lost entries, no invented sources); an answer without that
   * tool call is an error, and memory falls back to rules.
   */
  async consolidate(input: ConsolidateInput): Promise<{ proposal: ConsolidateProposal; usage: Usage }> {
    const res = await this.call({
      kind: 'consolidate', workspaceId: input.workspaceId, now: input.now, model: this.opts.model, effort: this.effort.decision, tools: this.consolidateToolDefs, system: systemBlocks(undefined, undefined),
      messages: [{ role: 'user', content: consolidatePrompt(input) }], maxTokens: CONSOLIDATE_MAX_TOKENS,
    });
    const parsed = consolidateTool.safeParse(firstToolUse(res.content, 'consolidate')?.input);
    if (!parsed.success) throw new Error(`the consolidation proposal is invalid: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { proposal: parsed.data, usage: res.usage };
  }

  /**
   * One model call: the breaker is checked and the call's largest cost reserved first, its real cost
   * settled after. `tool_choice` is left to the default (auto) and no sampling parameters are sent:
   * the current models refuse forced tool use and non-default sampling with a 400.
   */
  private async call(r: CallRequest): Promise<{ content: ContentBlock[]; usage: Usage; stopReason: string | null }> {
    if (this.breaker.isOpen()) throw new BrainUnavailableError('the model API has been failing; the circuit breaker is open');
    const body: MessageCreateParamsNonStreaming = {
      model: r.model, max_tokens: r.maxTokens, system: r.system, tools: r.tools, messages: r.messages, output_config: { effort: r.effort },
    };
    const reservation = await this.opts.budget.reserve(r.workspaceId, estimateTokens(body), r.now);
    if (!reservation) throw new BrainUnavailableError("today's token budget for this workspace is spent (the next call might not fit)", 'budget');
    let used = 0;
    const started = performance.now();
    try {
      const res = await this.opts.client.messages.create(body, r.signal ? { signal: r.signal } : undefined);
      this.opts.onCall?.({ model: r.model, call: r.kind, outcome: 'ok', seconds: (performance.now() - started) / 1000 });
      this.breaker.success();
      this.errors.clear(r.model);
      const usage = usageOf(r.model, res.usage);
      used = totalTokens(usage);
      return { content: res.content, usage, stopReason: res.stop_reason };
    } catch (err) {
      this.errors.record(r.model, err);
      this.opts.onCall?.({ model: r.model, call: r.kind, outcome: 'error', seconds: (performance.now() - started) / 1000 });
      throw err;
    } finally {
      await this.opts.budget.settle(reservation, used);
    }
  }
}

/**
 * The cached prefix after the tools: the fixed system prompt, the workspace's actions and people, the
 * memory index — each a breakpoint (with the tools' one, the API's limit of four). Nothing here depends
 * on the clock or the tick: the per-tick prompt comes after the last breakpoint.
 */
function systemBlocks(workspace: string | undefined, memory: string | undefined): TextBlockParam[] {
  return [SYSTEM_PROMPT, workspace, memory].flatMap((text) => (text ? [{ type: 'text' as const, text, cache_control: CACHE_1H }] : []));
}

/**
 * The most a call can cost: every prompt token (a token is rarely under 3 bytes of JSON) plus the whole
 * output cap. Reserved before the call, so the budget holds even with many workers calling at once.
 */
export function estimateTokens(body: MessageCreateParamsNonStreaming): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 3) + TOOL_OVERHEAD_TOKENS + body.max_tokens;
}

/** Read-only lookups for replies. What they return is data from alerts and repositories: quoted. */
async function lookup(use: ToolUseBlock, c: Conversation): Promise<{ content: string; is_error?: boolean }> {
  const limit = (name: 'recent_events' | 'repo_activity') => replyTools[name].safeParse(use.input).data?.limit ?? 20;
  switch (use.name) {
    case 'list_incidents':
      return { content: quoteAsData('incidents', JSON.stringify(c.openIncidents.map((i) => ({ id: i.id, title: i.title, status: i.status, severity: i.severity, startedAt: i.startedAt })))) };
    case 'recent_events':
      if (!c.lookups) return { content: 'not available here', is_error: true };
      return { content: quoteAsData('recent events', (await c.lookups.recentEvents(limit('recent_events'))).join('\n')) };
    case 'repo_activity':
      if (!c.lookups) return { content: 'not available here', is_error: true };
      return { content: quoteAsData('repository activity', (await c.lookups.repoActivity(limit('repo_activity'))).join('\n')) };
    case 'recall':
      return recall(use, c.memory);
    default:
      return { content: `unknown tool ${use.name}`, is_error: true };
  }
}

/** The recall tool: a memory entry's body, re-checked by memory first, quoted as data (it came from a model and chat). */
async function recall(use: ToolUseBlock, memory: MemoryView | undefined): Promise<{ content: string; is_error?: boolean }> {
  const parsed = decisionTools.recall.safeParse(use.input);
  if (!parsed.success) return { content: `invalid input: ${parsed.error.issues.map((i) => i.message).join('; ')}`, is_error: true };
  if (!memory) return { content: 'no memory here', is_error: true };
  const body = await memory.recall(parsed.data.id);
  if (body === null) return { content: `no memory ${parsed.data.id}`, is_error: true };
  return { content: quoteAsData(`memory ${parsed.data.id}`, body, 4_000) };
}

function firstToolUse(content: ContentBlock[], name: string): ToolUseBlock | undefined {
  return content.find((b): b is ToolUseBlock => b.type === 'tool_use' && b.name === name);
}

function isApiFailure(err: unknown): boolean {
  if (err instanceof Anthropic.APIConnectionError) return true;
  return err instanceof Anthropic.APIError && (err.status === 429 || err.status === 529 || (err.status ?? 0) >= 500);
}

function describe(err: unknown): string {
  return err instanceof Anthropic.APIError ? `${err.status ?? 'connection'} ${err.name}` : (err as Error).message;
}
