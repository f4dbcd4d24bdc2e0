// `/tacit …` commands, the same on every platform. Answers are private to the person who asked.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { channels } from '../db/schema.js';
import { SecretBoxError, type SecretBox } from '../db/secret-box.js';
import { sourceKinds, type SourceKind } from '../sources/formats.js';
import { createSource, SourceSetupError } from '../sources/sources.js';
import type { InboundCommand, InteractionResponse } from './port.js';

export interface CommandDeps {
  db: Db;
  secrets: SecretBox;
  publicUrl: () => string;
}

const usage = [
  'Usage: `/tacit connect <alertmanager|grafana|pagerduty|sentry|generic|github> [#channel] [secret=<sender signing secret>]`',
  'More commands (status, pause, resume, quiet-hours, budget, memory, forget) are on their way.',
].join('\n');

export async function runCommand(deps: CommandDeps, command: InboundCommand): Promise<InteractionResponse> {
  const [verb, ...args] = command.text.trim().split(/\s+/);
  switch (verb?.toLowerCase()) {
    case 'connect':
      return connect(deps, command, args);
    case undefined:
    case '':
    case 'help':
      return { privateText: usage };
    default:
      return { privateText: `I don't know \`/tacit ${verb}\` yet.\n${usage}` };
  }
}

async function connect(deps: CommandDeps, command: InboundCommand, args: string[]): Promise<InteractionResponse> {
  const kind = args[0]?.toLowerCase();
  if (!kind || !sourceKinds.includes(kind as SourceKind)) return { privateText: `Which kind of source?\n${usage}` };
  const channelArg = args.find((a) => a.startsWith('#'));
  const secret = args.find((a) => a.startsWith('secret='))?.slice('secret='.length);
  let channelId = command.channelId;
  if (channelArg) {
    const [found] = await deps.db
      .select({ id: channels.id })
      .from(channels)
      .where(and(eq(channels.workspaceId, command.workspaceId), eq(channels.name, channelArg.slice(1))));
    if (!found) return { privateText: `I am not in ${channelArg}. Invite me there first, or leave the channel out to use this one.` };
    channelId = found.id;
  }
  try {
    const created = await createSource(
      deps.db,
      deps.secrets,
      { workspaceId: command.workspaceId, kind: kind as SourceKind, channelId, secret },
      deps.publicUrl(),
    );
    return {
      privateText: [
        `Connected a ${kind} source. Only you can see this message; the credentials are shown once.`,
        `URL: ${created.url}`,
        created.token ? `Token: ${created.token}` : undefined,
        created.secret ? `Signing secret: ${created.secret}` : undefined,
        created.instructions,
      ]
        .filter(Boolean)
        .join('\n'),
    };
  } catch (err) {
    if (err instanceof SourceSetupError || err instanceof SecretBoxError) return { privateText: `Could not connect: ${err.message}` };
    throw err;
  }
}
