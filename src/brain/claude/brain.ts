// ClaudeBrain: decisions and replies through Claude, speaking only through tools. A cheap triage
// model decides whether the main model is needed; every call is counted against the workspace's
// daily token budget; while the API fails, a circuit breaker hands decisions to the rules brain.
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, MessageParam, Tool, ToolResultBlockParam, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages/messages';
import { noUsage, type Decision, type Intent, type Reply, type Usage } from '../../core/decisions.js';
import { restrictLinks } from '../../core/links.js';
import { redactSecrets } from '../../core/redact.js';
import { quoteAsData } from '../../core/untrusted.js';
import type { Logger } from '../../log.js';
import type { Brain, ConsolidateInput, ConsolidateProposal, Conversation, DecideContext, MemoryView, TokenBudget } from '../port.js';
import { CircuitBreaker } from './breaker.js';
import { addUsage, totalTokens, usageOf } from './pricing.js';
import { allowedHosts, consolidatePrompt, decisionPrompt, memoryBlock, replyPrompt, SYSTEM_PROMPT } from './prompt.js';
import { consolidateTool, decisionTools, replyTools, toolDefinitions, triageTool } from './tools.js';

export interface ClaudeBrainOptions {
  client: Anthropic;
  model: string;
  triageModel: string;
  fallback: Brain;
  budget: TokenBudget;
  log: Logger;
  breaker?: CircuitBreaker;
  maxToolRounds?: number;
  maxTokens?: number;
}

class Unavailable extends Error {}

export class ClaudeBrain implements Brain {
  readonly name = 'claude';
  private readonly breaker: CircuitBreaker;
  private readonly decisionToolDefs: Tool[] = toolDefinitions(decisionTools);
  private readonly replyToolDefs: Tool[] = toolDefinitions(replyTools);
  private readonly triageToolDefs: Tool[] = toolDefinitions({ triage: triageTool });
  private readonly consolidateToolDefs: Tool[] = toolDefinitions({ consolidate: consolidateTool });

  constructor(private readonly opts: ClaudeBrainOptions) {
    this.breaker = opts.breaker ?? new CircuitBreaker();
  }

  async decide(ctx: DecideContext): Promise<Decision> {
    let usage: Usage = noUsage;
    try {
      const prompt = decisionPrompt(ctx);
      const memory = memoryBlock(ctx.memory);
      const triage = await this.call(ctx.workspaceId, ctx.now, this.opts.triageModel, this.triageToolDefs, [{ role: 'user', content: prompt }], 'triage', memory);
      usage = addUsage(usage, triage.usage);
      const verdict = triageTool.safeParse(firstToolUse(triage.content, 'triage')?.input);
      if (verdict.success && !verdict.data.worth_it) {
        return { kind: 'quiet', reasons: [...ctx.reasons, `triage: ${cleanOutput(verdict.data.reason, [])}`], usage, brain: this.name };
      }
      return await this.decideWithMainModel(ctx, prompt, usage, memory);
    } catch (err) {
      // Any API error (a retired model, a revoked key, a prompt too long) falls back, or the tick
      // would fail every beat and post nothing; only outages count toward the breaker.
      if (!(err instanceof Unavailable) && !(err instanceof Anthropic.APIError)) throw err;
      if (isApiFailure(err)) this.breaker.failure();
      const why = err instanceof Unavailable ? err.message : `Claude unavailable (${describe(err)})`;
      this.opts.log.warn({ workspaceId: ctx.workspaceId, why }, 'falling back to the rules brain');
      const d = await this.opts.fallback.decide(ctx);
      return { ...d, reasons: [...d.reasons, `fallback to rules: ${why}`], usage: addUsage(usage, d.usage), brain: `${this.opts.fallback.name} (fallback)` };
    }
  }

