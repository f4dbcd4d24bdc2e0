// What POST /slack/events answers, before and after Bolt. Events are committed before the 200 (Bolt
// runs with processBeforeResponse), inside Slack's 3 s: what is not stored within `ackDeadlineMs` is
// answered 503 so Slack retries (X-Slack-Retry-Num), and a retry stores once (dedupe on message ids).
// In front of Bolt a guard verifies and checks the body, so garbage never reaches a listener: over the
// cap 413, unsigned or stale/future-dated 401, signed but unusable 400 with the reason (the raw bytes
// are still quarantined for forensics).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { quarantine } from '../../db/schema.js';
import type { Logger } from '../../log.js';
import { ChatRejectedError } from '../errors.js';
import { verifySlackRequest } from './verify.js';
import { workspaceId } from './types.js';

/** Slack wants the 200 within 3 s; what is not stored by then is answered 503 (and retried). */
export const ACK_DEADLINE_MS = 2_500;
/** Slack's payloads are small; Bolt's own cap is 4 MB. */
export const EVENT_BODY_LIMIT_BYTES = 1024 * 1024;

export interface EdgeOptions {
  signingSecret: string;
  log: Logger;
  /** Where signed bodies that cannot be used are kept; without it they are only logged. */
  db?: Db;
  ackDeadlineMs?: number;
  bodyLimitBytes?: number;
  now?: () => number;
}

const text = z.string().max(100_000);
const id = z.string().min(1).max(255);
/** The fields of message events a listener reads; anything else rides along untouched. */
const messageEvent = z.looseObject({
  type: z.enum(['message', 'app_mention']),
  channel: id,
  ts: id.optional(),
  subtype: id.optional(),
  user: id.optional(),
  bot_id: id.optional(),
  text: text.optional(),
  thread_ts: id.optional(),
  deleted_ts: id.optional(),
  message: z.looseObject({ ts: id, user: id.optional(), bot_id: id.optional(), text: text.optional(), thread_ts: id.optional() }).optional(),
  previous_message: z.looseObject({ ts: id }).optional(),
});
/** The other events a listener reads, and the rest (no listener: Bolt only routes them). */
const HANDLED = new Set(['message', 'app_mention', 'app_home_opened', 'app_uninstalled', 'tokens_revoked']);
const handledEvent = z.union([
  messageEvent,
  z.looseObject({ type: z.literal('app_home_opened'), user: id, tab: z.string().max(100).optional() }),
  z.looseObject({ type: z.literal('app_uninstalled') }),
  z.looseObject({ type: z.literal('tokens_revoked'), tokens: z.looseObject({ bot: z.array(z.string()).optional(), oauth: z.array(z.string()).optional() }) }),
]);
const otherEvent = z.looseObject({ type: id.refine((t) => !HANDLED.has(t)), user: id.optional(), bot_id: id.optional(), subtype: id.optional(), channel: id.optional() });
/** Button clicks and the settings modal's submission, the only interactivity Tacit offers; other kinds are kept aside, not routed. */
const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id, username: id.optional(), name: id.optional(), team_id: id.optional() }),
  team: z.looseObject({ id }).nullable().optional(),
  channel: z.looseObject({ id }).optional(),
  message: z.looseObject({ ts: id }).optional(),
  container: z.looseObject({ message_ts: id.optional(), channel_id: id.optional() }).optional(),
  response_url: z.string().max(2000).optional(),
  actions: z.array(z.looseObject({ action_id: id, block_id: id.optional(), value: z.string().max(2000).optional(), type: id.optional() })).min(1).max(25),
});
/** The settings modal submitted (the only view Tacit opens). */
const viewSubmission = z.looseObject({
  type: z.literal('view_submission'),
  user: z.looseObject({ id, username: id.optional(), name: id.optional(), team_id: id.optional() }),
  team: z.looseObject({ id }).nullable().optional(),
  view: z.looseObject({ id, callback_id: z.string().max(255), private_metadata: z.string().max(3000).optional(), state: z.looseObject({ values: z.record(z.string(), z.unknown()) }) }),
});
const envelope = z.union([
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string().max(1000) }),
  z.looseObject({ type: z.literal('app_rate_limited') }),
  z.looseObject({
    type: z.literal('event_callback'),
    team_id: id,
    event_id: id,
    event: z.union([handledEvent, otherEvent]),
    // Bolt reads each entry's fields (is_enterprise_install, team_id): a null entry would make it throw.
    authorizations: z.array(z.looseObject({})).max(100).optional(),
    is_enterprise_install: z.boolean().optional(),
  }),
  blockActions,
  viewSubmission,
]);
const slashCommand = z.looseObject({ command: id, team_id: id, user_id: id, user_name: id.optional(), channel_id: id, text: z.string().max(10_000), response_url: z.string().max(2000) });
const sslCheck = z.looseObject({ ssl_check: z.string(), token: z.string().optional() });

