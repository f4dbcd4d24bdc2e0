// Threads are started before the first post into them, never discovered by a failed post: a reply
// to a message whose thread Discord does not know (not in the gateway's cache, not started by this
// process) starts one from that message first. Its name is the root message's headline, cleaned
// (text.ts): a card's title without its status word, markup, mentions or timestamps.
import { DiscordAPIError, Routes, type APIMessage, type Client } from 'discord.js';
import { cardText } from './cards.js';
import { cleanThreadName } from './text.js';

const THREAD_EXISTS = 160004;
/** A day without a message and Discord archives the thread (posting into it opens it again). */
const AUTO_ARCHIVE_MINUTES = 1440;
/** How many thread ids and card headlines this process remembers. */
const REMEMBERED = 5_000;

export class Threads {
  private readonly started = new Set<string>();
  /** Headlines of cards this process posted, by message id: a new thread's name without a lookup. */
  private readonly headlines = new Map<string, string>();

  constructor(private readonly client: Client) {}

  /** Remembers a posted message's headline, for the thread that may start from it. */
  posted(messageId: string, headline: string): void {
    if (this.headlines.size >= REMEMBERED) this.headlines.clear();
    this.headlines.set(messageId, headline);
  }

  /** Makes sure the thread rooted at `messageId` in `parent` exists; an existing one is left as it is. */
  async ensure(parent: string, messageId: string): Promise<void> {
    if (this.started.has(messageId) || this.client.channels.cache.has(messageId)) return;
    const name = this.headlines.get(messageId) ?? (await this.rootName(parent, messageId));
    try {
      await this.client.rest.post(Routes.threads(parent, messageId), { body: { name, auto_archive_duration: AUTO_ARCHIVE_MINUTES } });
    } catch (err) {
      if (!(err instanceof DiscordAPIError && err.code === THREAD_EXISTS)) throw err;
    }
    if (this.started.size >= REMEMBERED) this.started.clear();
    this.started.add(messageId);
  }

  /** After a restart: the root message's text (a card's text displays, or a person's words). */
  private async rootName(parent: string, messageId: string): Promise<string> {
    const root = (await this.client.rest.get(Routes.channelMessage(parent, messageId))) as APIMessage;
    return cleanThreadName(root.content || cardText(root.components ?? []));
  }
}
