// The only ways Claude can speak or act: tools with zod-validated inputs. Free text outside a tool
// call is discarded; an invalid call is answered with an error result and changes nothing.
import { z } from 'zod';
import type { Tool } from '@anthropic-ai/sdk/resources/messages/messages';

const text = z.string().trim().min(1).max(3_000);

const recall = z
  .object({ id: z.string().regex(/^mem_[0-9a-f]{6,32}$/, 'a memory id from the index, like mem_1a2b3c4d5e') })
  .describe("Read-only: load one memory entry's body by its id from the memory index. It is re-checked against live state first.");

export const decisionTools = {
  stay_quiet: z.object({ reason: z.string().trim().min(1).max(500) }).describe('Say nothing now. The usual and right answer when nothing new matters.'),
  post_summary: z
    .object({ incidentId: z.string().min(1), text })
    .describe("Post a summary in the incident's thread (its card is created first if needed). Only for incidents in the context."),
  post_notice: z
    .object({ eventId: z.number().int(), text })
    .describe('Post a short notice in the channel about one repository event from the context (CI broken on the default branch, a failed deploy).'),
  post_digest: z
    .object({ text })
    .describe('Post the daily digest, once, only when the prompt says it is due: the last 24 hours from the facts given, in a few lines.'),
  attach_file: z
    .object({ incidentId: z.string().min(1), filename: z.string().regex(/^[\w.-]{1,80}$/), content: z.string().min(1).max(200_000) })
    .describe("Upload a text file (report, timeline, log excerpt) into the incident's thread."),
  notify_person: z
    .object({ personId: z.string().min(1), incidentId: z.string().min(1), text: z.string().trim().min(1).max(500) })
    .describe('Send a direct message to one person who needs to know (the on-call, an approver).'),
  propose_action: z
    .object({ action: z.string().min(1), params: z.record(z.string(), z.unknown()), reason: z.string().min(1).max(500), incidentId: z.string().min(1).optional() })
    .describe('Ask people to approve an action. Nothing runs until an authorised person approves it.'),
  remember: z
    .object({ topic: z.string().min(1).max(100), hint: z.string().min(1).max(200), body: z.string().min(1).max(2_000), sources: z.array(z.string()).min(1) })
    .describe('Stage a memory. It becomes active only after what it records is verified (its message delivered, its action verified). Sources like incident:<id>, repo:<owner/name>, pr:<owner/name>#<n>, alert:<fingerprint>.'),
  recall,
} as const;

export const replyTools = {
  reply: z.object({ text }).describe('Answer the person who mentioned you, in their thread.'),
  list_incidents: z.object({ status: z.enum(['open', 'all']).default('open') }).describe('Read-only: incidents of this workspace.'),
  recent_events: z.object({ limit: z.number().int().min(1).max(50).default(20) }).describe('Read-only: the most recent events (alerts, repo changes).'),
  repo_activity: z.object({ limit: z.number().int().min(1).max(50).default(20) }).describe('Read-only: recent changes in the linked repositories.'),
  recall,
} as const;

export const consolidateTool = z
  .object({
    entries: z
      .array(z.object({
        from: z.array(z.string()).min(1).describe('Ids of the old entries this one replaces: one to keep or rewrite it, several to merge them.'),
        topic: z.string().min(1).max(100),
        hint: z.string().min(1).max(200),
        body: z.string().min(1).max(2_000),
        sources: z.array(z.string()).min(1),
      }))
      .max(500),
    retire: z.array(z.object({ id: z.string(), reason: z.string().min(1).max(300) })).max(500).default([]),
  })
  .describe('The consolidated memory: every entry to keep (with the ids it comes from) and the entries to retire.');

export const triageTool = z
  .object({ worth_it: z.boolean(), reason: z.string().max(300) })
  .describe('Decide whether this situation deserves a careful look by the main model.');

export type DecisionToolName = keyof typeof decisionTools;

/** Anthropic tool definitions from the zod schemas; the last one carries the first cache breakpoint (1 hour). */
export function toolDefinitions(schemas: Record<string, z.ZodType>, cacheLast = true): Tool[] {
  const entries = Object.entries(schemas);
  return entries.map(([name, schema], i) => {
    const { $schema: _omit, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    const tool: Tool = {
      name,
      description: schema.description ?? name,
      input_schema: { ...jsonSchema, type: 'object' } as Tool['input_schema'],
    };
    if (cacheLast && i === entries.length - 1) tool.cache_control = { type: 'ephemeral', ttl: '1h' };
    return tool;
  });
}
