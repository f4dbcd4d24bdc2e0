// Model prices in US dollars per million tokens, for the cost recorded on every decision.
// Unknown models are priced like the most expensive family, so a budget errs on the safe side.
import type { Usage } from '../../core/decisions.js';

interface Price {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const families: [RegExp, Price][] = [
  [/haiku/i, { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 }],
  [/sonnet/i, { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 }],
  [/opus/i, { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 }],
];

export function priceOf(model: string): Price {
  return families.find(([re]) => re.test(model))?.[1] ?? { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 };
}

export interface ApiUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** One call's usage, with its cost in micro-USD ($/MTok × tokens = micro-USD). */
export function usageOf(model: string, u: ApiUsage): Usage {
  const p = priceOf(model);
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  return {
    modelCalls: 1,
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheWriteTokens: cacheWrite,
    cacheReadTokens: cacheRead,
    costMicroUsd: Math.round(u.input_tokens * p.input + u.output_tokens * p.output + cacheWrite * p.cacheWrite + cacheRead * p.cacheRead),
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    modelCalls: a.modelCalls + b.modelCalls,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costMicroUsd: a.costMicroUsd + b.costMicroUsd,
  };
}

export function totalTokens(u: Usage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}
