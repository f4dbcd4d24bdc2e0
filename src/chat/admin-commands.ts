// The `/tacit` commands that change who and what Tacit trusts: sources (list, rotate, revoke), the
// approver policy, the admin allow-list and the Alertmanager integration. Who may run them is decided
// before they are called (core/roles); what they print is private to the person who asked.
import { eq } from 'drizzle-orm';
import { approverPolicySchema, setApprovers } from '../actions/admin.js';
import { IntegrationError, listIntegrations, putIntegration } from '../actions/integrations.js';
import { timeWithRelative } from '../core/human-time.js';
import { readSettings, type WorkspaceSettings } from '../core/settings.js';
import { workspaces } from '../db/schema.js';
import { SecretBoxError } from '../db/secret-box.js';
import { IntakeError } from '../sources/errors.js';
import { listSources, revokeSource, rotateSource } from '../sources/sources.js';
import type { CommandDeps } from './commands.js';
import type { InboundCommand, InteractionResponse } from './port.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';

async function settingsOf(deps: CommandDeps, workspaceId: string): Promise<WorkspaceSettings> {
  const [ws] = await deps.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return readSettings(ws?.settings);
}

export async function sourceList(deps: CommandDeps, c: InboundCommand): Promise<InteractionResponse> {
  const list = await listSources(deps.db, c.workspaceId);
  if (list.length === 0) return { privateText: 'This workspace has no sources yet (`/tacit connect`).' };
  const now = deps.clock.now();
  const { timezone } = await settingsOf(deps, c.workspaceId);
  const when = (d: Date) => timeWithRelative(d, { now, timezone });
  const lines = list.map((s) =>
    [
      `• \`${s.id}\` ${s.kind} → #${s.channelName ?? s.channelId}`,
      `created ${when(s.createdAt)}`,
      s.rotatedAt ? `rotated ${when(s.rotatedAt)}` : undefined,
      s.revokedAt ? `*revoked* ${when(s.revokedAt)}` : undefined,
    ].filter(Boolean).join(' · '),
  );
  return { privateText: `Sources (${list.length}; \`/tacit rotate <id>\` for new credentials, \`/tacit revoke <id>\` to stop one):\n${lines.join('\n')}` };
}

export async function rotate(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const id = args[0];
  if (!id) return { privateText: 'Which source? Give its id from `/tacit sources`, e.g. `/tacit rotate src_AbC123`.' };
  try {
    const rotated = await rotateSource(deps.db, deps.secrets, { sourceId: id, workspaceId: c.workspaceId }, deps.publicUrl(), deps.invalidateSource);
    return {
      privateText: [
        `New credentials for ${rotated.kind} source \`${rotated.id}\`; the old ones no longer work. Only you can see this message, and it is shown once.`,
        `URL: ${rotated.url}`,
        rotated.token ? `Token: ${rotated.token}` : undefined,
        rotated.secret ? `Signing secret: ${rotated.secret}` : undefined,
        rotated.instructions,
      ].filter(Boolean).join('\n'),
    };
  } catch (err) {
    if (err instanceof IntakeError || err instanceof SecretBoxError) return { privateText: `Could not rotate: ${err.message}` };
    throw err;
  }
}

export async function revoke(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const id = args[0];
  if (!id) return { privateText: 'Which source? Give its id from `/tacit sources`, e.g. `/tacit revoke src_AbC123`.' };
  try {
    const revoked = await revokeSource(deps.db, { sourceId: id, workspaceId: c.workspaceId }, deps.invalidateSource);
    return { privateText: `Revoked ${revoked.kind} source \`${revoked.id}\` (asked by ${c.user.name}): its credentials are refused from now on. Its incidents and history stay.` };
  } catch (err) {
    if (err instanceof IntakeError) return { privateText: `Could not revoke: ${err.message}` };
    throw err;
  }
}

/** People and groups named in a command: Slack `<@U…>`/`<!subteam^S…>`, Discord `<@…>`/`<@&…>`, or `@name`/`group:name`. */
export function mentionedPeople(args: readonly string[]): { users: string[]; groups: string[]; rest: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const rest: string[] = [];
  for (const word of args.flatMap((a) => a.split(/[\s,]+/)).filter(Boolean)) {
    const slackGroup = /^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word);
    const discordRole = /^<@&(\d+)>$/.exec(word);
    const person = /^<@!?([A-Z0-9]+)(?:\|[^>]*)?>$/i.exec(word);
    const named = /^(?:group|role):(\S+)$/i.exec(word);
    if (slackGroup?.[1]) groups.push(slackGroup[1]);
    else if (discordRole?.[1]) groups.push(discordRole[1]);
    else if (person?.[1]) users.push(person[1]);
    else if (named?.[1]) groups.push(named[1]);
    else if (/^@[\w.-]+$/.test(word)) users.push(word.slice(1));
    else rest.push(word);
  }
  return { users: [...new Set(users)], groups: [...new Set(groups)], rest };
}

