// Reading a request to the fake Claude the way the model would: which tools it offers, and what the
// cached workspace block says about the actions it may propose and the people it may address. Lets a
// fake handler choose an action and fill its parameters from the request instead of a script.
import type { FakeRequest } from '../fakes/anthropic.js';

export interface ToldAction {
  name: string;
  risk: string;
  schema: JsonSchema;
}

export interface ToldPerson {
  id: string;
  role: string;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

export const toolNames = (req: FakeRequest): string[] => (req.tools ?? []).flatMap((t) => ('name' in t ? [t.name] : []));

/** A triage request offers the triage tool alone (tool use is never forced, so this is how to tell). */
export const isTriage = (req: FakeRequest): boolean => toolNames(req).includes('triage');

function systemText(req: FakeRequest): string {
  return typeof req.system === 'string' ? req.system : (req.system ?? []).map((b) => b.text).join('\n');
}

/** The actions and people the workspace block of the system prompt lists. */
export function workspaceOf(req: FakeRequest): { actions: ToldAction[]; people: ToldPerson[] } {
  const text = systemText(req);
  const actions = [...text.matchAll(/^- ([\w.-]+) \(risk: (\w+);[^\n]*\n {2}params JSON schema: (.+)$/gm)].map((m) => ({
    name: m[1] ?? '', risk: m[2] ?? '', schema: JSON.parse(m[3] ?? '{}') as JsonSchema,
  }));
  const people = [...text.matchAll(/^- ("[^"\n]+"): ([\w-]+)$/gm)].map((m) => ({ id: JSON.parse(m[1] ?? '""') as string, role: m[2] ?? '' }));
  return { actions, people };
}

/** Values for a schema's required properties: from `hints` by property name, else the simplest valid value. */
export function fillParams(schema: JsonSchema, hints: Record<string, unknown> = {}): unknown {
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        const sub = schema.properties?.[key] ?? {};
        out[key] = key in hints ? hints[key] : fillParams(sub, hints);
      }
      return out;
    }
    case 'array':
      return [fillParams(schema.items ?? {}, hints)];
    case 'integer':
    case 'number':
      return Math.min(schema.maximum ?? 60, Math.max(schema.minimum ?? 1, 60));
    case 'boolean':
      return false;
    default:
      return typeof schema.default === 'string' ? schema.default : 'x';
  }
}
