// Who PagerDuty says is on call: `GET /oncalls` for the configured escalation policies or schedules
// (REST API v2, `Authorization: Token token=…`), with each user's email (from `include[]=users`, or
// `GET /users/{id}` when the answer lacks it) so people can be matched to chat people.
import { z } from 'zod';
import { OncallError, PagerdutyRateLimitedError, PagerdutyRejectedError, PagerdutyUnreachableError } from './errors.js';

const reference = z.looseObject({ id: z.string(), summary: z.string().optional() });

const oncallsSchema = z.object({
  oncalls: z.array(z.object({
    user: z.object({ id: z.string(), summary: z.string().optional(), name: z.string().optional(), email: z.string().optional() }),
    escalation_level: z.number().int(),
    schedule: reference.nullable().optional(),
    escalation_policy: reference.nullable().optional(),
    start: z.string().nullable().optional(),
    end: z.string().nullable().optional(),
  })),
});

const userSchema = z.object({ user: z.object({ id: z.string(), name: z.string().optional(), summary: z.string().optional(), email: z.string() }) });

export interface PagerdutyTarget {
  apiUrl: string;
  token: string;
  escalationPolicyIds: readonly string[];
  scheduleIds: readonly string[];
}

export interface PagerdutyOnCall {
  level: number;
  userId: string;
  name: string;
  email: string | null;
  /** When this on-call period ends, when PagerDuty says (null: open-ended). */
  end: string | null;
}

async function get(url: URL, token: string, signal: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Token token=${token}`, accept: 'application/vnd.pagerduty+json;version=2' }, signal });
  } catch (err) {
    throw new PagerdutyUnreachableError(`GET ${url.pathname} at ${url.host}: ${(err as Error).message}`, err);
  }
  if (res.status === 429) {
    const after = Number(res.headers.get('retry-after'));
    throw new PagerdutyRateLimitedError(Number.isFinite(after) && after > 0 ? after * 1000 : 30_000);
  }
  const text = await res.text();
  if (res.status >= 400 && res.status < 500) throw new PagerdutyRejectedError(`GET ${url.pathname} answered ${res.status}: ${text.slice(0, 200)} (check the PagerDuty token and the escalation policy / schedule ids)`);
  if (res.status >= 500) throw new PagerdutyUnreachableError(`GET ${url.pathname} answered ${res.status}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new OncallError('pagerduty_bad_answer', `GET ${url.pathname} did not answer JSON`, { cause: err });
  }
}

/** The on-call entries in force at `at`, one per level and person, lowest level first. */
export async function fetchOnCalls(target: PagerdutyTarget, at: Date, signal: AbortSignal): Promise<PagerdutyOnCall[]> {
  const base = target.apiUrl.replace(/\/+$/, '');
  const url = new URL(`${base}/oncalls`);
  for (const id of target.escalationPolicyIds) url.searchParams.append('escalation_policy_ids[]', id);
  for (const id of target.scheduleIds) url.searchParams.append('schedule_ids[]', id);
  url.searchParams.append('include[]', 'users');
  url.searchParams.set('since', at.toISOString());
  url.searchParams.set('until', new Date(at.getTime() + 60_000).toISOString());
  url.searchParams.set('earliest', 'true');
  url.searchParams.set('limit', '100');
  const parsed = oncallsSchema.safeParse(await get(url, target.token, signal));
  if (!parsed.success) throw new OncallError('pagerduty_bad_answer', `GET /oncalls answered an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`);
  const seen = new Set<string>();
  const out: PagerdutyOnCall[] = [];
  for (const o of [...parsed.data.oncalls].sort((a, b) => a.escalation_level - b.escalation_level)) {
    const key = `${o.escalation_level}:${o.user.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let email = o.user.email ?? null;
    let name = o.user.name ?? o.user.summary ?? o.user.id;
    if (!email) {
      const user = userSchema.safeParse(await get(new URL(`${base}/users/${encodeURIComponent(o.user.id)}`), target.token, signal));
      if (user.success) {
        email = user.data.user.email;
        name = user.data.user.name ?? user.data.user.summary ?? name;
      }
    }
    out.push({ level: o.escalation_level, userId: o.user.id, name, email: email?.toLowerCase() ?? null, end: o.end ?? null });
  }
  return out;
}
