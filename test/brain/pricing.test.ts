// Prices per decision at the current list prices (shared/reference/anthropic.md, 2026-12-01).
import { describe, expect, it } from 'vitest';
import { usageOf } from '../../src/brain/claude/pricing.js';

describe('model pricing', () => {
  it('prices Sonnet 5.5 at $2 in, $10 out, $0.10 cache reads, and 5-minute and 1-hour cache writes apart', () => {
    const u = usageOf('claude-sonnet-5-5', {
      input_tokens: 1_000_000, output_tokens: 1_000_000, cache_read_input_tokens: 1_000_000, cache_creation_input_tokens: 2_000_000,
      cache_creation: { ephemeral_5m_input_tokens: 1_000_000, ephemeral_1h_input_tokens: 1_000_000 },
    });
    expect(u.costMicroUsd).toBe((2 + 10 + 0.1 + 2.5 + 4) * 1e6);
    expect(u).toMatchObject({ cacheReadTokens: 1_000_000, cacheWriteTokens: 2_000_000 });
  });

  it('prices Haiku 5.5 at its base rates up to 100K prompt tokens and 5x for the whole request above', () => {
    const small = usageOf('claude-haiku-5-5', { input_tokens: 50_000, output_tokens: 1_000, cache_read_input_tokens: 50_000, cache_creation_input_tokens: 0 });
    expect(small.costMicroUsd).toBe(Math.round(50_000 * 0.1 + 1_000 * 0.5 + 50_000 * 0.01));
    const large = usageOf('claude-haiku-5-5', { input_tokens: 50_001, output_tokens: 1_000, cache_read_input_tokens: 50_000, cache_creation_input_tokens: 0 });
    expect(large.costMicroUsd).toBe(Math.round(50_001 * 0.5 + 1_000 * 2.5 + 50_000 * 0.05));
  });

  it('takes every cache write as a 5-minute one when the split is missing, and prices unknown models high', () => {
    expect(usageOf('claude-haiku-5-5', { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 100_000 }).costMicroUsd).toBe(12_500);
    expect(usageOf('claude-mystery-9', { input_tokens: 1_000_000, output_tokens: 0 }).costMicroUsd).toBe(15_000_000);
  });
});
