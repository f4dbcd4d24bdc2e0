// Sources: where events come from. Creating one generates its credentials, which are returned once
// (with set-up instructions for the sender) and stored only hashed or encrypted.
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
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
  const url = `${publicUrl.replace(/\/$/, '')}/hooks/${s.kind === 'github' ? 'github' : 'alerts'}/${sourceId}`;
  const shownSecret = secret && !s.secret ? secret : undefined; // never echo a secret the caller gave us
  return { id: sourceId, kind: s.kind, url, token, secret: shownSecret, instructions: instructions(s.kind, url, token, shownSecret) };
}

/** Issues a new token for an existing source; the old one stops working at once. */
export async function rotateSourceToken(db: Db, sourceId: string): Promise<string> {
  const token = generateToken();
  await db.update(sources).set({ tokenHash: hashToken(token) }).where(eq(sources.id, sourceId));
  return token;
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
