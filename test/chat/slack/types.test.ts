// Slack ids round-trip through Tacit's prefixed form, scoped by team.
import { describe, expect, it } from 'vitest';
import { channelId, parseChannelId, teamOf, workspaceId } from '../../../src/chat/slack/types.js';

describe('Slack ids', () => {
  it('round-trips workspaces and team-scoped channels', () => {
    expect(teamOf(workspaceId('T024BE7LD'))).toBe('T024BE7LD');
    expect(parseChannelId(channelId('T024BE7LD', 'C0123ABC'))).toEqual({ teamId: 'T024BE7LD', channelId: 'C0123ABC' });
  });

  it('rejects ids from other platforms or malformed ones', () => {
    expect(teamOf('discord:123')).toBeNull();
    expect(parseChannelId('playground:incidents')).toBeNull();
    expect(parseChannelId('slack:T1/X9')).toBeNull();
  });
});
