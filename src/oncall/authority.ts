// Who may acknowledge, resolve or declare an incident: any member of the workspace. Guests and
// people from another organisation may not (the trust boundary of core/roles.ts), whatever they
// click or type. Pure: the adapters fill in what the platform says about the person.
import type { Requester } from '../core/roles.js';

export type RespondVerb = 'ack' | 'resolve' | 'declare';

export type RespondDecision = { allowed: true } | { allowed: false; reason: 'external' | 'guest'; message: string };

const doing: Record<RespondVerb, string> = { ack: 'acknowledge', resolve: 'resolve', declare: 'declare' };

export function mayRespond(person: Requester, verb: RespondVerb): RespondDecision {
  if (person.external) {
    return { allowed: false, reason: 'external', message: `People from another organisation cannot ${doing[verb]} incidents in this workspace; nothing was done.` };
  }
  if (person.guest) return { allowed: false, reason: 'guest', message: `Guests cannot ${doing[verb]} incidents in this workspace; nothing was done.` };
  return { allowed: true };
}
