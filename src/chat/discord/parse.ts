// Discord gateway payloads into the neutral inbound model. Tacit's own messages, other bots',
// webhooks' and system messages are dropped here, so nothing a bot says can wake a workspace; a
// message in a thread belongs to the thread's parent channel. Also the `/tacit` command: its
// definition (registered at start-up) and how its options become the command text.
import {
  ApplicationCommandOptionType, ApplicationIntegrationType, InteractionContextType, type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { InboundMessage } from '../port.js';
import { channelId, workspaceId } from './types.js';

/** The parts of a discord.js `Message` Tacit reads. */
export interface DiscordMessage {
  id: string;
  channelId: string;
  guildId: string | null;
  content: string;
  system: boolean;
  webhookId: string | null;
  editedTimestamp: number | null;
  author: { id: string; username: string; globalName: string | null; bot: boolean };
  mentions: { users: { has(id: string): boolean } };
  channel: { isThread(): boolean; parentId?: string | null };
}

export type ParsedDiscordMessage =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'edited'; message: InboundMessage }
  | { kind: 'ignored'; reason: string };

/**
 * `directGuild`: for a direct message, the guild (workspace) it is asked in; without one a DM is
 * ignored. A DM is addressed to Tacit like a mention, and answered in the DM itself.
 */
export function parseDiscordMessage(m: DiscordMessage, botUserId: string, opts: { edited?: boolean; directGuild?: string } = {}): ParsedDiscordMessage {
  const guildId = m.guildId ?? opts.directGuild;
  if (!guildId) return { kind: 'ignored', reason: 'a direct message' };
  if (m.author.id === botUserId) return { kind: 'ignored', reason: 'Tacit wrote it' };
  if (m.author.bot || m.webhookId) return { kind: 'ignored', reason: 'a bot wrote it' };
  if (m.system) return { kind: 'ignored', reason: 'a system message' };

  const inThread = m.channel.isThread() && m.channel.parentId;
  const mentionPattern = new RegExp(`<@!?${botUserId}>`, 'g');
  const mentionsTacit = !m.guildId || m.mentions.users.has(botUserId) || mentionPattern.test(m.content);
  const message: InboundMessage = {
    workspaceId: workspaceId(guildId),
    channelId: channelId(guildId, inThread ? (m.channel.parentId ?? m.channelId) : m.channelId),
    messageId: m.id,
    threadId: inThread ? m.channelId : null,
    author: { id: m.author.id, name: m.author.globalName ?? m.author.username, isBot: false },
    text: m.content.replace(mentionPattern, ' ').replace(/\s+/g, ' ').trim(),
    mentionsTacit,
    raw: m,
  };
  return opts.edited ? { kind: 'edited', message } : { kind: 'message', message };
}

