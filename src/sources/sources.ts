// Sources: where events come from. Creating one generates its credentials, which are returned once
// (with set-up instructions for the sender) and stored only hashed or encrypted.
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { channels, sources } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';
import { generateSecret, generateToken, hashToken } from './auth.js';
import { IntakeError } from './errors.js';
import { sourceKinds, type SourceKind } from './formats.js';

export const createSourceSchema = z.object({
  workspaceId: z.string().min(1),
  kind: z.enum(sourceKinds as [SourceKind, ...SourceKind[]]),
  channelId: z.string().min(1),
  /** The sender's own signing secret (Sentry's client secret, PagerDuty's subscription secret). */
  secret: z.string().min(8).optional(),
  settings: z.record(z.string(), z.unknown()).default({}),
  /**
   * GitHub only: access to the hook's delivery log, so deliveries Tacit missed are redelivered.
   * The token needs admin:repo_hook (or admin:org_hook) read and write.
   */
  hookAccess: z
    .object({
      repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name').optional(),
      org: z.string().min(1).optional(),
      hookId: z.number().int().positive(),
      token: z.string().min(8),
    })
    .refine((h) => Boolean(h.repo) !== Boolean(h.org), 'give exactly one of repo or org')
    .optional(),
});
export type CreateSource = z.input<typeof createSourceSchema>;

export interface CreatedSource {
  id: string;
  kind: SourceKind;
  url: string;
  token?: string;
  secret?: string;
  /** How to point the sender at Tacit; contains the credentials, so it is shown privately once. */
  instructions: string;
}

export class SourceSetupError extends IntakeError {
  constructor(message: string) {
    super('invalid_source', message);
  }
}

/** No such source (in this workspace). */
export class SourceNotFoundError extends IntakeError {
  constructor(sourceId: string) {
    super('unknown_source', `no source ${sourceId} here (\`/tacit sources\` lists them)`);
  }
}

export async function createSource(db: Db, box: SecretBox, input: CreateSource, publicUrl: string, id?: string): Promise<CreatedSource> {
  const s = createSourceSchema.parse(input);
  const [channel] = await db
    .select({ id: channels.id })
    .from(channels)
    .where(and(eq(channels.id, s.channelId), eq(channels.workspaceId, s.workspaceId)));
  if (!channel) throw new SourceSetupError(`channel ${s.channelId} is not a channel of workspace ${s.workspaceId}`);
  if (s.kind === 'sentry' && !s.secret) {
    throw new SourceSetupError("a Sentry source needs the integration's Client Secret (Sentry signs with it): pass it as `secret`");
  }
  const signed = s.kind === 'github' || s.kind === 'sentry' || (s.kind === 'pagerduty' && s.secret) || (s.kind === 'grafana' && s.settings.signature === true);
  const secret = signed ? (s.secret ?? generateSecret()) : undefined;
  // Senders that can send an Authorization header get a token (PagerDuty as a custom header).
  const token = s.kind === 'github' || s.kind === 'sentry' ? undefined : generateToken();
  if (s.hookAccess && s.kind !== 'github') throw new SourceSetupError('hookAccess is only for GitHub sources');
  const sourceId = id ?? `src_${randomBytes(9).toString('base64url')}`;
  const settings = s.hookAccess
    ? { ...s.settings, hook: { repo: s.hookAccess.repo, org: s.hookAccess.org, hookId: s.hookAccess.hookId, tokenEncrypted: box.seal(s.hookAccess.token) } }
    : s.settings;
  await db.insert(sources).values({
    id: sourceId,
    workspaceId: s.workspaceId,
    kind: s.kind,
    channelId: s.channelId,
    tokenHash: token ? hashToken(token) : null,
    secretEncrypted: secret ? box.seal(secret) : null,
    settings,
  });
  const url = sourceUrl(publicUrl, s.kind, sourceId);
  const shownSecret = secret && !s.secret ? secret : undefined; // never echo a secret the caller gave us
  return { id: sourceId, kind: s.kind, url, token, secret: shownSecret, instructions: instructions(s.kind, url, token, shownSecret) };
}

/** Issues a new token for an existing source (the playground's own, at start-up); the old one stops working. */
export async function rotateSourceToken(db: Db, sourceId: string): Promise<string> {
  const token = generateToken();
  await db.update(sources).set({ tokenHash: hashToken(token) }).where(eq(sources.id, sourceId));
  return token;
}

