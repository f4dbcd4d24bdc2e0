// Discord ids as Tacit stores them: each guild is a workspace `discord:<guildId>`, and a channel (or
// thread, or a DM opened for a person of that guild) is `discord:<guildId>/<channelId>`. One place
// encodes and decodes them; people and roles keep Discord's own snowflakes.
export interface DiscordChannelRef {
  guildId: string;
  channelId: string;
}

const SNOWFLAKE = /^\d{15,25}$/;
const GUILD = /^discord:(\d{15,25})$/;
const CHANNEL = /^discord:(\d{15,25})\/(\d{15,25})$/;

export function workspaceId(guildId: string): string {
  return `discord:${guildId}`;
}

export function guildOf(workspace: string): string | null {
  return GUILD.exec(workspace)?.[1] ?? null;
}

export function channelId(guildId: string, channel: string): string {
  return `discord:${guildId}/${channel}`;
}

export function parseChannelId(id: string): DiscordChannelRef | null {
  const m = CHANNEL.exec(id);
  return m?.[1] && m[2] ? { guildId: m[1], channelId: m[2] } : null;
}

export function isSnowflake(id: string): boolean {
  return SNOWFLAKE.test(id);
}

/** Buttons carry `<actionId>:<value>` as their custom_id (Discord allows 100 characters). */
export const CUSTOM_ID_MAX = 100;

export function customId(actionId: string, value: string): string {
  return `${actionId}:${value}`;
}

export function parseCustomId(id: string): { actionId: string; value: string } {
  const at = id.indexOf(':');
  return at < 0 ? { actionId: id, value: '' } : { actionId: id.slice(0, at), value: id.slice(at + 1) };
}
