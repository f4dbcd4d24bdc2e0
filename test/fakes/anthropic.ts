// A local Anthropic Messages API (POST /v1/messages) for the real @anthropic-ai/sdk: scripted replies and
// errors in the API's wire shapes, recorded requests, and usage that accounts for prompt caching. It is
// strict the way the current models are (shared/reference/anthropic.md): it refuses forced tool use,
// sampling parameters, disabled thinking, altered or dropped thinking blocks and retired models, and
// it answers with signed thinking blocks as adaptive-thinking models do.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';

/** A parsed request body, plus the request headers (lower-cased names). */
export type FakeRequest = Anthropic.MessageCreateParamsNonStreaming & { headers: Record<string, string> };

/**
 * A scripted block. On an adaptive-thinking model, text that comes before a tool call is answered as a
 * `thinking` block (the model's text between tool calls), and a reply without thinking gets one first.
 */
export type FakeBlock = { type: 'text'; text: string } | { type: 'thinking'; thinking: string } | { type: 'tool_use'; name: string; input: unknown; id?: string };

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface FakeReply {
  content: FakeBlock[];
  /** Defaults to `tool_use` when the content holds a tool_use block, else `end_turn`. */
  stopReason?: Anthropic.StopReason;
  stopSequence?: string | null;
  /** Overrides the estimated counts. */
  usage?: Partial<FakeUsage>;
}

export interface FakeError {
  error: { status: number; type: string; message: string; retryAfterSeconds?: number };
}

export type FakeResponse = FakeReply | FakeError;
/** Returns the answer to one call, or undefined for the default `end_turn` "ok". */
export type FakeHandler = (request: FakeRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;

export interface FakeAnthropic {
  /** Give this to the SDK as `baseURL`. It has no `/v1`: the SDK appends `/v1/messages` itself. */
  url: string;
  /** Every request that passed authentication and validation, in order, as parsed bodies with headers. */
  requests: FakeRequest[];
  /** Every POST /v1/messages, rejected ones and SDK retries included. */
  readonly calls: number;
  /** Requests refused for breaking a model's request rules (400) or naming an unknown/retired model (404). */
  readonly rejected: number;
  script(handler: FakeHandler | undefined): void;
  /** Answers the next calls in order (first in, first out) before the handler is asked. */
  enqueue(...responses: FakeResponse[]): void;
  /** Forgets requests, calls, queue, handler and the prompt cache. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeAnthropicOptions {
  /** Clock for cache expiry (ms since epoch). */
  now?: () => number;
  /** Prefixes shorter than this are not cached; default 512 tokens, the current models' minimum. */
  minCacheableTokens?: number;
  /** The models this API serves (default: Sonnet 5.5 and Haiku 5.5). */
  models?: Record<string, FakeModel>;
}

export type Effort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** What a model accepts. */
export interface FakeModel {
  /** Thinks adaptively by default and answers with signed thinking blocks. */
  adaptiveThinking: boolean;
  /** Whether `tool_choice` `any`/`tool` is accepted (forced tool use is incompatible with thinking). */
  forcedToolChoice: boolean;
  defaultEffort: Effort;
}

export const FAKE_MODELS: Record<string, FakeModel> = {
  'claude-sonnet-5-5': { adaptiveThinking: true, forcedToolChoice: false, defaultEffort: 'high' },
  'claude-haiku-5-5': { adaptiveThinking: true, forcedToolChoice: false, defaultEffort: 'medium' },
};

/** Models past their end of life: the API answers 404 not_found_error. */
const RETIRED: Record<string, string> = { 'claude-sonnet-4-5': '2026-11-30' };
const EFFORTS = new Set<string>(['low', 'medium', 'high', 'xhigh', 'max']);
const MAX_BREAKPOINTS = 4;

const DEFAULT_REPLY: FakeReply = { content: [{ type: 'text', text: 'ok' }] };
const DEFAULT_MIN_CACHEABLE_TOKENS = 512;
// The API checks for a cache hit at each breakpoint and up to 20 blocks before it.
const LOOKBACK_BLOCKS = 20;
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;

const bodySchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.unknown()).min(1),
  stream: z.literal(false, { error: 'the fake Anthropic API answers non-streaming requests only' }).optional(),
});