/** Every subcommand of the design, each with the options it takes. */
export const TACIT_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'tacit',
  description: 'Tacit: status, pauses, quiet hours, budgets and sources',
  // Guild channels only, installed to the guild (`contexts` replaced the deprecated `dm_permission`).
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  // Open to every member on purpose: Discord grants a whole command, not single subcommands, and the
  // reading ones (status, memory, sources) are for everyone. Changes are checked per subcommand against
  // the member's Manage Server permission (core/roles); a server can still narrow this in Integrations.
  default_member_permissions: null,
  options: [
    { type: ApplicationCommandOptionType.Subcommand, name: 'status', description: 'What I watch, open incidents, recent decisions' },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'pause', description: 'Stop proactive posts for a while',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'duration', description: '30m, 2h, 1d', required: false },
        { type: ApplicationCommandOptionType.Boolean, name: 'here', description: 'Only this channel', required: false },
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'resume', description: 'Post again' },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'connect', description: 'Connect an alert or GitHub source',
      options: [
        {
          type: ApplicationCommandOptionType.String, name: 'kind', description: 'The kind of source', required: true,
          choices: ['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic', 'github'].map((k) => ({ name: k, value: k })),
        },
        { type: ApplicationCommandOptionType.Channel, name: 'channel', description: 'Where its incidents go (default: here)', required: false },
        { type: ApplicationCommandOptionType.String, name: 'secret', description: 'A signing secret you already have', required: false },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'quiet-hours', description: 'Hold non-critical posts overnight',
      options: [{ type: ApplicationCommandOptionType.String, name: 'hours', description: '22:00-07:00 [Europe/Berlin] or off', required: false }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'budget', description: 'How much I may say unprompted',
      options: [{ type: ApplicationCommandOptionType.Integer, name: 'posts', description: 'Posts per channel per hour', required: false, min_value: 0 }],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'memory', description: 'What I remember about this workspace' },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'forget', description: 'Forget one memory',
      options: [{ type: ApplicationCommandOptionType.String, name: 'id', description: 'The memory id', required: true }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'digest', description: 'A daily summary in this channel',
      options: [{ type: ApplicationCommandOptionType.String, name: 'hour', description: '0-23 or off', required: false }],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'sources', description: 'The sources of this server (id, kind, channel, rotated, revoked)' },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'rotate', description: 'New credentials for a source (admins)',
      options: [{ type: ApplicationCommandOptionType.String, name: 'id', description: 'The source id from /tacit sources', required: true }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'revoke', description: 'Stop a source: its token is refused from now on (admins)',
      options: [{ type: ApplicationCommandOptionType.String, name: 'id', description: 'The source id from /tacit sources', required: true }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'approvers', description: 'Who may approve my actions (admins change it)',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'people', description: '@people and @roles, or none', required: false },
        { type: ApplicationCommandOptionType.Boolean, name: 'two-person', description: 'The requester may not approve', required: false },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'admins', description: 'Who may change settings besides Manage Server',
      options: [{ type: ApplicationCommandOptionType.String, name: 'people', description: '@people and @roles, or none', required: false }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'integration', description: 'Where actions go (admins)',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'kind', description: 'The integration', required: true, choices: [{ name: 'alertmanager', value: 'alertmanager' }] },
        { type: ApplicationCommandOptionType.String, name: 'url', description: 'Its base URL', required: true },
        { type: ApplicationCommandOptionType.String, name: 'authorization', description: 'An Authorization header value, if it needs one', required: false },
      ],
    },
    // Routing and on-call (src/oncall/commands.ts): the words after the subcommand, as typed on Slack.
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'route', description: 'Which channel incidents go to (admins change it)',
      options: [{ type: ApplicationCommandOptionType.String, name: 'rule', description: 'list | add team=payments severity=critical #channel | add env=~"dev.*" off | remove N', required: false }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand, name: 'oncall', description: 'Who is on call; rotation, PagerDuty, escalation, your quiet hours',
      options: [{ type: ApplicationCommandOptionType.String, name: 'what', description: 'rotation @a @b mon 09:00 | pagerduty <id> | map <email> @p | escalation 5m 15m | quiet-hours', required: false }],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'help', description: 'What I understand' },
  ],
};

/** An option as discord.js hands it over (`interaction.options.data`). */
export interface CommandOption {
  name: string;
  type: ApplicationCommandOptionType;
  value?: string | number | boolean;
  options?: readonly CommandOption[];
}

/** The text after `/tacit`, as on every platform: `connect alertmanager <#channel id> secret=…`. */
export function commandText(options: readonly CommandOption[]): string {
  const words: string[] = [];
  for (const o of options) {
    if (o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup) {
      words.push(o.name, commandText(o.options ?? []));
    } else if (o.value === undefined || o.value === false) {
      continue;
    } else if (o.type === ApplicationCommandOptionType.Boolean) {
      words.push(o.name);
    } else if (o.type === ApplicationCommandOptionType.Channel) {
      // A channel mention, as Slack sends one: matched by id, whatever the channel is called.
      words.push(`<#${String(o.value)}>`);
    } else if (o.name === 'secret' || o.name === 'authorization') {
      words.push(`${o.name}=${String(o.value)}`);
    } else {
      words.push(String(o.value));
    }
  }
  return words.filter((w) => w.length > 0).join(' ');
}
