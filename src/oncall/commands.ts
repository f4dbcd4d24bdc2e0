// `/tacit route …` and `/tacit oncall …`: routing rules, who is on call, the escalation intervals
// and personal quiet hours. Who may run what is decided before (core/roles commandAccess); a
// person's own quiet hours are theirs to set, and audited here.
import { eq } from 'drizzle-orm';
import { loadIntegrations } from '../actions/integrations.js';
import type { CommandDeps } from '../chat/commands.js';
import { mentionedPeople } from '../chat/admin-commands.js';
import type { InboundCommand, InteractionResponse } from '../chat/port.js';
import { timeWithRelative } from '../core/human-time.js';
import { escalationSchema, personalQuietHoursSchema, weekdaySchema, type EscalationPolicy } from '../core/oncall-settings.js';
import { describeRoute } from '../core/routing.js';
import { startDateForNow } from '../core/rotation.js';
import { parseDuration, readSettings, type WorkspaceSettings } from '../core/settings.js';
import { recordAudit } from '../db/audit-log.js';
import { workspaces } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';
import { OncallError } from './errors.js';
import { channelNames, parseRouteWords, resolveChannel, saveRoutes } from './routing.js';
import { describeRoster, whoIsOnCall } from './who.js';

async function settingsOf(deps: CommandDeps, workspaceId: string): Promise<WorkspaceSettings> {
  const [ws] = await deps.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return readSettings(ws?.settings);
}

const routeUsage = 'Routing rules, first match wins: `/tacit route add team=payments severity=critical #payments-oncall`, `/tacit route add env=~"staging|dev" off` (track, never post), `/tacit route list`, `/tacit route remove 2`.';

export async function routeList(deps: CommandDeps, workspaceId: string, settings?: WorkspaceSettings): Promise<string[]> {
  const { routes } = settings ?? (await settingsOf(deps, workspaceId));
  if (routes.length === 0) return ['Routing: no rules; every incident goes to its source\'s channel.'];
  const name = await channelNames(deps.db, workspaceId);
  return ['Routing (first match wins; otherwise the source\'s channel):', ...routes.map((r, i) => `${i + 1}. ${describeRoute(r, name)}`)];
}

export async function routeCommand(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const [sub, ...rest] = args;
  const verb = sub?.toLowerCase();
  const settings = await settingsOf(deps, c.workspaceId);
  if (!verb || verb === 'list') return { privateText: [...(await routeList(deps, c.workspaceId, settings)), routeUsage].join('\n') };
  try {
    if (verb === 'add') {
      const { route, channel } = parseRouteWords(rest);
      let channelId: string | undefined;
      if (channel) {
        const found = await resolveChannel(deps.db, c.workspaceId, channel);
        if (!found) return { privateText: `I am not in ${channel}. Invite me there first, then add the rule again.` };
        channelId = found.id;
      }
      const routes = [...settings.routes, { ...route, ...(channelId ? { channelId } : {}) }];
      await saveRoutes(deps.db, c.workspaceId, routes);
      const name = await channelNames(deps.db, c.workspaceId);
      return { privateText: `Rule ${routes.length} added by ${c.user.name}: ${describeRoute(routes[routes.length - 1] ?? route, name)}. It applies to incidents that open from now on.` };
    }
    if (verb === 'remove') {
      const n = Number(rest[0]);
      if (!Number.isInteger(n) || n < 1 || n > settings.routes.length) return { privateText: `Which rule? Give its number from \`/tacit route list\` (1–${settings.routes.length}).` };
      await saveRoutes(deps.db, c.workspaceId, settings.routes.filter((_, i) => i !== n - 1));
      return { privateText: `Rule ${n} removed by ${c.user.name}. Rules after it moved up by one.` };
    }
  } catch (err) {
    if (err instanceof OncallError) return { privateText: `Could not change the routing: ${err.message}` };
    throw err;
  }
  return { privateText: routeUsage };
}

const oncallUsage = [
  '`/tacit oncall` — who is on call now, level by level',
  '`/tacit oncall rotation @a @b [mon 09:00 Europe/Berlin] | off` — a weekly rotation kept by Tacit (the first person is on call now)',
  '`/tacit oncall pagerduty <escalation policy id…> [schedule:<id>] | off` — ask PagerDuty (needs the PagerDuty integration)',
  '`/tacit oncall map alice@example.com @alice` — which chat person a PagerDuty user is',
  '`/tacit oncall escalation 5m 15m 30m` — reminder in the thread, then DM level 1, then level 2 (critical incidents)',
  '`/tacit oncall quiet-hours 22:00-07:00 [Europe/Berlin] | off` — your own: non-critical escalations never DM you then',
].join('\n');

