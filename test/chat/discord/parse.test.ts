// Discord messages and commands into the neutral model: ids prefixed by guild, threads belonging to
// their parent channel, bots and DMs skipped, and `/tacit` options turned into the command's text.
import { describe, expect, it } from 'vitest';
import { commandText, parseDiscordMessage, TACIT_COMMAND, type DiscordMessage } from '../../../src/chat/discord/parse.js';
import { channelId, guildOf, parseChannelId, workspaceId } from '../../../src/chat/discord/types.js';

const BOT = '100000000000000001';
const message = (over: Partial<DiscordMessage> = {}): DiscordMessage => ({
  id: '300000000000000001', channelId: '200000000000000001', guildId: '400000000000000001', content: `<@${BOT}> hi there`,
  system: false, webhookId: null, editedTimestamp: null,
  author: { id: '500000000000000001', username: 'alice', globalName: 'Alice', bot: false },
  mentions: { users: { has: (id: string) => id === BOT } },
  channel: { isThread: () => false },
  ...over,
});

describe('Discord parsing', () => {
  it('encodes and decodes workspace and channel ids in one place', () => {
    expect(workspaceId('400000000000000001')).toBe('discord:400000000000000001');
    expect(guildOf('discord:400000000000000001')).toBe('400000000000000001');
    expect(parseChannelId(channelId('400000000000000001', '200000000000000001'))).toEqual({ guildId: '400000000000000001', channelId: '200000000000000001' });
    expect(parseChannelId('slack:T1/C1')).toBeNull();
  });

  it('takes a mention with Tacit’s own mention removed', () => {
    const parsed = parseDiscordMessage(message(), BOT);
    expect(parsed).toMatchObject({ kind: 'message', message: { workspaceId: 'discord:400000000000000001', channelId: 'discord:400000000000000001/200000000000000001', mentionsTacit: true, text: 'hi there', threadId: null, author: { name: 'Alice' } } });
  });

  it('puts a thread message in its parent channel, with the thread id', () => {
    const parsed = parseDiscordMessage(message({ channelId: '600000000000000001', content: 'ok', mentions: { users: { has: () => false } }, channel: { isThread: () => true, parentId: '200000000000000001' } }), BOT);
    expect(parsed).toMatchObject({ kind: 'message', message: { channelId: 'discord:400000000000000001/200000000000000001', threadId: '600000000000000001', mentionsTacit: false } });
  });

  it('skips its own messages, other bots’, webhooks’, system messages and DMs', () => {
    expect(parseDiscordMessage(message({ author: { id: BOT, username: 'tacit', globalName: null, bot: true } }), BOT)).toMatchObject({ kind: 'ignored', reason: 'Tacit wrote it' });
    expect(parseDiscordMessage(message({ author: { id: '7', username: 'ci', globalName: null, bot: true } }), BOT).kind).toBe('ignored');
    expect(parseDiscordMessage(message({ webhookId: '8' }), BOT).kind).toBe('ignored');
    expect(parseDiscordMessage(message({ system: true }), BOT).kind).toBe('ignored');
    expect(parseDiscordMessage(message({ guildId: null }), BOT).kind).toBe('ignored');
    expect(parseDiscordMessage(message(), BOT, { edited: true }).kind).toBe('edited');
  });

  it('turns /tacit options into the same text as every other platform', () => {
    expect(commandText([{ name: 'status', type: 1, options: [] }])).toBe('status');
    expect(commandText([{ name: 'pause', type: 1, options: [{ name: 'duration', type: 3, value: '2h' }, { name: 'here', type: 5, value: true }] }])).toBe('pause 2h here');
    expect(commandText([{ name: 'connect', type: 1, options: [{ name: 'kind', type: 3, value: 'github' }, { name: 'channel', type: 7, value: '200000000000000001' }, { name: 'secret', type: 3, value: 'abc' }] }])).toBe('connect github <#200000000000000001> secret=abc');
    expect(commandText([{ name: 'budget', type: 1, options: [{ name: 'posts', type: 4, value: 3 }] }])).toBe('budget 3');
    const names = (TACIT_COMMAND.options ?? []).map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['status', 'pause', 'resume', 'connect', 'quiet-hours', 'budget', 'memory', 'forget', 'digest']));
  });
});
