// discord.js's REST client sends through undici 6's request(). Without a dispatcher of its own it
// takes the process-wide one, which is whichever undici was loaded first: Slack's Socket Mode brings
// undici 7, whose Agent does not accept the multipart body discord.js builds (it fails with "action
// is not a function"), so every Discord post with a file failed whenever Slack's client happened to
// load first. Discord therefore gets its own Agent, from the undici that discord.js itself resolves.
import { createRequire } from 'node:module';
import type { RESTOptions } from 'discord.js';

type Dispatcher = NonNullable<RESTOptions['agent']>;
type AgentClass = new () => Dispatcher & { destroy(): Promise<void> };

const fromDiscordJs = createRequire(createRequire(import.meta.url).resolve('discord.js'));
const fromRest = createRequire(fromDiscordJs.resolve('@discordjs/rest'));
const { Agent } = fromRest('undici') as { Agent: AgentClass };

/** A dispatcher for one Discord client (undici's defaults, as discord.js's own would be); destroy it with the client. */
export function discordAgent(): Dispatcher & { destroy(): Promise<void> } {
  return new Agent();
}
