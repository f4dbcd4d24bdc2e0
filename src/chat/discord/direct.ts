// Direct messages on Discord belong to no guild, but Tacit's workspaces are guilds: a DM is taken as
// asked in the guild Tacit last opened that DM for, else the first guild Tacit shares with its author
// (one member lookup per guild, remembered; with shards, the guilds of other processes' shards are
// listed over REST, since DMs arrive on shard 0 only). Which channels are DMs is remembered too, so replies go
// into the DM itself (DMs have no threads) and never ping by mention (the DM notifies by itself).
import { DiscordAPIError, Routes, type Client } from 'discord.js';

const UNKNOWN_MEMBER = 10007;
const REMEMBERED = 10_000;
/** GET /users/@me/guilds returns at most 200 guilds a page. */
const GUILD_PAGE = 200;

export class DirectMessages {
  private readonly channels = new Set<string>();
  private readonly guildOfPerson = new Map<string, string>();

  /** `sharded`: this process's gateway carries only some guilds; the others are listed over REST. */
  constructor(private readonly client: Client, private readonly sharded = false) {}

  /** Tacit opened (or found) the DM with `personId` for a workspace's guild. */
  opened(dmChannel: string, personId: string, guildId: string): void {
    this.remember(dmChannel);
    if (this.guildOfPerson.size >= REMEMBERED) this.guildOfPerson.clear();
    this.guildOfPerson.set(personId, guildId);
  }

  /** Known to be a DM without asking Discord. */
  known(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** Whether a channel is a DM: remembered, in the gateway's cache, or (after a restart) asked once. */
  async isDirect(channel: string): Promise<boolean> {
    if (this.channels.has(channel)) return true;
    const cached = this.client.channels.cache.get(channel);
    if (cached) return cached.isDMBased();
    const fetched = await this.client.channels.fetch(channel);
    const direct = Boolean(fetched?.isDMBased());
    if (direct) this.remember(channel);
    return direct;
  }

  /** The guild a DM from `personId` is asked in; undefined when Tacit shares none with them. */
  async guildFor(dmChannel: string, personId: string): Promise<string | undefined> {
    this.remember(dmChannel);
    const known = this.guildOfPerson.get(personId);
    if (known && (this.sharded || this.client.guilds.cache.has(known))) return known;
    for (const guild of this.client.guilds.cache.values()) {
      if (!(await this.isMember(guild.id, personId))) continue;
      this.guildOfPerson.set(personId, guild.id);
      return guild.id;
    }
    // Discord sends DMs to shard 0 only: a person may share only guilds of another process's shards.
    if (!this.sharded) return undefined;
    for (let after = '0'; ;) {
      const page = (await this.client.rest.get(Routes.userGuilds(), { query: new URLSearchParams({ after, limit: String(GUILD_PAGE) }) })) as { id: string }[];
      for (const { id } of page) {
        if (this.client.guilds.cache.has(id) || !(await this.isMember(id, personId))) continue;
        this.guildOfPerson.set(personId, id);
        return id;
      }
      const last = page.at(-1);
      if (!last || page.length < GUILD_PAGE) return undefined;
      after = last.id;
    }
  }

  private async isMember(guildId: string, personId: string): Promise<boolean> {
    try {
      await this.client.rest.get(Routes.guildMember(guildId, personId));
      return true;
    } catch (err) {
      if (err instanceof DiscordAPIError && err.code === UNKNOWN_MEMBER) return false;
      throw err;
    }
  }

  private remember(channel: string): void {
    if (this.channels.size >= REMEMBERED) this.channels.clear();
    this.channels.add(channel);
  }
}