const tokens = (chars: number): number => Math.ceil(chars / 4);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const textBlocks = (v: unknown): unknown[] => (typeof v === 'string' ? [{ type: 'text', text: v }] : list(v));
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const newId = (prefix: string): string => prefix + [...randomBytes(22)].map((b) => BASE62[b % 62]).join('');

interface Prefix {
  hash: string;
  tokens: number;
  /** Set where the block carries `cache_control`: a breakpoint. */
  ttlMs?: number;
}

/** The prompt in cache order (tools, system, messages), one entry per block, with its cumulative hash and size. */
function prefixesOf(body: { model: unknown; tools?: unknown; system?: unknown; messages: unknown }): Prefix[] {
  const blocks: Array<{ key: string; block: unknown }> = [
    ...list(body.tools).map((block) => ({ key: 'tool', block })),
    ...textBlocks(body.system).map((block) => ({ key: 'system', block })),
    ...list(body.messages).flatMap((m, i) =>
      isRecord(m) ? textBlocks(m.content).map((block) => ({ key: `${i}:${String(m.role)}`, block })) : [],
    ),
  ];
  let hash = String(body.model);
  let chars = 0;
  return blocks.map(({ key, block }) => {
    // The marker is not part of the cached content: moving a breakpoint keeps earlier prefixes valid.
    const { cache_control: marker, ...content } = isRecord(block) ? block : { value: block };
    const text = JSON.stringify([key, content]);
    hash = createHash('sha256').update(hash).update(text).digest('hex');
    chars += text.length;
    const ttl = isRecord(marker) ? (marker.ttl === '1h' ? TTL_MS['1h'] : TTL_MS['5m']) : undefined;
    return { hash, tokens: tokens(chars), ...(ttl === undefined ? {} : { ttlMs: ttl }) };
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req_01'), ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, { status, type, message, retryAfterSeconds }: FakeError['error']): void {
  const requestId = newId('req_01');
  const retryAfter: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, { 'request-id': requestId, ...retryAfter });
}

const invalid = (message: string): FakeError['error'] => ({ status: 400, type: 'invalid_request_error', message });

/** The request rules the current models enforce before any tokens are spent (400/404 in the API's words). */
function checkRules(body: Record<string, unknown>, models: Record<string, FakeModel>): FakeError['error'] | undefined {
  const model = String(body.model);
  if (RETIRED[model]) return { status: 404, type: 'not_found_error', message: `model: ${model} reached its end of life on ${RETIRED[model]}; use a current model` };
  const rules = models[model];
  if (!rules) return { status: 404, type: 'not_found_error', message: `model: ${model}` };
  const choice = isRecord(body.tool_choice) ? String(body.tool_choice.type) : undefined;
  if ((choice === 'any' || choice === 'tool') && !rules.forcedToolChoice) {
    return invalid(`tool_choice: forced tool use ({"type":"${choice}"}) is not supported with ${model}; use {"type":"auto"}`);
  }
  if (body.temperature !== undefined && body.temperature !== 1) return invalid(`temperature: non-default sampling parameters are not supported with ${model}`);
  for (const field of ['top_p', 'top_k'] as const) {
    if (body[field] !== undefined) return invalid(`${field}: non-default sampling parameters are not supported with ${model}`);
  }
  const output = isRecord(body.output_config) ? body.output_config : {};
  if (output.effort !== undefined && output.effort !== null && !EFFORTS.has(String(output.effort))) {
    return invalid(`output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'`);
  }
  const effort = typeof output.effort === 'string' ? output.effort : rules.defaultEffort;
  const thinking = isRecord(body.thinking) ? String(body.thinking.type) : undefined;
  if (thinking === 'disabled') return invalid(`thinking.type: "disabled" is not supported with ${model}; the lowest setting is "between_tools"`);
  if (thinking === 'between_tools' && !['low', 'medium', 'high'].includes(effort)) {
    return invalid(`thinking.type: "between_tools" requires effort low, medium or high (got ${effort})`);
  }
  if (thinking !== undefined && thinking !== 'adaptive' && thinking !== 'between_tools') return invalid(`thinking.type: "${thinking}" is not supported with ${model}`);
  const breakpoints = JSON.stringify([body.tools, body.system, body.messages]).split('"cache_control":').length - 1;
  if (breakpoints > MAX_BREAKPOINTS) return invalid(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`);
  return undefined;
}

interface Issued {
  model: string;
  thinking: { thinking: string; signature: string }[];
}

/**
 * Each assistant turn whose tool calls a later user turn answers must carry the thinking blocks it was
 * given, unchanged, and be sent to the model that wrote them (the signature binds text and model).
 */
function checkThinking(body: Record<string, unknown>, issued: ReadonlyMap<string, Issued>, sign: (model: string, text: string) => string): FakeError['error'] | undefined {
  const messages = list(body.messages);
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || m.role !== 'assistant') continue;
    const blocks = list(m.content).filter(isRecord);
    for (const [j, b] of blocks.entries()) {
      if (b.type === 'thinking' && b.signature !== sign(String(body.model), String(b.thinking))) {
        return invalid(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block (thinking blocks must be passed back unchanged, to the model that wrote them)`);
      }
    }
    const next = messages[i + 1];
    const answered = new Set(isRecord(next) ? list(next.content).filter(isRecord).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)) : []);
    const calls = blocks.filter((b) => b.type === 'tool_use' && answered.has(String(b.id)));
    const origin = calls.map((b) => issued.get(String(b.id))).find((x) => x !== undefined);
    if (!origin) continue;
    if (origin.model !== body.model) return invalid(`messages.${i}: thinking blocks from ${origin.model} cannot be sent to ${String(body.model)}`);
    const sent = blocks.filter((b) => b.type === 'thinking').map((b) => ({ thinking: String(b.thinking), signature: String(b.signature) }));
    if (JSON.stringify(sent) !== JSON.stringify(origin.thinking)) {
      return invalid(`messages.${i}.content: thinking blocks in an assistant message that tool results answer must be passed back unchanged, with the rest of that turn`);
    }
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const now = opts.now ?? Date.now;
  const minCacheable = opts.minCacheableTokens ?? DEFAULT_MIN_CACHEABLE_TOKENS;
  const models = opts.models ?? FAKE_MODELS;
  const secret = randomBytes(16);
  const sign = (model: string, text: string): string => createHmac('sha256', secret).update(`${model}\n${text}`).digest('base64');
  /** Thinking handed out with each tool call, by tool_use id. */
  const issued = new Map<string, Issued>();
  let rejected = 0;
  const cache = new Map<string, { expiresAt: number; ttlMs: number }>();
  const requests: FakeRequest[] = [];
  const queue: FakeResponse[] = [];
  let handler: FakeHandler | undefined;
  let calls = 0;

  /** Reads the longest cached prefix, writes every breakpoint past it, and reports both as the API does. */
  function cacheUsage(prefixes: Prefix[]): { read: number; write5m: number; write1h: number } {
    const at = now();
    const breakpoints = prefixes.flatMap((p, i) => (p.ttlMs === undefined ? [] : [i]));
    let hit = -1;
    for (const b of breakpoints) {
      for (let j = b; j >= Math.max(0, b - LOOKBACK_BLOCKS) && j > hit; j--) {
        const entry = cache.get(prefixes[j]?.hash ?? '');
        if (entry && entry.expiresAt > at) {
          hit = j;
          break;
        }
      }
    }
    const hitPrefix = prefixes[hit];
    const hitEntry = cache.get(hitPrefix?.hash ?? '');
    if (hitEntry) hitEntry.expiresAt = at + hitEntry.ttlMs; // a read refreshes the entry's lifetime
    const read = hitPrefix?.tokens ?? 0;
    const usage = { read, write5m: 0, write1h: 0 };
    let covered = read;
    for (const b of breakpoints) {
      const p = prefixes[b];
      if (!p || b <= hit || p.ttlMs === undefined || p.tokens < minCacheable) continue;
      cache.set(p.hash, { expiresAt: at + p.ttlMs, ttlMs: p.ttlMs });
      if (p.ttlMs === TTL_MS['1h']) usage.write1h += p.tokens - covered;
      else usage.write5m += p.tokens - covered;
      covered = p.tokens;
    }
    return usage;
  }

  /** The reply as the model sends it: thinking first (adaptive models), text between tool calls as thinking, signed. */
  function contentOf(request: FakeRequest, reply: FakeReply): Anthropic.ContentBlock[] {
    const thinks = models[request.model]?.adaptiveThinking ?? false;
    const lastTool = reply.content.map((b) => b.type).lastIndexOf('tool_use');
    let blocks: FakeBlock[] = reply.content.map((b, i) => (thinks && b.type === 'text' && i < lastTool ? { type: 'thinking', thinking: b.text } : b));
    const betweenToolsOnly = isRecord(request.thinking) && request.thinking.type === 'between_tools';
    if (thinks && !betweenToolsOnly && !blocks.some((b) => b.type === 'thinking')) {
      blocks = [{ type: 'thinking', thinking: 'Weighing what changed and whether anyone needs to hear about it.' }, ...blocks];
    }
    const content = blocks.map((block): Anthropic.ContentBlock => {
      switch (block.type) {
        case 'text':
          return { type: 'text', text: block.text, citations: null };
        case 'thinking':
          return { type: 'thinking', thinking: block.thinking, signature: sign(request.model, block.thinking) };
        case 'tool_use':
          return { type: 'tool_use', id: block.id ?? newId('toolu_01'), name: block.name, input: block.input, caller: { type: 'direct' } };
      }
    });
    const thinking = content.flatMap((b) => (b.type === 'thinking' ? [{ thinking: b.thinking, signature: b.signature }] : []));
    for (const b of content) if (b.type === 'tool_use') issued.set(b.id, { model: request.model, thinking });
    return content;
  }

  function message(request: FakeRequest, rawChars: number, reply: FakeReply): Anthropic.Message {
    const content = contentOf(request, reply);
    const cached = cacheUsage(prefixesOf(request));
    const written = cached.write5m + cached.write1h;
    const counts: FakeUsage = {
      input_tokens: Math.max(1, tokens(rawChars) - cached.read - written),
      output_tokens: Math.max(1, tokens(JSON.stringify(content).length)),
      cache_creation_input_tokens: written,
      cache_read_input_tokens: cached.read,
      ...reply.usage,
    };
    return {
      id: newId('msg_01'),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content,
      stop_reason: reply.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: reply.stopSequence ?? null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: {
        ...counts,
        cache_creation: { ephemeral_5m_input_tokens: cached.write5m, ephemeral_1h_input_tokens: cached.write1h },
        inference_geo: null,
        output_tokens_details: null,
        server_tool_use: null,
        service_tier: 'standard',
        speed: null,
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || path !== '/v1/messages') {
      const hint = path.startsWith('/v1/v1/') ? ' (the base URL must not end in /v1)' : '';
      return sendError(res, { status: 404, type: 'not_found_error', message: `${req.method} ${path} not found${hint}` });
    }
    calls += 1;
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : Array.isArray(v) ? [[k, v.join(', ')]] : [])),
    );
    // SDK 1.14 sends the API key as `Authorization: Bearer`; the API also takes `x-api-key`.
    if (!headers['x-api-key'] && !/^Bearer \S+/.test(headers['authorization'] ?? '')) {
      return sendError(res, { status: 401, type: 'authentication_error', message: 'x-api-key header is required' });
    }
    if (!headers['anthropic-version']) {
      return sendError(res, { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' });
    }
    const raw = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendError(res, { status: 400, type: 'invalid_request_error', message: 'the request body is not valid JSON' });
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      const missing = isRecord(json) && !(field in json);
      return sendError(res, { status: 400, type: 'invalid_request_error', message: `${field}: ${missing ? 'Field required' : issue?.message}` });
    }
    const refused = checkRules(parsed.data, models) ?? checkThinking(parsed.data, issued, sign);
    if (refused) {
      rejected += 1;
      return sendError(res, refused);
    }
    // Only the fields above are checked; the rest is taken as the SDK's shape.
    const request = { ...(parsed.data as Anthropic.MessageCreateParamsNonStreaming), headers };
    requests.push(request);
    const response = queue.shift() ?? (await handler?.(request)) ?? DEFAULT_REPLY;
    if ('error' in response) return sendError(res, response.error);
    sendJson(res, 200, message(request, raw.length, response));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, { status: 500, type: 'api_error', message: `fake Anthropic API failed: ${String(err)}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get calls() {
      return calls;
    },
    get rejected() {
      return rejected;
    },
    script(next) {
      handler = next;
    },
    enqueue(...responses) {
      queue.push(...responses);
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      cache.clear();
      issued.clear();
      handler = undefined;
      calls = 0;
      rejected = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // the SDK's fetch keeps connections alive
      }),
  };
}
