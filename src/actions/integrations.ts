// Integrations: what a workspace's actions talk to. Settings are validated per kind; secrets (tokens,
// header values) are stored encrypted and only decrypted to make a call.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { integrations } from '../db/schema.js';
import type { SecretBox } from '../db/secret-box.js';

export type IntegrationKind = 'github' | 'alertmanager' | 'pagerduty' | 'runbook' | 'prometheus' | 'loki' | 'sentry';

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const runbookSettings = z.object({
  description: z.string().min(1).max(500),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  url: httpUrl,
  /** Parameter names the model may fill in; the body template refers to them as {{name}}. */
  params: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,30}$/)).max(10).default([]),
  bodyTemplate: z.string().max(10_000).optional(),
  risk: z.enum(['write', 'dangerous']).default('write'),
  /** Running it twice does no more than running it once: Tacit may retry it after an answer (5xx) or a crash. */
  idempotent: z.boolean().default(false),
}).refine((s) => !(s.method === 'GET' && s.bodyTemplate !== undefined), {
  // fetch refuses a GET with a body, so such a runbook could never run.
  path: ['bodyTemplate'],
  message: 'a GET runbook cannot have a body template; use POST, PUT, PATCH or DELETE',
}).refine((s) => s.bodyTemplate === undefined || placeholdersInsideStrings(s.bodyTemplate), {
  // Parameters are JSON-escaped into strings; a placeholder outside quotes would let a value become JSON.
  path: ['bodyTemplate'],
  message: 'the body template must be JSON with every {{placeholder}} inside a quoted string',
}).refine((s) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(s.url), {
  path: ['url'],
  message: 'put credentials in the secret headers, not in the URL',
});

/** True when the template is JSON whichever text its placeholders take (so each sits inside a string). */
function placeholdersInsideStrings(template: string): boolean {
  const fill = (v: string) => template.replace(/\{\{\s*[a-z][a-z0-9_]*\s*\}\}/g, v);
  try {
    JSON.parse(fill('x'));
    JSON.parse(fill('1'));
    return true;
  } catch {
    return false;
  }
}

/** Header names and values fetch accepts: a bad one is refused when configured, not retried at every call. */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid HTTP header name');
const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'header values cannot contain line breaks');

export const integrationSchemas = {
  github: {
    settings: z.object({ apiUrl: httpUrl.default('https://api.github.com') }),
    secrets: z.object({ token: z.string().min(1) }),
  },
  alertmanager: {
    settings: z.object({ url: httpUrl }),
    secrets: z.object({ authorization: z.string().min(1).optional() }).default({}),
  },
  pagerduty: {
    settings: z.object({ apiUrl: httpUrl.default('https://api.pagerduty.com'), fromEmail: z.email() }),
    secrets: z.object({ token: z.string().min(1) }),
  },
  runbook: {
    settings: runbookSettings,
    /** Header values (e.g. Authorization), kept secret. */
    secrets: z.object({ headers: z.record(headerName, headerValue).default({}) }).default({ headers: {} }),
  },
  // Read-only evidence sources for investigations (src/investigate): where to query, and the header that authorises it.
  /** Sentry's web API, for resolving an issue when its incident is resolved through Tacit (src/oncall). */
  sentry: {
    settings: z.object({ apiUrl: httpUrl.default('https://sentry.io') }),
    /** An auth token with the event:write scope. */
    secrets: z.object({ token: z.string().min(1).regex(/^[^\r\n\0]*$/) }),
  },
  prometheus: {
    settings: z.object({ url: httpUrl }),
    secrets: z.object({ authorization: z.string().min(1).regex(/^[^\r\n\0]*$/).optional() }).default({}),
  },
  loki: {
    settings: z.object({
      url: httpUrl,
      /** LogQL with {{label}} placeholders filled from the alert's labels, e.g. `{app="{{service}}"} |~ "(?i)error"`. */
      query: z.string().min(1).max(2_000).default('{job="{{job}}"} |~ "(?i)(error|exception|fatal|panic)"'),
      /** Sent as X-Scope-OrgID (multi-tenant Loki). */
      tenant: z.string().min(1).max(200).optional(),
    }),
    secrets: z.object({ authorization: z.string().min(1).regex(/^[^\r\n\0]*$/).optional() }).default({}),
  },
} as const;