type Checked = { ok: true; contentType: string } | { ok: false; reason: string; teamId?: string };

/** What Slack would send, or why this signed body is not that. */
export function checkSlackBody(raw: Buffer, contentType: string): Checked {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const body = raw.toString('utf8');
  let parsed: unknown;
  try {
    if (type === 'application/json') parsed = JSON.parse(body);
    else if (type === 'application/x-www-form-urlencoded') {
      const form = Object.fromEntries(new URLSearchParams(body));
      parsed = typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
    } else return { ok: false, reason: `unsupported content type ${JSON.stringify(type.slice(0, 100))}: Slack sends application/json or a form` };
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const teamId = teamOf(parsed);
  const schemas = type === 'application/json' ? [envelope] : [envelope, slashCommand, sslCheck];
  for (const schema of schemas) if (schema.safeParse(parsed).success) return { ok: true, contentType: type };
  const issue = envelope.safeParse(parsed).error?.issues[0];
  const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unknown shape';
  return { ok: false, reason: `not a Slack event, interaction or command (${where})`, ...(teamId ? { teamId } : {}) };
}

function teamOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { team_id?: unknown; team?: { id?: unknown } | null };
  const team = typeof b.team_id === 'string' ? b.team_id : typeof b.team?.id === 'string' ? b.team.id : undefined;
  return team && /^T[A-Z0-9]{1,30}$/.test(team) ? team : undefined;
}

