// `/tacit …` commands, the same on every platform. Answers are private to the person who asked.
// Settings changed here are the only way budgets, pauses and quiet hours change: people decide them.
import { and, desc, eq, gte, isNull, like, ne, or, sql } from 'drizzle-orm';
import type { Clock } from '../core/clock.js';
import { clockTime, relativeTime, timeWithRelative } from '../core/human-time.js';
import { parseDuration, readSettings, timezoneSchema, type WorkspaceSettings } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { channels, decisions, incidents, outbox, sources, workspaces } from '../db/schema.js';
import { SecretBoxError, type SecretBox } from '../db/secret-box.js';
import type { HeartbeatSignals } from '../heartbeat/signals.js';
import { defaultIndexBounds } from '../memory/render.js';
import { forgetEntry, readIndex } from '../memory/store.js';
import { sourceKinds, type SourceKind } from '../sources/formats.js';
import { createSource, SourceSetupError, type InvalidateSource } from '../sources/sources.js';
import { commandAccess, mayChangeSettings, needsGroupLookup, type AdminList } from '../core/roles.js';
import { recordAudit } from '../db/audit-log.js';
import { admins, approvers, integration, revoke, rotate, setup, sourceList } from './admin-commands.js';
import { oncallCommand, oncallStatusLines, routeCommand } from '../oncall/commands.js';
import { syncStatusLine } from '../oncall/sync-commands.js';
import type { InboundCommand, InteractionResponse } from './port.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';

export interface CommandDeps {
  db: Db;
  secrets: SecretBox;
  signals: HeartbeatSignals;
  clock: Clock;
  publicUrl: () => string;
  /** Whether a person is in a platform group (the adapter's inGroup): for the workspace's admin groups. */
  inGroup?: (workspaceId: string, personId: string, groupId: string) => Promise<boolean>;
  /** Makes every process drop a rotated or revoked source's cached credentials (SourceCache.invalidate). */
  invalidateSource: InvalidateSource;
  /** People's names as the platform shows them (chat/people.ts), for lists of approvers and admins. */
  people?: { name(workspaceId: string, personId: string): Promise<string> };
  /** `/tacit ack|resolve|incident` (src/oncall/respond.ts). */
  oncall?: { command(c: InboundCommand, verb: string, args: string[]): Promise<InteractionResponse> };
}

const usage = [
  '`/tacit status` — what I watch, open incidents, recent decisions',
  '`/tacit pause [30m|2h|1d] [here]` — stop proactive posts in the workspace (or this channel)',
  '`/tacit resume` — post again',
  '`/tacit quiet-hours [22:00-07:00 [Europe/Berlin] | off]` — hold non-critical posts overnight',
  '`/tacit budget [posts per channel per hour]` — how much I may say unprompted',
  '`/tacit digest [hour 0-23 | off]` — a daily summary of the last 24 hours, posted in this channel',
  '`/tacit connect <alertmanager|grafana|pagerduty|sentry|generic|github> [#channel] [secret=…]` — a new source',
  '`/tacit sources` — the sources of this workspace; `/tacit rotate <id>` — new credentials; `/tacit revoke <id>` — stop one',
  '`/tacit approvers [@person… @group… [two-person] | none]` — who may approve my actions',
  '`/tacit integration alertmanager <url> [authorization=…]` — where silences go',
  '`/tacit setup` — approvers and the Alertmanager in one form (Slack)',
  '`/tacit admins [@person… @group… | none]` — who may change settings besides the workspace admins',
  '`/tacit memory` — what I remember (checked against live state now); `/tacit forget <id>` — drop an entry',
  '`/tacit ack [incident]`, `/tacit resolve [incident] [note]`, `/tacit incident declare <title> [severity]` — incident steps',
  '`/tacit auto-resolve [kind 4h|off]`, `/tacit ack-silence [direct|approval|off]`, `/tacit pagerduty-email [you@…]` — how steps reach the sources',
  '`/tacit route [list | add team=payments severity=critical #channel | add env=~"dev.*" off | remove N]` — which channel incidents go to',
  '`/tacit oncall` — who is on call; `/tacit oncall help` for rotation, PagerDuty, escalation and your quiet hours',
  '`@tacit why` in a thread — the decision behind my message',
  'Changing anything needs a workspace admin (Slack admin or owner, Discord Manage Server) or someone on `/tacit admins`.',
].join('\n');

