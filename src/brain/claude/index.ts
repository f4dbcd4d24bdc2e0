// Builds the Claude brain from configuration; the only place the Anthropic client is constructed.
import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../../log.js';
import type { Brain, TokenBudget } from '../port.js';
import { ClaudeBrain } from './brain.js';

export { ClaudeBrain } from './brain.js';
export { CircuitBreaker } from './breaker.js';

export interface ClaudeConfig {
  apiKey: string;
  baseUrl?: string;
  model: string;
  triageModel: string;
  fallback: Brain;
  budget: TokenBudget;
  log: Logger;
  /** SDK retries with its own backoff (honouring Retry-After) on 429, 5xx and overloaded. */
  maxRetries?: number;
  timeoutMs?: number;
}

export function createClaudeBrain(c: ClaudeConfig): ClaudeBrain {
  const client = new Anthropic({ apiKey: c.apiKey, baseURL: c.baseUrl, maxRetries: c.maxRetries ?? 2, timeout: c.timeoutMs ?? 30_000 });
  return new ClaudeBrain({ client, model: c.model, triageModel: c.triageModel, fallback: c.fallback, budget: c.budget, log: c.log });
}