/** The guard in front of Bolt on /slack/events; it hands Bolt the checked raw bytes. */
export function eventsGuard(opts: EdgeOptions) {
  const limit = opts.bodyLimitBytes ?? EVENT_BODY_LIMIT_BYTES;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let raw: Buffer | null;
    try {
      raw = await readCapped(req, limit);
    } catch (err) {
      opts.log.debug({ err }, 'slack request body could not be read');
      res.status(400).json({ error: 'the request body could not be read' });
      return;
    }
    if (!raw) {
      res.status(413).set('connection', 'close').json({ error: `body over ${limit} bytes; Slack sends far less` });
      return;
    }
    const verified = verifySlackRequest(raw, { signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') }, opts.signingSecret, new Date((opts.now ?? Date.now)()));
    if (!verified.ok) {
      res.status(401).json({ error: `not signed by Slack: ${verified.reason}` });
      return;
    }
    const checked = checkSlackBody(raw, header(req, 'content-type') ?? '');
    if (!checked.ok) {
      await quarantined(opts, req, res, raw, checked.reason, checked.teamId);
      return;
    }
    // Bolt compares the content type exactly and reads `rawBody` when it is there.
    req.headers['content-type'] = checked.contentType;
    Object.assign(req, { rawBody: raw });
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      opts.log.warn({ path: req.path, retryNum: header(req, 'x-slack-retry-num') }, 'slack event not stored within the ack deadline; answered 503 so Slack retries');
      res.status(503).set('retry-after', '1').json({ error: `not stored within ${opts.ackDeadlineMs ?? ACK_DEADLINE_MS} ms; Slack will retry` });
    }, opts.ackDeadlineMs ?? ACK_DEADLINE_MS);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

/**
 * Bolt's error path with processBeforeResponse: a listener (or authorize) that could not store
 * answers 503 so Slack retries; a team Tacit has no installation for (authorize refused it) is
 * answered 200 (retrying cannot help), and so is an event the database refuses as data
 * (quarantined with the reason).
 * Returns true when the request is answered.
 */
export function eventErrorHandler(opts: { log: Logger; db?: Db }) {
  const { log } = opts;
  return async ({ error, request, response }: { error: Error; request: IncomingMessage; response: ServerResponse }): Promise<boolean> => {
    if (response.headersSent) return true; // the deadline answered first
    const original = (error as { original?: unknown }).original;
    if (isAuthorizationError(error) && original instanceof ChatRejectedError) {
      log.warn({ err: original ?? error }, 'slack event for a team without an installation ignored');
      respond(response, 200, { ok: false, error: 'this workspace has no Tacit installation' });
      return true;
    }
    const raw = (request as { rawBody?: unknown }).rawBody;
    const refused = refusedAsData(original ?? error);
    if (refused && Buffer.isBuffer(raw)) {
      const stored = await keep(opts, raw, `the database refused the event: ${refused}`, request.headers['content-type'], teamOf(safeJson(raw)));
      if (stored) {
        respond(response, 200, { ok: false, quarantined: refused });
        return true;
      }
    }
    log.warn({ err: original ?? error, retryNum: request.headers['x-slack-retry-num'] }, 'slack event not stored; answered 503 so Slack retries');
    respond(response, 503, { error: 'could not store the event; Slack will retry' }, { 'retry-after': '1' });
    return true;
  };
}

/** Socket Mode's error path: not acknowledged means Slack redelivers; a team without an installation is acknowledged. */
export function socketErrorHandler(log: Logger) {
  return async ({ error, event }: { error: Error; event: { retryNum?: number } }): Promise<boolean> => {
    const original = (error as { original?: unknown }).original;
    if (isAuthorizationError(error) && original instanceof ChatRejectedError) return true;
    log.warn({ err: original ?? error, retryNum: event.retryNum }, 'slack envelope not stored; not acknowledged so Slack redelivers it');
    return false;
  };
}

/** A PostgreSQL data exception (22…) or integrity violation (23…) anywhere in the cause chain: retrying cannot help. */
function refusedAsData(err: unknown, depth = 0): string | null {
  if (!(err instanceof Error) || depth > 5) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return `${err.message} (SQLSTATE ${code})`;
  return refusedAsData(err.cause, depth + 1);
}

function safeJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isAuthorizationError(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'slack_bolt_authorization_error';
}

function respond(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function quarantined(opts: EdgeOptions, req: Request, res: Response, raw: Buffer, why: string, teamId?: string): Promise<void> {
  if (!(await keep(opts, raw, why, header(req, 'content-type'), teamId))) {
    res.status(503).set('retry-after', '5').json({ error: 'cannot keep this body right now; retry later' });
    return;
  }
  // 400, not 2xx (issue 16): a signed body that is not a Slack payload is a client error, said plainly.
  res.status(400).json({ ok: false, error: `malformed Slack request: ${why.slice(0, 2000)}`, quarantined: true });
}

/** Keeps a signed body Tacit cannot use (raw bytes and reason); false when the database cannot take it now. */
async function keep(opts: { log: Logger; db?: Db }, raw: Buffer, why: string, contentType: string | string[] | undefined, teamId?: string): Promise<boolean> {
  const reason = why.replace(/\0/g, '').slice(0, 2000);
  opts.log.warn({ reason, workspaceId: teamId ? workspaceId(teamId) : undefined }, 'signed Slack body quarantined');
  if (!opts.db) return true;
  try {
    await opts.db.insert(quarantine).values({
      workspaceId: teamId ? workspaceId(teamId) : 'slack:unknown', sourceId: 'slack:events', kind: 'body', reason,
      contentType: String(contentType ?? '').slice(0, 200) || null, body: raw,
    });
    return true;
  } catch (err) {
    opts.log.warn({ err }, 'cannot quarantine a Slack body; answered 503 so Slack retries');
    return false;
  }
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body, or null when it is over the cap (declared or actual). */
async function readCapped(req: Request, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}