export async function runCommand(deps: CommandDeps, command: InboundCommand): Promise<InteractionResponse> {
  const [first, ...args] = command.text.trim().split(/\s+/);
  const verb = first?.toLowerCase() ?? '';
  const access = commandAccess(verb, args);
  if (access === 'unknown') return { privateText: `I don't know \`/tacit ${verb}\`.\n${usage}` };
  if (access === 'read') return dispatch(deps, command, verb, args);
  // Incident steps (ack, resolve, declare): any member; src/oncall authorises and audits them.
  if (access === 'respond') return deps.oncall ? deps.oncall.command(command, verb, args) : { privateText: 'Incident steps are not available here.' };
  const { settings } = await workspaceSettings(deps, command.workspaceId);
  const decision = mayChangeSettings(command.user, settings.admins, await adminGroupsOf(deps, command, settings.admins));
  const entry = { workspaceId: command.workspaceId, actor: command.user.id, action: verb || 'help' };
  // The words after the verb may hold a secret (`secret=…`, `authorization=…`): the audit keeps only their count.
  const detail = { channelId: command.channelId, words: args.length, external: Boolean(command.user.external), guest: Boolean(command.user.guest), admin: Boolean(command.user.admin) };
  if (!decision.allowed) {
    await recordAudit(deps.db, { ...entry, outcome: 'refused', detail: { ...detail, reason: decision.reason } });
    return { privateText: `${decision.message} (\`/tacit ${verb}\` was not run.)` };
  }
  // Written before the change runs, so no change goes unaudited (a change that then fails is audited too).
  await recordAudit(deps.db, { ...entry, outcome: 'allowed', detail: { ...detail, via: decision.via, target: auditTarget(verb, args) } });
  return dispatch(deps, command, verb, args);
}

/** The workspace's admin groups this person is in; asked only when the answer could matter. */
async function adminGroupsOf(deps: CommandDeps, c: InboundCommand, admins: AdminList): Promise<Set<string>> {
  const found = new Set<string>();
  if (!deps.inGroup || !needsGroupLookup(c.user, admins)) return found;
  for (const group of admins.groups) {
    if (await deps.inGroup(c.workspaceId, c.user.id, group).catch(() => false)) found.add(group);
  }
  return found;
}

/** What a change was about, safe to keep: a source or memory id, never a credential. */
function auditTarget(verb: string, args: string[]): string | undefined {
  if (verb === 'rotate' || verb === 'revoke' || verb === 'forget') return args[0];
  if (verb === 'connect' || verb === 'integration' || verb === 'route' || verb === 'oncall') return args[0]?.toLowerCase();
  return undefined;
}

async function dispatch(deps: CommandDeps, command: InboundCommand, verb: string, args: string[]): Promise<InteractionResponse> {
  switch (verb) {
    case 'connect':
      return connect(deps, command, args);
    case 'status':
      return status(deps, command);
    case 'pause':
      return pause(deps, command, args);
    case 'resume':
      return resume(deps, command);
    case 'quiet-hours':
      return quietHours(deps, command, args);
    case 'budget':
      return budget(deps, command, args);
    case 'digest':
      return digest(deps, command, args);
    case 'memory':
      return memoryIndex(deps, command);
    case 'forget':
      return forget(deps, command, args);
    case 'sources':
      return sourceList(deps, command);
    case 'rotate':
      return rotate(deps, command, args);
    case 'revoke':
      return revoke(deps, command, args);
    case 'approvers':
      return approvers(deps, command, args);
    case 'admins':
      return admins(deps, command, args);
    case 'integration':
      return integration(deps, command, args);
    case 'setup':
      return setup(deps, command);
    case 'route':
      return routeCommand(deps, command, args);
    case 'oncall':
      return oncallCommand(deps, command, args);
    case 'auto-resolve':
    case 'ack-silence':
      return deps.oncall ? deps.oncall.command(command, verb, args) : { privateText: 'Incident steps are not available here.' };
    case '':
    case 'help':
      return { privateText: usage };
    default:
      return { privateText: `I don't know \`/tacit ${verb}\`.\n${usage}` };
  }
}

