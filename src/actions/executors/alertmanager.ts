// Alertmanager v2 silences: create one for an incident's matchers for a duration; expire it.
// The silence's comment carries the approval id, so a retry can find an earlier success.
import { z } from 'zod';
import type { ActionDefinition, ExecuteContext, ExecuteResult } from '../types.js';
import { PermanentActionError } from '../types.js';
import { callJson } from './http.js';

const matcher = z.object({
  name: z.string().min(1).max(200),
  value: z.string().max(1_000),
  isRegex: z.boolean().default(false),
  isEqual: z.boolean().default(true),
});

const silenceParams = z.object({
  matchers: z.array(matcher).min(1).max(20),
  durationMinutes: z.number().int().min(1).max(7 * 24 * 60),
  comment: z.string().max(500).default(''),
});
type SilenceParams = z.infer<typeof silenceParams>;

const expireParams = z.object({ silenceId: z.string().regex(/^[0-9a-f-]{8,64}$/i, 'expected an Alertmanager silence id') });

function base(ctx: ExecuteContext): { url: string; headers: Record<string, string> } {
  const url = String(ctx.integration.settings.url).replace(/\/+$/, '');
  const auth = ctx.integration.secrets.authorization;
  return { url, headers: typeof auth === 'string' ? { authorization: auth } : {} };
}

const marker = (approvalId: string) => `[tacit approval ${approvalId}]`;

interface Silence {
  id: string;
  status?: { state?: string };
  comment?: string;
  matchers?: { name: string; value: string }[];
  endsAt?: string;
}

async function getSilence(ctx: ExecuteContext, id: string): Promise<Silence> {
  const { url, headers } = base(ctx);
  const res = await callJson(`${url}/api/v2/silence/${encodeURIComponent(id)}`, { method: 'GET', headers, signal: ctx.signal });
  return res.body as Silence;
}

const silence: ActionDefinition<SilenceParams> = {
  name: 'alertmanager.silence',
  description: "Silence an alert in Alertmanager for a while: matchers (usually the alert's alertname and its grouping labels) and a duration in minutes.",
  risk: 'write',
  integration: 'alertmanager',
  params: silenceParams,
  async execute(ctx, params) {
    const { url, headers } = base(ctx);
    const startsAt = new Date();
    const endsAt = new Date(startsAt.getTime() + params.durationMinutes * 60_000);
    const res = await callJson(`${url}/api/v2/silences`, {
      method: 'POST',
      headers,
      signal: ctx.signal,
      body: {
        matchers: params.matchers,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        createdBy: 'tacit',
        comment: `${params.comment || 'Silenced through Tacit'} ${marker(ctx.approvalId)}`.trim(),
      },
    });
    const id = (res.body as { silenceID?: string } | null)?.silenceID;
    if (!id) throw new PermanentActionError('Alertmanager did not return a silence id');
    return { summary: `silence ${id} until ${endsAt.toISOString()}`, data: { silenceId: id, endsAt: endsAt.toISOString() } };
  },
  async verify(ctx, params, result) {
    const s = await getSilence(ctx, String(result.data.silenceId));
    const state = s.status?.state ?? 'unknown';
    const want = new Set(params.matchers.map((m) => `${m.name}=${m.value}`));
    const have = new Set((s.matchers ?? []).map((m) => `${m.name}=${m.value}`));
    const same = want.size === have.size && [...want].every((m) => have.has(m));
    if (state !== 'active') return { ok: false, detail: `silence ${s.id} is ${state}, not active` };
    if (!same) return { ok: false, detail: `silence ${s.id} has different matchers than approved` };
    return { ok: true, detail: `silence ${s.id} is active until ${s.endsAt ?? 'its end'}` };
  },
  async findDone(ctx) {
    const { url, headers } = base(ctx);
    const res = await callJson(`${url}/api/v2/silences`, { method: 'GET', headers, signal: ctx.signal });
    const found = ((res.body as Silence[] | null) ?? []).find((s) => s.comment?.includes(marker(ctx.approvalId)) && s.status?.state !== 'expired');
    return found ? ({ summary: `silence ${found.id} (created by an earlier attempt)`, data: { silenceId: found.id, endsAt: found.endsAt } } satisfies ExecuteResult) : null;
  },
};

const expire: ActionDefinition<z.infer<typeof expireParams>> = {
  name: 'alertmanager.expire_silence',
  description: 'Expire (end) an Alertmanager silence by its id.',
  risk: 'write',
  integration: 'alertmanager',
  // Expiring an expired silence is a no-op: safe to send again.
  idempotent: true,
  params: expireParams,
  async execute(ctx, params) {
    const { url, headers } = base(ctx);
    await callJson(`${url}/api/v2/silence/${encodeURIComponent(params.silenceId)}`, { method: 'DELETE', headers, signal: ctx.signal });
    return { summary: `silence ${params.silenceId} expired`, data: { silenceId: params.silenceId } };
  },
  async verify(ctx, params) {
    const s = await getSilence(ctx, params.silenceId);
    const state = s.status?.state ?? 'unknown';
    return state === 'expired' ? { ok: true, detail: `silence ${s.id} is expired` } : { ok: false, detail: `silence ${s.id} is still ${state}` };
  },
};

export const alertmanagerActions = [silence, expire];
