// The fake Anthropic API, driven through the real SDK: replies, usage and prompt caching, errors and retries.
import Anthropic, { AuthenticationError, NotFoundError, OverloadedError } from '@anthropic-ai/sdk';
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
  tool_choice: { type: 'any' },
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
    const [block] = message.content;
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') return;
    expect(block.id).toMatch(/^toolu_01/);
    expect(block).toMatchObject({ name: 'post_summary', input: { text: 'disk full on db-1' } });
    expect(fake.requests[0]).toMatchObject({ model: MODEL, tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'an alert fired' }] });
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

    expect(first.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(first.content[1]).toMatchObject({ id: 'toolu_fixed', input: { reason: 'already acknowledged' } });
    expect(second).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'ok' }] });
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

    expect(message.content).toMatchObject([{ type: 'text', text: 'ok' }]);
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
});