  private async decideWithMainModel(ctx: DecideContext, prompt: string, spent: Usage, memory: string | undefined): Promise<Decision> {
    let usage = spent;
    const intents: Intent[] = [];
    const reasons = [...ctx.reasons];
    const hosts = allowedHosts(ctx.incidents.values());
    const messages: MessageParam[] = [{ role: 'user', content: prompt }];
    let quiet = false;
    for (let round = 0; round < (this.opts.maxToolRounds ?? 3) && !quiet; round++) {
      const res = await this.call(ctx.workspaceId, ctx.now, this.opts.model, this.decisionToolDefs, messages, 'any', memory);
      usage = addUsage(usage, res.usage);
      const uses = res.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (uses.length === 0) break; // free text is discarded, never posted
      const results: ToolResultBlockParam[] = [];
      let errors = 0;
      let read = false;
      for (const use of uses) {
        if (use.name === 'recall') {
          // A read: its answer goes back to the model, which decides in the next round.
          read = true;
          results.push({ type: 'tool_result', tool_use_id: use.id, ...(await recall(use, ctx.memory)) });
          continue;
        }
        const outcome = this.handleDecisionTool(use, ctx, hosts);
        if (outcome.intent) intents.push(outcome.intent);
        if (outcome.quiet) quiet = true;
        if (outcome.note) reasons.push(outcome.note);
        if (outcome.error) errors++;
        results.push({ type: 'tool_result', tool_use_id: use.id, content: outcome.error ?? 'ok', is_error: Boolean(outcome.error) });
      }
      messages.push({ role: 'assistant', content: res.content }, { role: 'user', content: results });
      if (errors === 0 && (!read || quiet || intents.length > 0)) break;
    }
    if (intents.length === 0) return { kind: 'quiet', reasons, usage, brain: this.name };
    // A summary repeated across rounds (after an error elsewhere) is said once: the last one wins.
    const latest = new Map(intents.map((i) => [i.type === 'post_summary' ? `summary:${i.incidentId}` : `${i.type}:${JSON.stringify(i)}`, i]));
    return { kind: 'speak', reasons, intents: [...latest.values()], usage, brain: this.name };
  }

