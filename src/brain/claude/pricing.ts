// Model prices in US dollars per million tokens, for the cost recorded on every decision, from the
// pricing page (shared/reference/anthropic.md, checked 2026-12-01). Unknown models are priced like the
// most expensive family, so a budget errs on the safe side.
import type { Usage } from '../../core/decisions.js';

interface Price {
  input: number;
  output: number;
  /** Cache writes cost by TTL: 1.25x input for 5 minutes, 2x for an hour. */
  cacheWrite5m: number;
  cacheWrite1h: number;
  /** A cache read (it also refreshes the entry's TTL). */
  cacheRead: number;
}

interface ModelPrice {
  base: Price;
  /** Above this many prompt tokens (input + cache reads + cache writes), the whole request costs `above`. */
  tier?: { promptTokens: number; above: Price };
}

const SONNET_5_5: ModelPrice = { base: { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.1 } };
// Haiku 5.5 costs 5x for the whole request once the prompt is over 100K tokens. The pricing page gives
// only input and output for that tier; cache prices are assumed to scale the same way.
const HAIKU_5_5: ModelPrice = {
  base: { input: 0.1, output: 0.5, cacheWrite5m: 0.125, cacheWrite1h: 0.2, cacheRead: 0.01 },
  tier: { promptTokens: 100_000, above: { input: 0.5, output: 2.5, cacheWrite5m: 0.625, cacheWrite1h: 1, cacheRead: 0.05 } },
};
const MOST_EXPENSIVE: ModelPrice = { base: { input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5 } };

const families: [RegExp, ModelPrice][] = [
  [/^claude-sonnet-5-5/, SONNET_5_5],
  [/^claude-haiku-5-5/, HAIKU_5_5],
];

export function priceOf(model: string): ModelPrice {
  return families.find(([re]) => re.test(model))?.[1] ?? MOST_EXPENSIVE;
}

export interface ApiUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Cache writes split by TTL; without it every write is taken as a 5-minute one. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } | null;
}

/** One call's usage, with its cost in micro-USD ($/MTok × tokens = micro-USD). Thinking is billed as output. */
export function usageOf(model: string, u: ApiUsage): Usage {
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const write1h = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const write5m = u.cache_creation ? u.cache_creation.ephemeral_5m_input_tokens : cacheWrite;
  const prompt = u.input_tokens + cacheRead + cacheWrite;
  const { base, tier } = priceOf(model);
  const p = tier && prompt > tier.promptTokens ? tier.above : base;
  return {
    modelCalls: 1,
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheWriteTokens: cacheWrite,
    cacheReadTokens: cacheRead,
    costMicroUsd: Math.round(u.input_tokens * p.input + u.output_tokens * p.output + write5m * p.cacheWrite5m + write1h * p.cacheWrite1h + cacheRead * p.cacheRead),
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