async function workspaceSettings(deps: CommandDeps, workspaceId: string) {
  const [ws] = await deps.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  return { workspace: ws, settings: readSettings(ws?.settings) };
}

async function saveSettings(deps: CommandDeps, workspaceId: string, patch: Partial<WorkspaceSettings>): Promise<void> {
  await patchWorkspaceSettings(deps.db, workspaceId, patch);
}

async function status(deps: CommandDeps, c: InboundCommand): Promise<InteractionResponse> {
  const now = deps.clock.now();
  const { workspace, settings } = await workspaceSettings(deps, c.workspaceId);
  const watching = await deps.db
    .select({ kind: sources.kind, channel: channels.name })
    .from(sources)
    .innerJoin(channels, eq(channels.id, sources.channelId))
    .where(and(eq(sources.workspaceId, c.workspaceId), isNull(sources.revokedAt)));
  const open = await deps.db
    .select()
    .from(incidents)
    .where(and(eq(incidents.workspaceId, c.workspaceId), ne(incidents.status, 'resolved')));
  const recent = await deps.db
    .select()
    .from(decisions)
    .where(eq(decisions.workspaceId, c.workspaceId))
    .orderBy(desc(decisions.createdAt))
    .limit(5);
  const counters = await deps.signals.counters(c.workspaceId);
  const lines = [
    workspace?.pausedUntil && workspace.pausedUntil > now ? `⏸ Paused until ${timeWithRelative(workspace.pausedUntil, { now, timezone: settings.timezone })}.` : 'Active.',
    watching.length > 0 ? `Watching: ${watching.map((w) => `${w.kind} → #${w.channel}`).join(', ')}.` : 'Watching no sources yet (`/tacit connect`).',
    open.length > 0 ? `Open incidents: ${open.map((i) => `${i.title} (${i.status}, ${i.severity})`).join('; ')}.` : 'No open incidents.',
    `Heartbeat: ${counters.ticks} ticks, ${counters.quiet} quiet, ${counters.woken} woken, ${counters.spoke} spoke, ${counters.vetoed} vetoed; ${counters.model_calls} model calls, ${counters.tokens} tokens.`,
    `Budget: ${settings.postsPerChannelPerHour} posts per channel per hour. Quiet hours: ${settings.quietHours ? `${settings.quietHours.start}–${settings.quietHours.end} ${settings.timezone}` : 'off'}.`,
    ...(await oncallStatusLines(deps, c.workspaceId, settings)),
    syncStatusLine(workspace?.settings),
  ];
  if (recent.length > 0) {
    lines.push('Recent decisions:');
    for (const d of recent) lines.push(`• ${timeWithRelative(d.createdAt, { now, timezone: settings.timezone })} ${d.outcome} (${d.trigger}): ${d.reasons.join('; ')}${d.vetoes.length ? ` — vetoed: ${d.vetoes.join('; ')}` : ''}`);
  }
  return { privateText: lines.join('\n') };
}

