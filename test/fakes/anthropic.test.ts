// The fake Anthropic API, driven through the real SDK: replies, usage and prompt caching, errors and retries.
import Anthropic, { AuthenticationError, BadRequestError, NotFoundError, OverloadedError } from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicOptions } from './anthropic.js';

const MODEL = 'claude-sonnet-5-5';
const TOOLS: Anthropic.Tool[] = [
  { name: 'stay_quiet', description: 'Say nothing this tick.', input_schema: { type: 'object', properties: { reason: { type: 'string' } } } },
  {
    name: 'post_summary',
    description: 'Post an incident summary.',
    input_schema: { type: 'object', properties: { text: { type: 'string' } } },
    cache_control: { type: 'ephemeral' },
  },
];
const SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You are Tacit, a chat-ops bot that knows when to stay quiet. '.repeat(40), cache_control: { type: 'ephemeral' } },
];

let fake: FakeAnthropic | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: FakeAnthropicOptions & { maxRetries?: number } = {}): Promise<{ fake: FakeAnthropic; client: Anthropic }> {
  fake = await startFakeAnthropic(opts);
  return { fake, client: new Anthropic({ apiKey: 'test', baseURL: fake.url, maxRetries: opts.maxRetries ?? 0 }) };
}

const tick = (text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model: MODEL,
  max_tokens: 1024,
  system: SYSTEM,
  tools: TOOLS,
  tool_choice: { type: 'auto' },
  messages: [{ role: 'user', content: text }],
  ...extra,
});

