// PagerDuty REST API v2: acknowledge or resolve an incident. Idempotent on PagerDuty's side (an
// incident already in the wanted state stays there), and verified by reading it back.
import { z } from 'zod';
import type { ActionDefinition, ExecuteContext } from '../types.js';
import { callJson } from './http.js';

const params = z.object({ pagerdutyIncidentId: z.string().regex(/^[A-Z0-9]{5,20}$/, 'expected a PagerDuty incident id such as Q1ABCDEF') });
type Params = z.infer<typeof params>;

function request(ctx: ExecuteContext) {
  return {
    base: String(ctx.integration.settings.apiUrl).replace(/\/+$/, ''),
    headers: {
      authorization: `Token token=${String(ctx.integration.secrets.token)}`,
      accept: 'application/vnd.pagerduty+json;version=2',
      from: String(ctx.integration.settings.fromEmail),
    },
  };
}

function transition(status: 'acknowledged' | 'resolved'): ActionDefinition<Params> {
  const verb = status === 'acknowledged' ? 'acknowledge' : 'resolve';
  return {
    name: `pagerduty.${verb}`,
    description: `${verb[0]?.toUpperCase()}${verb.slice(1)} a PagerDuty incident by its id.`,
    risk: 'write',
    integration: 'pagerduty',
    // Setting a status PagerDuty already has changes nothing: safe to send again.
    idempotent: true,
    params,
    async execute(ctx, p) {
      const { base, headers } = request(ctx);
      await callJson(`${base}/incidents/${encodeURIComponent(p.pagerdutyIncidentId)}`, {
        method: 'PUT', headers, signal: ctx.signal, body: { incident: { type: 'incident_reference', status } },
      });
      return { summary: `PagerDuty incident ${p.pagerdutyIncidentId} ${status}`, data: {} };
    },
    async verify(ctx, p) {
      const { base, headers } = request(ctx);
      const res = await callJson(`${base}/incidents/${encodeURIComponent(p.pagerdutyIncidentId)}`, { method: 'GET', headers, signal: ctx.signal });
      const now = (res.body as { incident?: { status?: string } } | null)?.incident?.status ?? 'unknown';
      const ok = now === status || (status === 'acknowledged' && now === 'resolved');
      return ok ? { ok: true, detail: `PagerDuty incident ${p.pagerdutyIncidentId} is ${now}` } : { ok: false, detail: `PagerDuty incident ${p.pagerdutyIncidentId} is ${now}, not ${status}` };
    },
  };
}

export const pagerdutyActions = [transition('acknowledged'), transition('resolved')];
