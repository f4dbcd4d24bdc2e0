// Builds the Claude brain from configuration; the only place the Anthropic client is constructed.
import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../../log.js';
import type { Brain, TokenBudget } from '../port.js';
import { ClaudeBrain, type ClaudeBrainOptions, type Effort } from './brain.js';
import { ClaudeReportDrafter } from './report-draft.js';

export { ClaudeBrain, estimateTokens, type Effort } from './brain.js';
export { CircuitBreaker } from './breaker.js';
export { ClaudeReportDrafter } from './report-draft.js';

export interface ClaudeConfig {
  apiKey: string;
  baseUrl?: string;
  model: string;
  triageModel: string;
  fallback: Brain;
  budget: TokenBudget;
  log: Logger;
  /** `output_config.effort` per call: decisions, replies and consolidation, and triage. */
  effort?: Effort;
  triageEffort?: Effort;
  /** SDK retries with its own backoff (honouring Retry-After) on 429, 5xx and overloaded. */
  maxRetries?: number;
  timeoutMs?: number;
  /** Told each model call's duration (main.ts records it in the metrics). */
  onModelCall?: ClaudeBrainOptions['onCall'];
}

export function createClaudeBrain(c: ClaudeConfig): ClaudeBrain {
  const client = new Anthropic({ apiKey: c.apiKey, baseURL: c.baseUrl, maxRetries: c.maxRetries ?? 2, timeout: c.timeoutMs ?? 30_000 });
  return new ClaudeBrain({
    client, model: c.model, triageModel: c.triageModel, fallback: c.fallback, budget: c.budget, log: c.log, effort: { decision: c.effort, triage: c.triageEffort },
    onCall: c.onModelCall,
  });
}

/** The post-incident drafter (src/oncall/report.ts) on the decision model, with its own client. */
export function createClaudeReportDrafter(c: Pick<ClaudeConfig, 'apiKey' | 'baseUrl' | 'model' | 'budget' | 'log' | 'maxRetries' | 'timeoutMs'>): ClaudeReportDrafter {
  const client = new Anthropic({ apiKey: c.apiKey, baseURL: c.baseUrl, maxRetries: c.maxRetries ?? 2, timeout: c.timeoutMs ?? 30_000 });
  return new ClaudeReportDrafter({ client, model: c.model, budget: c.budget, log: c.log });
}
