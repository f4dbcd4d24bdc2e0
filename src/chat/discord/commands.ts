// Registers `/tacit` with Discord only when it changed. Discord counts command creates per day and
// a global overwrite on every start churns every guild's command cache, so start-up reads what Discord
// has (GET, one request) and compares it with what the last registration stored in Redis: the hash of
// the definition and the version Discord gave it. Any change on either side (a new definition, an edit
// in the developer portal, another deployment) makes a registration; a lost Redis key costs one.
import { createHash } from 'node:crypto';
import { Routes, type REST } from 'discord.js';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../log.js';
import { TACIT_COMMAND } from './parse.js';

const RegisteredCommands = z.array(z.object({ id: z.string(), name: z.string(), version: z.string() }).passthrough());
const StoredRegistration = z.object({ hash: z.string(), version: z.string() });

export interface CommandSyncOptions {
  rest: REST;
  applicationId: string;
  redis: Redis;
  /** Where the last registration's hash and version are kept. */
  key: string;
  log: Logger;
  /** The commands to register (defaults to `/tacit`). */
  commands?: readonly { name: string }[];
}

/** A stable hash of a JSON value: keys sorted, so the same definition always hashes the same. */
export function definitionHash(value: unknown): string {
  const canonical = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
    }
    return JSON.stringify(v ?? null);
  };
  return createHash('sha256').update(canonical(value)).digest('hex');
}

async function stored(redis: Redis, key: string, log: Logger): Promise<z.infer<typeof StoredRegistration> | null> {
  try {
    const raw = await redis.get(key);
    const parsed = raw ? StoredRegistration.safeParse(JSON.parse(raw)) : null;
    return parsed?.success ? parsed.data : null;
  } catch (err) {
    log.warn({ err }, 'could not read the stored /tacit registration; registering again');
    return null;
  }
}

/** `unchanged`: Discord has exactly what Tacit registered last time; otherwise it is registered now. */
export async function syncCommands(opts: CommandSyncOptions): Promise<'registered' | 'unchanged'> {
  const commands = opts.commands ?? [TACIT_COMMAND];
  const hash = definitionHash(commands);
  const route = Routes.applicationCommands(opts.applicationId);
  const [last, current] = await Promise.all([stored(opts.redis, opts.key, opts.log), opts.rest.get(route).then((r) => RegisteredCommands.parse(r))]);
  const versions = current.map((c) => `${c.name}@${c.version}`).sort().join(',');
  const sameNames = current.length === commands.length && commands.every((c) => current.some((x) => x.name === c.name));
  if (last && sameNames && last.hash === hash && last.version === versions) return 'unchanged';

  const registered = RegisteredCommands.parse(await opts.rest.put(route, { body: commands }));
  const version = registered.map((c) => `${c.name}@${c.version}`).sort().join(',');
  await opts.redis.set(opts.key, JSON.stringify({ hash, version })).catch((err: unknown) => {
    opts.log.warn({ err }, 'could not store the /tacit registration; the next start registers again');
  });
  opts.log.info({ commands: commands.map((c) => c.name) }, 'discord commands registered');
  return 'registered';
}
