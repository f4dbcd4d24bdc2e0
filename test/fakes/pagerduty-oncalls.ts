// The on-call part of the local PagerDuty REST API v2: `GET /oncalls` (filtered by
// `escalation_policy_ids[]`, `schedule_ids[]`, `user_ids[]` and the `since`/`until` window, with
// `include[]=users` expanding user references) and `GET /users/{id}`. Answers as PagerDuty does:
// references without email unless users are included, 400 for a bad parameter, 404 for a stranger.
export interface FakeOnCallUser {
  id: string;
  name: string;
  email: string;
}

export interface FakeOnCallEntry {
  userId: string;
  level: number;
  escalationPolicyId: string;
  scheduleId?: string;
  /** ISO; null means open-ended (a direct assignment in the escalation policy). */
  start: string | null;
  end: string | null;
}

export interface FakeOnCalls {
  users: Map<string, FakeOnCallUser>;
  entries: FakeOnCallEntry[];
}

type Send = (status: number, data: unknown) => void;

const includes = new Set(['users', 'schedules', 'escalation_policies']);
const invalid = (errors: string[]) => ({ error: { message: 'Invalid Input Provided', code: 2001, errors } });
const ref = (type: string, id: string, summary: string) => ({ id, type: `${type}_reference`, summary, self: `https://api.pagerduty.com/${type}s/${id}`, html_url: `https://example.pagerduty.com/${type}s/${id}` });

function fullUser(u: FakeOnCallUser) {
  return { id: u.id, type: 'user', name: u.name, summary: u.name, email: u.email, time_zone: 'Etc/UTC', role: 'user', self: `https://api.pagerduty.com/users/${u.id}`, html_url: `https://example.pagerduty.com/users/${u.id}` };
}

/** Answers GET /oncalls and GET /users/{id}; false for any other path. Auth is checked by the caller. */
export function answerOnCalls(directory: FakeOnCalls, rawUrl: string, send: Send): boolean {
  const url = new URL(rawUrl, 'http://x');
  const user = /^\/users\/([A-Z0-9]+)$/.exec(url.pathname);
  if (user) {
    const found = directory.users.get(user[1] ?? '');
    if (found) send(200, { user: fullUser(found) });
    else send(404, { error: { message: 'Not Found', code: 2100 } });
    return true;
  }
  if (url.pathname !== '/oncalls') return false;
  const q = url.searchParams;
  const wanted = q.getAll('include[]');
  if (wanted.some((w) => !includes.has(w))) {
    send(400, invalid([`include[] must be one of ${[...includes].join(', ')}`]));
    return true;
  }
  const at = (name: string, fallback: number) => {
    const v = q.get(name);
    return v === null ? fallback : Date.parse(v);
  };
  const since = at('since', Date.now());
  const until = at('until', since);
  if (!Number.isFinite(since) || !Number.isFinite(until) || until < since) {
    send(400, invalid(['since and until must be ISO 8601 times, since before until']));
    return true;
  }
  const policies = q.getAll('escalation_policy_ids[]');
  const schedules = q.getAll('schedule_ids[]');
  const users = q.getAll('user_ids[]');
  const list = directory.entries.filter((e) =>
    (policies.length === 0 || policies.includes(e.escalationPolicyId))
    && (schedules.length === 0 || (e.scheduleId !== undefined && schedules.includes(e.scheduleId)))
    && (users.length === 0 || users.includes(e.userId))
    && (e.start === null || Date.parse(e.start) <= until)
    && (e.end === null || Date.parse(e.end) > since));
  const oncalls = list.flatMap((e) => {
    const u = directory.users.get(e.userId);
    if (!u) return [];
    return [{
      escalation_policy: ref('escalation_policy', e.escalationPolicyId, `Policy ${e.escalationPolicyId}`),
      escalation_level: e.level,
      schedule: e.scheduleId ? ref('schedule', e.scheduleId, `Schedule ${e.scheduleId}`) : null,
      user: wanted.includes('users') ? fullUser(u) : ref('user', u.id, u.name),
      start: e.start,
      end: e.end,
    }];
  });
  send(200, { oncalls, limit: Number(q.get('limit') ?? 25), offset: Number(q.get('offset') ?? 0), more: false, total: null });
  return true;
}
