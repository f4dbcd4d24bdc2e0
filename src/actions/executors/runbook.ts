// Named HTTP runbooks from configuration: method, URL and headers are fixed by the people who
// configured them; the model may only fill the declared parameters into the body template. The
// URL is never built from parameters, so no model can invent a URL.
import { z } from 'zod';
import type { Integration } from '../integrations.js';
import type { ActionDefinition } from '../types.js';
import { callJson } from './http.js';

/** `{{name}}` in the template becomes the parameter, JSON-escaped (without its quotes). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g, (_m, name: string) => JSON.stringify(values[name] ?? '').slice(1, -1));
}

export function runbookAction(integration: Integration): ActionDefinition<Record<string, string>> {
  const s = integration.settings as { description: string; method: string; url: string; params: string[]; bodyTemplate?: string; risk: 'write' | 'dangerous'; idempotent: boolean };
  const headers = ((integration.secrets as { headers?: Record<string, string> }).headers ?? {});
  const shape = Object.fromEntries(s.params.map((p) => [p, z.string().max(500)]));
  return {
    name: `runbook.${integration.name}`,
    description: `Runbook "${integration.name}": ${s.description}`,
    risk: s.risk,
    integration: 'runbook',
    params: z.object(shape).strict() as unknown as z.ZodType<Record<string, string>>,
    // Tacit cannot look at what a runbook did: after any answer it is run again only when its owners
    // declared that safe. The key lets the runbook itself drop a repeat of the same approval.
    idempotent: s.idempotent === true,
    async execute(ctx, p) {
      const raw = s.bodyTemplate !== undefined ? fillTemplate(s.bodyTemplate, p) : undefined;
      const res = await callJson(s.url, {
        method: s.method,
        headers: { ...headers, ...(raw !== undefined ? { 'content-type': 'application/json' } : {}), 'idempotency-key': ctx.approvalId, 'x-tacit-approval': ctx.approvalId },
        raw,
        signal: ctx.signal,
      });
      return { summary: `runbook ${integration.name} answered ${res.status}`, data: { status: res.status } };
    },
    async verify(_ctx, _p, result) {
      // A runbook's own answer is all Tacit can see; 2xx is success, and it says so.
      const status = Number(result.data.status);
      return status >= 200 && status < 300
        ? { ok: true, detail: `runbook answered ${status} (its own success; Tacit cannot look further)` }
        : { ok: false, detail: `runbook answered ${status}` };
    },
  };
}