export interface Integration {
  id: string;
  workspaceId: string;
  kind: IntegrationKind;
  name: string;
  settings: Record<string, unknown>;
  secrets: Record<string, unknown>;
}

export const putIntegrationSchema = z.object({
  settings: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.unknown()).default({}),
});

export class IntegrationError extends Error {
  override readonly name = 'IntegrationError';
}

/** Creates or replaces one integration after validating it for its kind. */
export async function putIntegration(
  db: Db, box: SecretBox, workspaceId: string, kind: IntegrationKind, name: string, body: z.infer<typeof putIntegrationSchema>,
): Promise<{ id: string }> {
  if (kind !== 'runbook' && name !== 'default') throw new IntegrationError(`${kind} has one integration per workspace, named "default"`);
  if (kind === 'runbook' && !/^[a-z][a-z0-9-]{0,40}$/.test(name)) throw new IntegrationError('runbook names are lowercase letters, digits and dashes');
  const schema = integrationSchemas[kind];
  const settings = schema.settings.safeParse(body.settings);
  if (!settings.success) throw new IntegrationError(`settings: ${settings.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ')}`);
  const secrets = schema.secrets.safeParse(body.secrets);
  if (!secrets.success) throw new IntegrationError(`secrets: ${secrets.error.issues.map((i) => `${i.path.join('.') || 'secrets'}: ${i.message}`).join('; ')}`);
  const values = {
    settings: settings.data as Record<string, unknown>,
    secretsEncrypted: box.seal(JSON.stringify(secrets.data)),
    updatedAt: new Date(),
  };
  const [row] = await db
    .insert(integrations)
    .values({ id: `int_${randomUUID()}`, workspaceId, kind, name, ...values })
    .onConflictDoUpdate({ target: [integrations.workspaceId, integrations.kind, integrations.name], set: values })
    .returning({ id: integrations.id });
  if (!row) throw new Error('integration upsert returned nothing');
  return row;
}

export async function deleteIntegration(db: Db, workspaceId: string, kind: IntegrationKind, name: string): Promise<boolean> {
  const rows = await db
    .delete(integrations)
    .where(and(eq(integrations.workspaceId, workspaceId), eq(integrations.kind, kind), eq(integrations.name, name)))
    .returning({ id: integrations.id });
  return rows.length > 0;
}

/** A workspace's integrations with secrets decrypted; one that no longer validates is left out. */
export async function loadIntegrations(db: Db, box: SecretBox, workspaceId: string): Promise<Integration[]> {
  const rows = await db.select().from(integrations).where(eq(integrations.workspaceId, workspaceId));
  return rows.flatMap((r): Integration[] => {
    const schema = integrationSchemas[r.kind];
    const settings = schema.settings.safeParse(r.settings);
    let secrets: unknown = {};
    try {
      secrets = r.secretsEncrypted ? JSON.parse(box.open(r.secretsEncrypted)) : {};
    } catch {
      return [];
    }
    const parsedSecrets = schema.secrets.safeParse(secrets);
    if (!settings.success || !parsedSecrets.success) return [];
    return [{ id: r.id, workspaceId: r.workspaceId, kind: r.kind, name: r.name, settings: settings.data as Record<string, unknown>, secrets: parsedSecrets.data as Record<string, unknown> }];
  });
}

/** Workspace integrations as the admin API lists them: never a secret, only which ones are set. */
export async function listIntegrations(db: Db, workspaceId: string) {
  const rows = await db.select().from(integrations).where(eq(integrations.workspaceId, workspaceId));
  return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, settings: r.settings, hasSecrets: Boolean(r.secretsEncrypted), updatedAt: r.updatedAt }));
}