/** People by name (the id when the platform does not know them), groups by id. */
async function named(deps: CommandDeps, workspaceId: string, p: { users: readonly string[]; groups: readonly string[] }): Promise<string> {
  const users = await Promise.all(p.users.map((u) => deps.people?.name(workspaceId, u) ?? u));
  return [...users, ...p.groups.map((g) => `group ${g}`)].join(', ') || 'nobody';
}

export async function approvers(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  if (args.length === 0) {
    const { approvers: p } = await settingsOf(deps, c.workspaceId);
    return { privateText: `Approvers: ${await named(deps, c.workspaceId, p)}${p.twoPerson ? '; two-person rule on' : ''}. \`/tacit approvers @a @b [two-person]\` replaces them.` };
  }
  const words = args[0]?.toLowerCase() === 'set' ? args.slice(1) : args;
  const { users, groups, rest } = mentionedPeople(words);
  const twoPerson = rest.some((w) => w.toLowerCase() === 'two-person');
  const clear = rest.some((w) => w.toLowerCase() === 'none');
  const unknown = rest.filter((w) => !['two-person', 'none'].includes(w.toLowerCase()));
  if (unknown.length > 0) return { privateText: `I could not read ${unknown.map((w) => `"${w}"`).join(', ')} as a person or group. Mention them, e.g. \`/tacit approvers @alice @oncall two-person\`.` };
  if (!clear && users.length === 0 && groups.length === 0) return { privateText: 'Name at least one person or group, or `none` (then nobody can approve).' };
  const policy = approverPolicySchema.parse({ users: clear ? [] : users, groups: clear ? [] : groups, twoPerson });
  await setApprovers(deps.db, c.workspaceId, policy);
  return { privateText: `Approvers set by ${c.user.name}: ${await named(deps, c.workspaceId, policy)}${policy.twoPerson ? '; two-person rule on' : ''}. Requests already waiting keep their policy.` };
}

export async function admins(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  if (args.length === 0) {
    const { admins: a } = await settingsOf(deps, c.workspaceId);
    return { privateText: `Besides the workspace admins, these may change settings: ${await named(deps, c.workspaceId, a)}. \`/tacit admins @a @group\` replaces the list.` };
  }
  const words = args[0]?.toLowerCase() === 'set' ? args.slice(1) : args;
  const { users, groups, rest } = mentionedPeople(words);
  const clear = rest.some((w) => w.toLowerCase() === 'none');
  const unknown = rest.filter((w) => w.toLowerCase() !== 'none');
  if (unknown.length > 0) return { privateText: `I could not read ${unknown.map((w) => `"${w}"`).join(', ')} as a person or group.` };
  const list = { users: clear ? [] : users, groups: clear ? [] : groups };
  await patchWorkspaceSettings(deps.db, c.workspaceId, { admins: list });
  return { privateText: `Besides the workspace admins, these may now change settings: ${await named(deps, c.workspaceId, list)} (set by ${c.user.name}).` };
}

export async function integration(deps: CommandDeps, c: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const [kind, url, ...rest] = args;
  if (kind?.toLowerCase() !== 'alertmanager' || !url) {
    return { privateText: 'Give the Alertmanager to silence alerts in: `/tacit integration alertmanager https://alertmanager.example:9093 [authorization=Bearer…]`. Other integrations are set through the admin API.' };
  }
  // `authorization=Bearer abc`: the header value is everything after the `=` (it may hold spaces).
  const at = rest.findIndex((w) => w.startsWith('authorization='));
  const authorization = at < 0 ? undefined : rest.slice(at).join(' ').slice('authorization='.length) || undefined;
  const target = url.replace(/^<(.*?)(?:\|.*)?>$/, '$1'); // Slack wraps links as <url> or <url|text>
  try {
    await putIntegration(deps.db, deps.secrets, c.workspaceId, 'alertmanager', 'default', { settings: { url: target }, secrets: authorization ? { authorization } : {} });
    return { privateText: `Alertmanager set: silences I am asked for go to ${target}${authorization ? ' (with the authorization you gave; it is stored encrypted)' : ''}.` };
  } catch (err) {
    if (err instanceof IntegrationError || err instanceof SecretBoxError) return { privateText: `Could not set the Alertmanager: ${err.message}` };
    throw err;
  }
}

/** The settings form (a Slack modal), filled with today's approvers and Alertmanager; elsewhere the commands to use. */
export async function setup(deps: CommandDeps, c: InboundCommand): Promise<InteractionResponse> {
  const { approvers: p } = await settingsOf(deps, c.workspaceId);
  const alertmanager = (await listIntegrations(deps.db, c.workspaceId)).find((i) => i.kind === 'alertmanager');
  const url = alertmanager && typeof alertmanager.settings.url === 'string' ? alertmanager.settings.url : null;
  return {
    form: { kind: 'settings', approvers: { users: [...p.users], groups: [...p.groups], twoPerson: p.twoPerson }, alertmanagerUrl: url },
    privateText: 'Set approvers with `/tacit approvers @a @b [two-person]` and the Alertmanager with `/tacit integration alertmanager <url>`.',
  };
}