/** A source as `/tacit sources` and `GET /api/sources` show it: never its credentials. */
export interface SourceSummary {
  id: string;
  workspaceId: string;
  kind: SourceKind;
  channelId: string;
  channelName: string | null;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

export async function listSources(db: Db, workspaceId?: string): Promise<SourceSummary[]> {
  return db
    .select({
      id: sources.id, workspaceId: sources.workspaceId, kind: sources.kind, channelId: sources.channelId, channelName: channels.name,
      createdAt: sources.createdAt, rotatedAt: sources.rotatedAt, revokedAt: sources.revokedAt,
    })
    .from(sources)
    .leftJoin(channels, eq(channels.id, sources.channelId))
    .where(workspaceId ? eq(sources.workspaceId, workspaceId) : undefined)
    .orderBy(asc(sources.createdAt), asc(sources.id));
}

/** Which source, and (from chat) in which workspace it must be: a command never reaches another workspace's. */
export interface SourceRef {
  sourceId: string;
  workspaceId?: string;
}

/** Told after a change is committed, so no process keeps accepting the old credentials (SourceCache.invalidate). */
export type InvalidateSource = (sourceId: string) => Promise<void>;

async function activeSource(db: Db, ref: SourceRef) {
  const [row] = await db
    .select()
    .from(sources)
    .where(ref.workspaceId ? and(eq(sources.id, ref.sourceId), eq(sources.workspaceId, ref.workspaceId)) : eq(sources.id, ref.sourceId));
  if (!row) throw new SourceNotFoundError(ref.sourceId);
  if (row.revokedAt) throw new SourceSetupError(`source ${ref.sourceId} was revoked; connect a new one instead`);
  return row;
}

/**
 * New credentials for a source, returned once (with the sender's set-up); the old ones stop working
 * as soon as this returns, in every process. A secret the sender owns (Sentry's client secret, a
 * PagerDuty subscription secret) cannot be replaced from here.
 */
export async function rotateSource(db: Db, box: SecretBox, ref: SourceRef, publicUrl: string, invalidate: InvalidateSource): Promise<CreatedSource> {
  const row = await activeSource(db, ref);
  if (row.kind === 'sentry' || (row.kind === 'pagerduty' && row.secretEncrypted)) {
    throw new SourceSetupError(`the ${row.kind} source ${row.id} is verified with the sender's own secret: change it there, then connect a new source and revoke this one`);
  }
  const token = row.tokenHash ? generateToken() : undefined;
  const secret = row.secretEncrypted ? generateSecret() : undefined;
  const now = new Date();
  await db
    .update(sources)
    .set({ ...(token ? { tokenHash: hashToken(token) } : {}), ...(secret ? { secretEncrypted: box.seal(secret) } : {}), rotatedAt: now })
    .where(and(eq(sources.id, row.id), isNull(sources.revokedAt)));
  await invalidate(row.id);
  const url = sourceUrl(publicUrl, row.kind, row.id);
  return { id: row.id, kind: row.kind, url, token, secret, instructions: instructions(row.kind, url, token, secret) };
}

/**
 * Revokes a source: its credentials are dropped and refused (401) from now on, in every process;
 * its events and history stay. Revoking twice is refused (the first revocation stands).
 */
export async function revokeSource(db: Db, ref: SourceRef, invalidate: InvalidateSource): Promise<SourceSummary> {
  const row = await activeSource(db, ref);
  const [revoked] = await db
    .update(sources)
    .set({ revokedAt: new Date(), tokenHash: null, secretEncrypted: null })
    .where(and(eq(sources.id, row.id), isNull(sources.revokedAt)))
    .returning({ id: sources.id });
  if (!revoked) throw new SourceSetupError(`source ${row.id} was revoked; connect a new one instead`);
  await invalidate(row.id);
  const [summary] = (await listSources(db, row.workspaceId)).filter((s) => s.id === row.id);
  if (!summary) throw new SourceNotFoundError(row.id);
  return summary;
}

function sourceUrl(publicUrl: string, kind: SourceKind, id: string): string {
  return `${publicUrl.replace(/\/$/, '')}/hooks/${kind === 'github' ? 'github' : 'alerts'}/${id}`;
}

function instructions(kind: SourceKind, url: string, token?: string, secret?: string): string {
  const auth = token ? `Authorization: Bearer ${token}` : '';
  switch (kind) {
    case 'alertmanager':
      return `Alertmanager receiver: webhook_configs: [{ url: ${url}, http_config: { authorization: { type: Bearer, credentials: ${token} } } }]`;
    case 'grafana':
      return `Grafana contact point (Webhook): URL ${url}, Authorization header scheme Bearer, credentials ${token}` +
        (secret ? `; HMAC signature secret ${secret} (header X-Grafana-Alerting-Signature)` : '');
    case 'pagerduty':
      return `PagerDuty webhook subscription: delivery URL ${url}, custom header ${auth}` +
        ' (or give Tacit the subscription signing secret to verify X-PagerDuty-Signature instead)';
    case 'sentry':
      return `Sentry internal integration: webhook URL ${url}; enable Issue, Error and Alert rule action webhooks. Signatures are checked with the client secret you gave.`;
    case 'generic':
      return `POST JSON to ${url} with header ${auth}; set a field mapping on the source (fingerprint, status, title …).`;
    case 'github':
      return `GitHub webhook: payload URL ${url}, content type application/json, secret ${secret}; events: push, pull requests, workflow runs, check runs, deployment statuses, issues, releases.`;
    default: {
      const never: never = kind;
      throw new Error(`unhandled kind ${String(never)}`);
    }
  }
}