  private handleDecisionTool(use: ToolUseBlock, ctx: DecideContext, hosts: string[]): { intent?: Intent; quiet?: boolean; note?: string; error?: string } {
    const schema = decisionTools[use.name as keyof typeof decisionTools];
    if (!schema) return { error: `unknown tool ${use.name}` };
    const parsed = schema.safeParse(use.input);
    if (!parsed.success) return { error: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    const input = parsed.data as Record<string, unknown>;
    switch (use.name) {
      case 'stay_quiet':
        // The reason is model text shown later by `@tacit why`: no links, no secrets.
        return { quiet: true, note: `stayed quiet: ${cleanOutput(String(input.reason), [])}` };
      case 'post_summary': {
        const incidentId = String(input.incidentId);
        if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
        return { intent: { type: 'post_summary', incidentId, text: cleanOutput(String(input.text), hosts) } };
      }
      case 'post_notice': {
        const event = ctx.events.find((e) => e.id === Number(input.eventId));
        if (!event || event.payload.kind !== 'repo') return { error: `no repository event ${String(input.eventId)} in this context` };
        return { intent: { type: 'notice', channelId: event.payload.channelId, key: `repo-event:${event.id}`, text: cleanOutput(String(input.text), hosts) } };
      }
      case 'attach_file': {
        const incidentId = String(input.incidentId);
        if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
        const content = redactSecrets(String(input.content)).text;
        return { intent: { type: 'attach_file', incidentId, filename: String(input.filename), content } };
      }
      case 'notify_person': {
        const incidentId = String(input.incidentId);
        if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
        return { intent: { type: 'notify_person', personId: String(input.personId), incidentId, text: cleanOutput(String(input.text), hosts) } };
      }
      case 'propose_action': {
        // Only actions this workspace has; their parameters are validated again by the registry.
        const action = String(input.action);
        if (!(ctx.actions ?? []).some((a) => a.name === action)) return { error: `no action ${action} here; available: ${(ctx.actions ?? []).map((a) => a.name).join(', ') || 'none'}` };
        const incidentId = typeof input.incidentId === 'string' && ctx.incidents.has(input.incidentId) ? input.incidentId : undefined;
        return {
          intent: { type: 'propose_action', action, params: input.params as Record<string, unknown>, reason: cleanOutput(String(input.reason), hosts), ...(incidentId ? { incidentId } : {}) },
          note: `proposed ${action}`,
        };
      }
      case 'remember': {
        const i = input as { topic: string; hint: string; body: string; sources: string[] };
        return { intent: { type: 'remember', topic: redactSecrets(i.topic).text, hint: redactSecrets(i.hint).text, body: redactSecrets(i.body).text, sources: i.sources } };
      }
      default:
        return { error: `unknown tool ${use.name}` };
    }
  }

  async reply(conversation: Conversation): Promise<Reply> {
    try {
      const hosts = allowedHosts(conversation.openIncidents);
      const messages: MessageParam[] = [{ role: 'user', content: replyPrompt(conversation) }];
      const memory = memoryBlock(conversation.memory);
      let usage: Usage = noUsage;
      for (let round = 0; round < (this.opts.maxToolRounds ?? 3); round++) {
        const res = await this.call(conversation.workspaceId, conversation.now, this.opts.model, this.replyToolDefs, messages, 'any', memory);
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
      if (!(err instanceof Unavailable) && !(err instanceof Anthropic.APIError)) throw err;
      if (isApiFailure(err)) this.breaker.failure();
      const fallback = await this.opts.fallback.reply(conversation);
      return { ...fallback, brain: `${this.opts.fallback.name} (fallback)` };
    }
  }

  /**
   * A proposal for consolidating memory, through one forced tool call. Memory judges it like any other
   * proposal (no lost entries, no invented sources); errors propagate and memory falls back to rules.
   */
  async consolidate(input: ConsolidateInput): Promise<{ proposal: ConsolidateProposal; usage: Usage }> {
    const res = await this.call(input.workspaceId, input.now, this.opts.model, this.consolidateToolDefs, [{ role: 'user', content: consolidatePrompt(input) }], 'consolidate', undefined, 16_000);
    const parsed = consolidateTool.safeParse(firstToolUse(res.content, 'consolidate')?.input);
    if (!parsed.success) throw new Error(`the consolidation proposal is invalid: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { proposal: parsed.data, usage: res.usage };
  }

  /**
   * One model call: budget and breaker checked first, tokens spent after. Cached prefix: tools, the
   * system prompt, then the memory index (a second system block with its own breakpoint).
   */
  private async call(
    workspaceId: string, now: Date, model: string, tools: Tool[], messages: MessageParam[], choice: 'any' | 'triage' | 'consolidate',
    memory?: string, maxTokens?: number,
  ) {
    if (this.breaker.isOpen()) throw new Unavailable('the model API has been failing; the circuit breaker is open');
    if ((await this.opts.budget.remaining(workspaceId, now)) <= 0) throw new Unavailable("today's token budget for this workspace is spent");
    const res = await this.opts.client.messages.create({
      model,
      max_tokens: maxTokens ?? this.opts.maxTokens ?? 1024,
      system: [
        { type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } },
        ...(memory ? [{ type: 'text' as const, text: memory, cache_control: { type: 'ephemeral' as const } }] : []),
      ],
      tools,
      tool_choice: choice === 'any' ? { type: 'any' } : { type: 'tool', name: choice },
      messages,
    });
    this.breaker.success();
    const usage = usageOf(model, res.usage);
    await this.opts.budget.spend(workspaceId, totalTokens(usage), now);
    return { content: res.content, usage };
  }
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

/** What Claude wrote, made safe to post: secrets redacted, links only to known hosts, no images. */
function cleanOutput(text: string, hosts: string[]): string {
  return restrictLinks(redactSecrets(text).text, hosts).text;
}

function isApiFailure(err: unknown): boolean {
  if (err instanceof Anthropic.APIConnectionError) return true;
  return err instanceof Anthropic.APIError && (err.status === 429 || err.status === 529 || (err.status ?? 0) >= 500);
}

function describe(err: unknown): string {
  return err instanceof Anthropic.APIError ? `${err.status ?? 'connection'} ${err.name}` : (err as Error).message;
}
