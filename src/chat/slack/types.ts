// Slack ids as Tacit stores them: prefixed, and channels scoped by team (a Slack Connect channel has
// the same id in every organisation that shares it). One place encodes and decodes them.
export interface SlackChannelRef {
  teamId: string;
  channelId: string;
}

const TEAM = /^slack:(T[A-Z0-9]+)$/;
const CHANNEL = /^slack:(T[A-Z0-9]+)\/([CDG][A-Z0-9]+)$/;

export function workspaceId(teamId: string): string {
  return `slack:${teamId}`;
}

export function teamOf(workspace: string): string | null {
  return TEAM.exec(workspace)?.[1] ?? null;
}

export function channelId(teamId: string, channel: string): string {
  return `slack:${teamId}/${channel}`;
}

export function parseChannelId(id: string): SlackChannelRef | null {
  const m = CHANNEL.exec(id);
  return m?.[1] && m[2] ? { teamId: m[1], channelId: m[2] } : null;
}
