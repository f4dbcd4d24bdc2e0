// Names are asked of the platform once and kept with expiry, in a bounded cache.
import { describe, expect, it } from 'vitest';
import { People, TtlCache } from '../../src/chat/people.js';

describe('TtlCache', () => {
  it('forgets an entry once it expired', () => {
    let now = 0;
    const cache = new TtlCache<string>({ max: 10, ttlMs: 1_000, now: () => now });
    cache.set('a', 'alice');
    now = 999;
    expect(cache.get('a')).toBe('alice');
    now = 1_000;
    expect(cache.get('a')).toBeUndefined();
  });

  it('stays within its bound, dropping the least recently used entry', () => {
    const cache = new TtlCache<number>({ max: 2, ttlMs: 60_000 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c')]).toEqual([1, 3]);
  });
});

describe('People', () => {
  const directory = (names: Record<string, string>, opts: { now?: () => number; fail?: boolean } = {}) => {
    const asked: string[] = [];
    const people = new People({
      lookup: async (_ws, id) => {
        asked.push(id);
        if (opts.fail) throw new Error('platform down');
        return names[id] ?? null;
      },
      ttlMs: 1_000, missTtlMs: 100, now: opts.now,
    });
    return { people, asked };
  };

  it('asks once for a name, however many ask at the same time', async () => {
    const { people, asked } = directory({ U0BOB: 'bob' });
    expect(await Promise.all([people.name('slack:T1', 'U0BOB'), people.name('slack:T1', 'U0BOB')])).toEqual(['bob', 'bob']);
    expect(await people.name('slack:T1', 'U0BOB')).toBe('bob');
    expect(asked).toEqual(['U0BOB']);
  });

  it('asks again after the name expired, and sooner for someone unknown', async () => {
    let now = 0;
    const { people, asked } = directory({ U0BOB: 'bob' }, { now: () => now });
    await people.name('slack:T1', 'U0BOB');
    expect(await people.name('slack:T1', 'U0GHOST')).toBe('U0GHOST');
    now = 150;
    await people.name('slack:T1', 'U0BOB');
    await people.name('slack:T1', 'U0GHOST');
    now = 1_200;
    await people.name('slack:T1', 'U0BOB');
    expect(asked).toEqual(['U0BOB', 'U0GHOST', 'U0GHOST', 'U0BOB']);
  });

  it('shows the id while the platform cannot be asked, and does not keep that', async () => {
    const { people, asked } = directory({}, { fail: true });
    expect(await people.name('slack:T1', 'U0BOB')).toBe('U0BOB');
    expect(await people.name('slack:T1', 'U0BOB')).toBe('U0BOB');
    expect(asked).toHaveLength(2);
  });

  it('keeps workspaces apart, and names Tacit itself without asking', async () => {
    const { people, asked } = directory({ U0BOB: 'bob' });
    await people.name('slack:T1', 'U0BOB');
    await people.name('slack:T2', 'U0BOB');
    expect(await people.name('slack:T1', 'tacit')).toBe('Tacit');
    expect(asked).toEqual(['U0BOB', 'U0BOB']);
  });

  it('names the author of a message the adapter knew only by id', async () => {
    const { people } = directory({ U0BOB: 'bob' });
    const message = { workspaceId: 'slack:T1', channelId: 'c', messageId: 'm', threadId: null, author: { id: 'U0BOB', name: 'U0BOB', isBot: false }, text: 'hi', mentionsTacit: false, raw: {} };
    expect((await people.named(message)).author.name).toBe('bob');
    const named = { ...message, author: { ...message.author, name: 'Robert' } };
    expect(await people.named(named)).toBe(named);
  });
});

describe('People.named', () => {
  it('does not hold a message for a slow lookup: the id stands, and the name is cached for later', async () => {
    let release: (name: string) => void = () => undefined;
    const people = new People({ lookup: () => new Promise<string>((resolve) => { release = resolve; }), namedWithinMs: 20 });
    const message = { workspaceId: 'slack:T1', channelId: 'c', messageId: 'm', threadId: null, author: { id: 'U0BOB', name: 'U0BOB', isBot: false }, text: 'hi', mentionsTacit: false, raw: {} };
    expect((await people.named(message)).author.name).toBe('U0BOB');
    release('bob');
    expect(await people.name('slack:T1', 'U0BOB')).toBe('bob');
  });
});