async function pause(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const here = args.some((a) => a.toLowerCase() === 'here');
  const durationArg = args.find((a) => a.toLowerCase() !== 'here');
  const ms = durationArg ? parseDuration(durationArg) : 3_600_000;
  if (ms === null || ms <= 0) return { privateText: `I could not read "${durationArg}" as a duration. Try \`30m\`, \`2h\` or \`1d\`.` };
  const now = deps.clock.now();
  const until = new Date(now.getTime() + ms);
  const { settings } = await workspaceSettings(deps, c.workspaceId);
  const when = `${clockTime(until, { now, timezone: settings.timezone })}, ${relativeTime(until, now)}`;
  if (here) {
    await deps.db.update(channels).set({ pausedUntil: until }).where(and(eq(channels.id, c.channelId), eq(channels.workspaceId, c.workspaceId)));
    return { privateText: `Paused in this channel until ${when} (asked by ${c.user.name}). Card edits continue; \`/tacit resume\` to undo.` };
  }
  await deps.db.update(workspaces).set({ pausedUntil: until }).where(eq(workspaces.id, c.workspaceId));
  await deps.signals.markDirty(c.workspaceId); // the next tick records the pause in its wake-up plan
  return { privateText: `Paused until ${when} (asked by ${c.user.name}). I keep watching and editing existing cards, but post nothing new. \`/tacit resume\` to undo.` };
}

async function resume(deps: CommandDeps, c: InboundCommand): Promise<InteractionResponse> {
  await deps.db.update(workspaces).set({ pausedUntil: null }).where(eq(workspaces.id, c.workspaceId));
  await deps.db.update(channels).set({ pausedUntil: null }).where(and(eq(channels.id, c.channelId), eq(channels.workspaceId, c.workspaceId)));
  // Incidents that opened while paused are announced by the next tick.
  await deps.signals.setDue(c.workspaceId, deps.clock.now());
  return { privateText: 'Resumed: I will post again when there is news, starting with anything that opened while I was paused.' };
}

async function quietHours(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const { settings } = await workspaceSettings(deps, c.workspaceId);
  const [range, tz] = args;
  if (!range) {
    return { privateText: settings.quietHours ? `Quiet hours: ${settings.quietHours.start}–${settings.quietHours.end} ${settings.timezone}; only critical incidents are posted then.` : 'No quiet hours set.' };
  }
  if (range.toLowerCase() === 'off') {
    await saveSettings(deps, c.workspaceId, { quietHours: null });
    return { privateText: 'Quiet hours off.' };
  }
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(range);
  if (!m) return { privateText: 'Give quiet hours as `HH:MM-HH:MM`, e.g. `/tacit quiet-hours 22:00-07:00 Europe/Berlin`.' };
  const timezone = tz ?? settings.timezone;
  if (!timezoneSchema.safeParse(timezone).success) return { privateText: `"${timezone}" is not a time zone I know; use an IANA name like Europe/Berlin.` };
  const [start, end] = range.split('-') as [string, string];
  await saveSettings(deps, c.workspaceId, { quietHours: { start, end }, timezone });
  return { privateText: `Quiet hours set: ${start}–${end} ${timezone}. Non-critical posts wait until they end; critical incidents still go out.` };
}

async function budget(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const { settings } = await workspaceSettings(deps, c.workspaceId);
  if (args[0]) {
    const n = Number(args[0]);
    if (!Number.isInteger(n) || n < 0 || n > 1000) return { privateText: 'Give the budget as a whole number of posts per channel per hour, e.g. `/tacit budget 10`.' };
    await saveSettings(deps, c.workspaceId, { postsPerChannelPerHour: n });
    return { privateText: `Budget set: at most ${n} unprompted posts per channel per hour (critical incident cards excepted).` };
  }
  const used = await deps.db
    .select({ channel: channels.name, n: sql<number>`count(*)::int` })
    .from(outbox)
    .innerJoin(channels, eq(channels.id, outbox.channelId))
    .where(and(eq(outbox.workspaceId, c.workspaceId), eq(outbox.proactive, true), eq(outbox.kind, 'post'), gte(outbox.createdAt, new Date(deps.clock.now().getTime() - 3_600_000))))
    .groupBy(channels.name);
  const usage = used.length > 0 ? used.map((u) => `#${u.channel}: ${u.n}`).join(', ') : 'nothing posted in the last hour';
  return { privateText: `Budget: ${settings.postsPerChannelPerHour} unprompted posts per channel per hour. Last hour: ${usage}.` };
}