export async function oncallLines(deps: CommandDeps, workspaceId: string, settings: WorkspaceSettings): Promise<string[]> {
  const now = deps.clock.now();
  // Chat platforms want an answer within 3 s: PagerDuty gets 2.5 s of it.
  const who = { timeoutMs: 2_500, pagerduty: async (ws: string) => (await loadIntegrations(deps.db, deps.secrets, ws)).find((i) => i.kind === 'pagerduty') };
  const roster = await whoIsOnCall(who, workspaceId, settings, now);
  // Chat people by the name the platform shows (a label is their id until then); answers never carry mention markup.
  const levels = await Promise.all(roster.levels.map((people) => Promise.all(people.map(async (p) => (p.personId ? { ...p, label: await nameOf(deps, workspaceId, p.personId) } : p)))));
  return describeRoster({ ...roster, levels }, (d) => timeWithRelative(d, { now, timezone: settings.timezone }));
}

function nameOf(deps: CommandDeps, workspaceId: string, personId: string): Promise<string> {
  return deps.people ? deps.people.name(workspaceId, personId) : Promise.resolve(personId);
}

/** For `/tacit status`: the routing rules, where on-call comes from (PagerDuty is not called here) and the escalation. */
export async function oncallStatusLines(deps: CommandDeps, workspaceId: string, settings: WorkspaceSettings): Promise<string[]> {
  const pd = settings.oncall.pagerduty;
  const source = pd && pd.escalationPolicyIds.length + pd.scheduleIds.length > 0
    ? 'On call: from PagerDuty (`/tacit oncall` shows who).'
    : (await oncallLines(deps, workspaceId, settings)).join(' ');
  return [...(await routeList(deps, workspaceId, settings)), source, escalationLine(settings.escalation)];
}

export function escalationLine(p: EscalationPolicy): string {
  const steps = p.steps.map((s) => `${Math.round(s.afterMs / 60_000)} min ${s.to === 'thread' ? 'reminder in the thread' : `DM level ${s.to.level}`}`);
  return `Escalation (${p.severities.join(', ')} incidents nobody acknowledged): ${steps.join(', then ')}; it stops at the first acknowledgement.`;
}

type Oncall = WorkspaceSettings['oncall'];
type Sub = (deps: CommandDeps, c: InboundCommand, settings: WorkspaceSettings, rest: string[], save: (patch: Partial<Oncall>) => Promise<unknown>) => Promise<InteractionResponse>;

const rotation: Sub = async (deps, c, settings, rest, save) => {
  if (rest[0]?.toLowerCase() === 'off') {
    await save({ rotation: null });
    return { privateText: 'Rotation off.' };
  }
  const { users, rest: words } = mentionedPeople(rest);
  const weekday = weekdaySchema.safeParse(words.find((w) => weekdaySchema.safeParse(w.toLowerCase().slice(0, 3)).success)?.toLowerCase().slice(0, 3) ?? 'mon');
  const time = words.find((w) => /^\d{2}:\d{2}$/.test(w)) ?? '09:00';
  const timezone = words.find((w) => w.includes('/') || w === 'UTC') ?? settings.timezone;
  if (users.length === 0 || !weekday.success) return { privateText: `Name the people in order, e.g. \`/tacit oncall rotation @alice @bob mon 09:00 Europe/Berlin\`.\n${oncallUsage}` };
  if (!personalQuietHoursSchema.shape.timezone.safeParse(timezone).success || !/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) {
    return { privateText: `I could not read "${time} ${timezone}" as a handoff time and time zone.` };
  }
  const startDate = startDateForNow(weekday.data, time, timezone, deps.clock.now());
  await save({ rotation: { people: users, handoffWeekday: weekday.data, handoffTime: time, timezone, startDate } });
  const names = await Promise.all(users.map((u) => nameOf(deps, c.workspaceId, u)));
  return { privateText: `Rotation set by ${c.user.name}: ${names.join(' → ')}, handing over ${weekday.data} ${time} ${timezone}; ${names[0] ?? ''} is on call now, the next in line is level 2.` };
};

const pagerduty: Sub = async (_deps, _c, _settings, rest, save) => {
  if (rest[0]?.toLowerCase() === 'off') {
    await save({ pagerduty: null });
    return { privateText: 'PagerDuty on-call off: the rotation (or the on-call list) is used.' };
  }
  const scheduleIds = rest.filter((w) => w.startsWith('schedule:')).map((w) => w.slice('schedule:'.length));
  const escalationPolicyIds = rest.filter((w) => !w.startsWith('schedule:'));
  if ([...scheduleIds, ...escalationPolicyIds].some((id) => !/^[A-Z0-9]{5,20}$/.test(id)) || scheduleIds.length + escalationPolicyIds.length === 0) {
    return { privateText: 'Give PagerDuty ids such as `PABC123` (escalation policies) or `schedule:PXYZ789`.' };
  }
  await save({ pagerduty: { escalationPolicyIds, scheduleIds } });
  return { privateText: `On-call comes from PagerDuty now (${[...escalationPolicyIds, ...scheduleIds.map((s) => `schedule ${s}`)].join(', ')}). Map its people with \`/tacit oncall map <email> @person\`.` };
};

