// People by name: what the platform calls a person (Slack users.info, Discord member, playground
// user), asked once and kept for a while, so cards, approvals and DMs say "bob", not "U0BOB".
// In-process and bounded (an LRU with expiry): a name is cheap to ask again, and a stale one for an
// hour is harmless; nothing here is needed for correctness, so it need not survive a restart.
import type { ChatAdapter, InboundMessage, Platform } from './port.js';

/** A bounded map whose entries expire: the least recently used entry goes first when it is full. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly opts: { max: number; ttlMs: number; now?: () => number }) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    if (hit.until <= this.now()) return undefined;
    this.entries.set(key, hit); // most recently used last
    return hit.value;
  }

  set(key: string, value: V, ttlMs = this.opts.ttlMs): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.now() + ttlMs });
    while (this.entries.size > this.opts.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

export interface PeopleOptions {
  /** The platform's answer (the workspace's adapter personName), null when it does not know the person. */
  lookup(workspaceId: string, personId: string): Promise<string | null>;
  /** How long a name is kept (default 1 h); an unknown person is asked again after `missTtlMs` (5 min). */
  ttlMs?: number;
  missTtlMs?: number;
  /** Names kept at most (default 10,000). */
  max?: number;
  now?: () => number;
  /**
   * How long `named` waits for a name before storing a message with the id (default 300 ms): a
   * message is stored before Slack's 3 s deadline whatever users.info does; the name is cached anyway.
   */
  namedWithinMs?: number;
  /** Told when the platform could not be asked (the id is shown meanwhile). */
  onError?(err: unknown, workspaceId: string, personId: string): void;
}

/** Ids that are not people on any platform: shown as they are. */
const NOT_A_PERSON = new Set(['tacit', 'system', '']);

export class People {
  private readonly names: TtlCache<string | null>;
  private readonly asking = new Map<string, Promise<string | null>>();

  constructor(private readonly opts: PeopleOptions) {
    this.names = new TtlCache({ max: opts.max ?? 10_000, ttlMs: opts.ttlMs ?? 3_600_000, now: opts.now });
  }

  /** The display name, or the id itself when the platform does not know it (or cannot be asked). */
  async name(workspaceId: string, personId: string): Promise<string> {
    if (NOT_A_PERSON.has(personId)) return personId === 'tacit' ? 'Tacit' : personId;
    return (await this.known(workspaceId, personId)) ?? personId;
  }

  /** The display name, or null when unknown. Concurrent asks for one person share one lookup. */
  async known(workspaceId: string, personId: string): Promise<string | null> {
    const key = `${workspaceId}\u0000${personId}`;
    const cached = this.names.get(key);
    if (cached !== undefined) return cached;
    const pending = this.asking.get(key);
    if (pending) return pending;
    const ask = this.opts
      .lookup(workspaceId, personId)
      .then((name) => {
        this.names.set(key, name, name === null ? (this.opts.missTtlMs ?? 300_000) : undefined);
        return name;
      })
      .catch((err: unknown) => {
        this.opts.onError?.(err, workspaceId, personId);
        return null; // not cached: the next ask tries again
      })
      .finally(() => this.asking.delete(key));
    this.asking.set(key, ask);
    return ask;
  }

  /** Names several people at once (for a list of approvers): `bob, alice`. */
  async list(workspaceId: string, personIds: readonly string[]): Promise<string[]> {
    return Promise.all(personIds.map((id) => this.name(workspaceId, id)));
  }

  /** The message with its author named, when the adapter knew only the id (and the name comes in time). */
  async named(message: InboundMessage): Promise<InboundMessage> {
    if (message.author.name !== message.author.id) return message;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.opts.namedWithinMs ?? 300);
      timer.unref();
    });
    const name = await Promise.race([this.known(message.workspaceId, message.author.id), late]);
    clearTimeout(timer);
    return name ? { ...message, author: { ...message.author, name } } : message;
  }
}

/** A workspace's adapter: its platform is its id's prefix (`slack:T…`, `discord:…`, `playground:…`). */
export function adapterOf(adapters: Partial<Record<Platform, ChatAdapter>>, workspaceId: string): ChatAdapter | undefined {
  const prefix = workspaceId.split(':')[0];
  return prefix === 'slack' || prefix === 'discord' || prefix === 'playground' ? adapters[prefix] : undefined;
}

/** The People of every adapter, asking each workspace's own platform. */
export function peopleOver(adapters: Partial<Record<Platform, ChatAdapter>>, onError?: PeopleOptions['onError']): People {
  return new People({
    lookup: async (workspaceId, personId) => (await adapterOf(adapters, workspaceId)?.personName?.(workspaceId, personId)) ?? null,
    onError,
  });
}