async function digest(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const { settings } = await workspaceSettings(deps, c.workspaceId);
  const arg = args[0]?.toLowerCase();
  if (!arg) return { privateText: settings.digestHour === null ? 'No daily digest.' : `Daily digest at ${settings.digestHour}:00 ${settings.timezone}.` };
  if (arg === 'off') {
    await saveSettings(deps, c.workspaceId, { digestHour: null });
    return { privateText: 'Daily digest off.' };
  }
  const hour = Number(arg.replace(/:00$/, ''));
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) return { privateText: 'Give the digest hour as 0–23 (local time), e.g. `/tacit digest 9`.' };
  await saveSettings(deps, c.workspaceId, { digestHour: hour, digestChannelId: c.channelId });
  await deps.signals.markDirty(c.workspaceId); // the next tick schedules the wake for it
  return { privateText: `Daily digest at ${hour}:00 ${settings.timezone}, in this channel.` };
}

/** The memory index, each entry checked against live state first; stale entries say why. */
async function memoryIndex(deps: CommandDeps, c: InboundCommand): Promise<InteractionResponse> {
  const { text, rows } = await readIndex(deps.db, c.workspaceId, deps.clock.now(), defaultIndexBounds);
  if (rows.length === 0) return { privateText: 'I remember nothing in this workspace yet. Memories are kept only after what they record was verified.' };
  const stale = rows.filter((r) => r.status === 'stale').length;
  return {
    privateText: `What I remember (${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}${stale > 0 ? `, ${stale} stale` : ''}; hints, checked just now — \`/tacit forget <id>\` drops one):\n${text}`,
  };
}

async function forget(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const id = args[0];
  if (!id) return { privateText: 'Which entry? Give its id from `/tacit memory`, e.g. `/tacit forget mem_1a2b3c4d5e`.' };
  const row = await forgetEntry(deps.db, c.workspaceId, id);
  if (!row) return { privateText: `I have no memory ${id} in this workspace (\`/tacit memory\` lists them).` };
  return { privateText: `Forgot ${row.id} (${row.topic}: ${row.hint}), as ${c.user.name} asked.` };
}

async function connect(deps: CommandDeps, command: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const kind = args[0]?.toLowerCase();
  if (!kind || !sourceKinds.includes(kind as SourceKind)) return { privateText: `Which kind of source?\n${usage}` };
  // `#name`, or a Slack channel mention as escaped slash commands send it: `<#C0123|name>` (the name may be empty).
  const channelArg = args.find((a) => a.startsWith('#') || a.startsWith('<#'));
  const escaped = channelArg ? /^<#([A-Z0-9]+)(?:\|([^>]*))?>$/.exec(channelArg) : null;
  const secret = args.find((a) => a.startsWith('secret='))?.slice('secret='.length);
  let channelId = command.channelId;
  if (channelArg) {
    const named = escaped
      ? or(like(channels.id, `%/${escaped[1] ?? ''}`), escaped[2] ? eq(channels.name, escaped[2]) : undefined)
      : eq(channels.name, channelArg.slice(1));
    const [found] = await deps.db
      .select({ id: channels.id })
      .from(channels)
      .where(and(eq(channels.workspaceId, command.workspaceId), named));
    if (!found) return { privateText: `I am not in ${channelArg}. Invite me there first, or leave the channel out to use this one.` };
    channelId = found.id;
  }
  try {
    const created = await createSource(deps.db, deps.secrets, { workspaceId: command.workspaceId, kind: kind as SourceKind, channelId, secret }, deps.publicUrl());
    return {
      privateText: [
        `Connected a ${kind} source. Only you can see this message; the credentials are shown once.`,
        `URL: ${created.url}`,
        created.token ? `Token: ${created.token}` : undefined,
        created.secret ? `Signing secret: ${created.secret}` : undefined,
        created.instructions,
      ]
        .filter(Boolean)
        .join('\n'),
    };
  } catch (err) {
    if (err instanceof SecretBoxError || err instanceof SourceSetupError) return { privateText: `Could not connect: ${err.message}` };
    throw err;
  }
}