describe('fake Anthropic Messages API', () => {
  it('returns a scripted tool_use as a ToolUseBlock with its input parsed', async () => {
    const { fake, client } = await setup();
    fake.script((req) => {
      const offered = req.tools?.some((t) => 'name' in t && t.name === 'post_summary');
      return { content: [{ type: 'tool_use', name: offered ? 'post_summary' : 'stay_quiet', input: { text: 'disk full on db-1' } }] };
    });

    const message = await client.messages.create(tick('an alert fired'));

    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'tool_use', stop_sequence: null });
    expect(message.id).toMatch(/^msg_01\w{22}$/);
    expect(message._request_id).toMatch(/^req_01/);
    const [thinking, block] = message.content;
    expect(thinking).toMatchObject({ type: 'thinking', signature: expect.any(String) });
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') return;
    expect(block.id).toMatch(/^toolu_01/);
    expect(block).toMatchObject({ name: 'post_summary', input: { text: 'disk full on db-1' } });
    expect(fake.requests[0]).toMatchObject({ model: MODEL, tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'an alert fired' }] });
    expect(fake.requests[0]?.headers).toMatchObject({ authorization: 'Bearer test', 'anthropic-version': expect.any(String) });
  });

  it('answers queued replies in order, then the default "ok"', async () => {
    const { fake, client } = await setup();
    fake.enqueue({
      content: [
        { type: 'text', text: 'Looking at the alert.' },
        { type: 'tool_use', id: 'toolu_fixed', name: 'stay_quiet', input: { reason: 'already acknowledged' } },
      ],
    });

    const first = await client.messages.create(tick('tick 1'));
    const second = await client.messages.create(tick('tick 2'));

    // Text before a tool call is the model thinking between tools: it comes back as a thinking block.
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect(first.content[0]).toMatchObject({ thinking: 'Looking at the alert.' });
    expect(first.content[1]).toMatchObject({ id: 'toolu_fixed', input: { reason: 'already acknowledged' } });
    expect(second).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'thinking' }, { type: 'text', text: 'ok' }] });
    expect(fake.calls).toBe(2);
  });

  it('reports usage on every message, with scripted overrides', async () => {
    const { fake, client } = await setup();
    fake.enqueue({ content: [{ type: 'text', text: 'hi' }], stopReason: 'max_tokens', usage: { output_tokens: 42 } });

    const { usage, stop_reason } = await client.messages.create(tick('hello', { system: 'plain', tools: [] }));

    expect(stop_reason).toBe('max_tokens');
    expect(usage).toMatchObject({ output_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(usage.input_tokens).toBeGreaterThan(10);
  });

  it('writes the cached prefix on the first tick and reads it on the second', async () => {
    const { client } = await setup();

    const first = (await client.messages.create(tick('tick 1'))).usage;
    const second = (await client.messages.create(tick('tick 2'))).usage;
    const otherModel = (await client.messages.create(tick('tick 3', { model: 'claude-haiku-5-5' }))).usage;

    expect(first.cache_creation_input_tokens).toBeGreaterThan(500);
    expect(first.cache_read_input_tokens).toBe(0);
    expect(first.cache_creation?.ephemeral_5m_input_tokens).toBe(first.cache_creation_input_tokens);
    expect(second.cache_read_input_tokens).toBe(first.cache_creation_input_tokens);
    expect(second.cache_creation_input_tokens).toBe(0);
    expect(second.input_tokens).toBeLessThan(50);
    expect(otherModel.cache_read_input_tokens).toBe(0);
  });

  it('reads an earlier message breakpoint when the conversation grows', async () => {
    const { client } = await setup();
    const turn = (text: string, cache: boolean): Anthropic.MessageParam => ({
      role: 'user',
      content: [{ type: 'text', text, ...(cache ? { cache_control: { type: 'ephemeral' as const } } : {}) }],
    });
    const history = [turn('first event '.repeat(50), true)];

    const before = (await client.messages.create(tick('', { messages: history }))).usage;
    const grown = [turn('first event '.repeat(50), false), { role: 'assistant' as const, content: 'noted' }, turn('second event', true)];
    const after = (await client.messages.create(tick('', { messages: grown }))).usage;

    const cachedBefore = (before.cache_creation_input_tokens ?? 0) + (before.cache_read_input_tokens ?? 0);
    expect(after.cache_read_input_tokens).toBe(cachedBefore);
    expect(after.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it('forgets a cached prefix after five minutes', async () => {
    let clock = 0;
    const { client } = await setup({ now: () => clock });

    await client.messages.create(tick('tick 1'));
    clock += 5 * 60_000 + 1;
    const late = (await client.messages.create(tick('tick 2'))).usage;

    expect(late.cache_read_input_tokens).toBe(0);
    expect(late.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it('surfaces a 529 overloaded_error as OverloadedError', async () => {
    const { fake, client } = await setup();
    fake.script(() => ({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } }));

    await expect(client.messages.create(tick('tick'))).rejects.toThrow(OverloadedError);
    await expect(client.messages.create(tick('tick'))).rejects.toMatchObject({
      status: 529,
      type: 'overloaded_error',
      requestID: expect.stringMatching(/^req_01/),
    });
  });

  it('lets the SDK retry a 429 after the retry-after delay', async () => {
    const { fake, client } = await setup({ maxRetries: 1 });
    fake.enqueue({ error: { status: 429, type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit', retryAfterSeconds: 0.01 } });

    const message = await client.messages.create(tick('tick'));

    expect(message.content.at(-1)).toMatchObject({ type: 'text', text: 'ok' });
    expect(fake.calls).toBe(2);
    expect(fake.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('rejects a request without an API key as AuthenticationError', async () => {
    const { fake } = await setup();
    const keyless = new Anthropic({ apiKey: 'test', baseURL: fake.url, maxRetries: 0, defaultHeaders: { Authorization: null } });

    await expect(keyless.messages.create(tick('tick'))).rejects.toThrow(AuthenticationError);
    expect(fake.requests).toEqual([]);
  });

  it('answers a base URL ending in /v1 with NotFoundError', async () => {
    const { fake } = await setup();
    const misconfigured = new Anthropic({ apiKey: 'test', baseURL: `${fake.url}/v1`, maxRetries: 0 });

    await expect(misconfigured.messages.create(tick('tick'))).rejects.toThrow(NotFoundError);
  });

  it('rejects a body without max_tokens as invalid_request_error', async () => {
    const { fake } = await setup();
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('answers a forced tool_choice with 400 invalid_request_error on both current models, in the API error shape', async () => {
    const { fake } = await setup();
    for (const model of ['claude-sonnet-5-5', 'claude-haiku-5-5']) {
      for (const tool_choice of [{ type: 'any' }, { type: 'tool', name: 'stay_quiet' }]) {
        const res = await fetch(`${fake.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': 'test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
          body: JSON.stringify({ model, max_tokens: 100, tools: TOOLS, tool_choice, messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('tool_choice') } });
      }
    }
    expect(fake.rejected).toBe(4);
    expect(fake.requests).toEqual([]);
  });

  it('refuses sampling parameters and disabled thinking, and allows between_tools only at low to high effort', async () => {
    const { fake, client } = await setup();
    // The SDK's types no longer offer these fields; a caller that sends them anyway gets a 400.
    const sampling = (extra: Record<string, number>) => tick('t', extra as Partial<Anthropic.MessageCreateParamsNonStreaming>);
    await expect(client.messages.create(sampling({ temperature: 0.2 }))).rejects.toThrow(BadRequestError);
    await expect(client.messages.create(sampling({ top_p: 0.9 }))).rejects.toThrow(/top_p/);
    await expect(client.messages.create(sampling({ top_k: 5 }))).rejects.toThrow(/top_k/);
    await expect(client.messages.create(tick('t', { thinking: { type: 'disabled' } }))).rejects.toThrow(/disabled/);
    await expect(client.messages.create(tick('t', { thinking: { type: 'between_tools' }, output_config: { effort: 'max' } }))).rejects.toThrow(/between_tools/);
    expect(fake.rejected).toBe(5);

    fake.enqueue({ content: [{ type: 'tool_use', name: 'stay_quiet', input: { reason: 'fine' } }] });
    const low = await client.messages.create(tick('t', { thinking: { type: 'between_tools' }, output_config: { effort: 'low' } }));
    expect(low.content.map((b) => b.type)).toEqual(['tool_use']);
  });

  it('answers a retired or unknown model with 404 not_found_error', async () => {
    const { client } = await setup();
    await expect(client.messages.create(tick('t', { model: 'claude-sonnet-4-5' }))).rejects.toThrow(NotFoundError);
    await expect(client.messages.create(tick('t', { model: 'claude-sonnet-4-5' }))).rejects.toThrow(/end of life on 2026-11-30/);
    await expect(client.messages.create(tick('t', { model: 'claude-nonsense-1' }))).rejects.toMatchObject({ status: 404, type: 'not_found_error' });
  });

  it('takes tool results only with the thinking blocks of the turn they answer, unchanged, on the same model', async () => {
    const { fake, client } = await setup();
    fake.script(() => ({ content: [{ type: 'text', text: 'Checking the runbook first.' }, { type: 'tool_use', name: 'stay_quiet', input: { reason: 'r' } }] }));
    const first = await client.messages.create(tick('an alert fired'));
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('expected a tool call');
    const answer = (content: Anthropic.ContentBlockParam[], model = MODEL) =>
      client.messages.create(tick('', {
        model,
        messages: [{ role: 'user', content: 'an alert fired' }, { role: 'assistant', content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'ok' }] }],
      }));

    await expect(answer(first.content)).resolves.toMatchObject({ type: 'message' });
    await expect(answer(first.content.filter((b) => b.type !== 'thinking'))).rejects.toThrow(/passed back unchanged/);
    const altered = first.content.map((b) => (b.type === 'thinking' ? { ...b, thinking: `${b.thinking} (edited)` } : b));
    await expect(answer(altered)).rejects.toThrow(/signature/);
    await expect(answer(first.content, 'claude-haiku-5-5')).rejects.toThrow(BadRequestError);
  });

  it('keeps a 1-hour cache entry past five minutes and reports it as a 1h write', async () => {
    let clock = 0;
    const { client } = await setup({ now: () => clock });
    const hour = (text: string) => tick(text, { system: [{ type: 'text', text: SYSTEM[0]?.text ?? '', cache_control: { type: 'ephemeral', ttl: '1h' } }] });

    const first = (await client.messages.create(hour('tick 1'))).usage;
    clock += 50 * 60_000;
    const second = (await client.messages.create(hour('tick 2'))).usage;
    clock += 50 * 60_000; // the read at 50 min refreshed the entry
    const third = (await client.messages.create(hour('tick 3'))).usage;

    expect(first.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(500);
    expect(second.cache_read_input_tokens).toBeGreaterThan(500);
    expect(third.cache_read_input_tokens).toBe(second.cache_read_input_tokens);
  });

  it('does not cache a prefix under 512 tokens, and refuses more than four breakpoints', async () => {
    const { client } = await setup();
    const short = tick('t', { system: [{ type: 'text', text: 'Short system prompt.', cache_control: { type: 'ephemeral' } }], tools: [] });
    await client.messages.create(short);
    expect((await client.messages.create(short)).usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });

    const five = Array.from({ length: 5 }, (_, i) => ({ type: 'text' as const, text: `block ${i}`, cache_control: { type: 'ephemeral' as const } }));
    await expect(client.messages.create(tick('t', { system: five, tools: [] }))).rejects.toThrow(/maximum of 4/);
  });
});