const map: Sub = async (deps, c, settings, rest, save) => {
  const email = rest.find((w) => w.includes('@') && !w.startsWith('<') && !w.startsWith('@'))?.toLowerCase();
  const { users } = mentionedPeople(rest.filter((w) => w.toLowerCase() !== email));
  if (!email || users.length !== 1 || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return { privateText: 'Give one email and one person: `/tacit oncall map alice@example.com @alice`.' };
  await save({ people: { ...settings.oncall.people, [email]: users[0] ?? '' } });
  return { privateText: `PagerDuty user ${email} is ${await nameOf(deps, c.workspaceId, users[0] ?? '')} in chat (set by ${c.user.name}).` };
};

const escalation: Sub = async (deps, c, settings, rest) => {
  const ms = rest.map((w) => parseDuration(w));
  if (ms.length === 0 || ms.some((m) => m === null)) return { privateText: 'Give the intervals from the card, e.g. `/tacit oncall escalation 5m 15m 30m` (reminder, level 1, level 2, …).' };
  const steps = ms.map((afterMs, i) => ({ afterMs: afterMs ?? 0, to: i === 0 ? ('thread' as const) : { level: i } }));
  const parsed = escalationSchema.safeParse({ ...settings.escalation, steps });
  if (!parsed.success) return { privateText: `Could not set the escalation: ${parsed.error.issues.map((i) => i.message).join('; ')} (each step between 1 min and 24 h).` };
  await patchWorkspaceSettings(deps.db, c.workspaceId, { escalation: parsed.data });
  return { privateText: escalationLine(parsed.data) };
};

const subs: Record<string, Sub> = { rotation, pagerduty, map, escalation, 'quiet-hours': (deps, c, settings, rest) => personalQuietHours(deps, c, settings, rest) };

/** Everything but `quiet-hours` (and reading) changes the workspace and needs an admin (core/roles commandAccess). */
export async function oncallCommand(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const [sub, ...rest] = args;
  const settings = await settingsOf(deps, c.workspaceId);
  if (!sub) return { privateText: [...(await oncallLines(deps, c.workspaceId, settings)), escalationLine(settings.escalation), '', oncallUsage].join('\n') };
  const run = subs[sub.toLowerCase()];
  if (!run) return { privateText: oncallUsage };
  const save = (patch: Partial<Oncall>) => patchWorkspaceSettings(deps.db, c.workspaceId, { oncall: { ...settings.oncall, ...patch } });
  return run(deps, c, settings, rest, save);
}

async function personalQuietHours(deps: CommandDeps, c: InboundCommand, settings: WorkspaceSettings, rest: string[]): Promise<InteractionResponse> {
  const [range, tz] = rest;
  const mine = settings.oncall.quietHours[c.user.id];
  if (!range) return { privateText: mine ? `Your quiet hours: ${mine.start}–${mine.end} ${mine.timezone}; critical incidents still reach you.` : 'You have no personal quiet hours.' };
  // Guests and people from another organisation change nothing, not even their own entry.
  if (c.user.guest || c.user.external) return { privateText: 'Guests and people from another organisation cannot change Tacit in this workspace.' };
  const quietHours = { ...settings.oncall.quietHours };
  let text: string;
  if (range.toLowerCase() === 'off') {
    delete quietHours[c.user.id];
    text = 'Your quiet hours are off.';
  } else {
    const [start, end] = range.split('-');
    const parsed = personalQuietHoursSchema.safeParse({ start, end, timezone: tz ?? settings.timezone });
    if (!parsed.success) return { privateText: 'Give them as `HH:MM-HH:MM [Europe/Berlin]`, e.g. `/tacit oncall quiet-hours 22:00-07:00`.' };
    quietHours[c.user.id] = parsed.data;
    text = `Your quiet hours: ${parsed.data.start}–${parsed.data.end} ${parsed.data.timezone}. Non-critical escalations skip you then; critical ones still reach you.`;
  }
  await recordAudit(deps.db, { workspaceId: c.workspaceId, actor: c.user.id, action: 'oncall quiet-hours', outcome: 'allowed', detail: { channelId: c.channelId, off: range.toLowerCase() === 'off' } });
  await patchWorkspaceSettings(deps.db, c.workspaceId, { oncall: { ...settings.oncall, quietHours } });
  return { privateText: text };
}
