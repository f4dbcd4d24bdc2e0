// What each decision tool call does: validated (zod) and checked against this tick's context — its
// incidents, events, the workspace's actions and people — before it becomes an intent. An invalid call
// becomes an error result for the model and changes nothing.
import type { ToolUseBlock } from '@anthropic-ai/sdk/resources/messages/messages';
import type { Intent } from '../../core/decisions.js';
import { restrictLinks } from '../../core/links.js';
import { redactSecrets } from '../../core/redact.js';
import { healthNoticeKey, tracksHealth } from '../../core/repo-health.js';
import type { DecideContext } from '../port.js';
import { decisionTools } from './tools.js';

export interface ToolOutcome {
  intent?: Intent;
  quiet?: boolean;
  note?: string;
  error?: string;
  /** notify_person named someone outside the workspace's people: refused, and worth a log line. */
  refusedPerson?: string;
}

export function handleDecisionTool(use: ToolUseBlock, ctx: DecideContext, hosts: string[]): ToolOutcome {
  const schema = decisionTools[use.name as keyof typeof decisionTools];
  if (!schema) return { error: `unknown tool ${use.name}` };
  const parsed = schema.safeParse(use.input);
  if (!parsed.success) return { error: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const input = parsed.data as Record<string, unknown>;
  switch (use.name) {
    case 'stay_quiet':
      // The reason is model text shown later by `@tacit why`: no links, no secrets.
      return { quiet: true, note: `stayed quiet: ${cleanOutput(String(input.reason), [])}` };
    case 'post_summary': {
      const incidentId = String(input.incidentId);
      if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
      return { intent: { type: 'post_summary', incidentId, text: cleanOutput(String(input.text), hosts) } };
    }
    case 'post_notice': {
      const event = ctx.events.find((e) => e.id === Number(input.eventId));
      if (!event || event.payload.kind !== 'repo') return { error: `no repository event ${String(input.eventId)} in this context` };
      // CI is told as a branch's change of state, keyed by that state: a branch already red is no news.
      const health = ctx.repoHealth?.find((c) => c.eventId === event.id);
      if (ctx.repoHealth && tracksHealth(event.payload) && !health) {
        return { error: `event ${event.id} changes nothing: ${event.payload.branch ?? 'the branch'} is already ${event.payload.outcome === 'failure' ? 'red' : 'green'}, people were told` };
      }
      const key = health ? healthNoticeKey(health) : `repo-event:${event.id}`;
      return { intent: { type: 'notice', channelId: event.payload.channelId, key, text: cleanOutput(String(input.text), hosts) } };
    }
    case 'post_digest':
      if (!ctx.digest) return { error: 'no digest is due now' };
      return { intent: { type: 'digest', channelId: ctx.digest.channelId, date: ctx.digest.date, text: cleanOutput(String(input.text), hosts) } };
    case 'attach_file': {
      const incidentId = String(input.incidentId);
      if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
      const content = redactSecrets(String(input.content)).text;
      return { intent: { type: 'attach_file', incidentId, filename: String(input.filename), content } };
    }
    case 'notify_person':
      return notifyPerson(input, ctx, hosts);
    case 'propose_action': {
      // Only actions this workspace has; their parameters are validated again by the registry.
      const action = String(input.action);
      if (!(ctx.actions ?? []).some((a) => a.name === action)) return { error: `no action ${action} here; available: ${(ctx.actions ?? []).map((a) => a.name).join(', ') || 'none'}` };
      const incidentId = typeof input.incidentId === 'string' && ctx.incidents.has(input.incidentId) ? input.incidentId : undefined;
      return {
        intent: { type: 'propose_action', action, params: input.params as Record<string, unknown>, reason: cleanOutput(String(input.reason), hosts), ...(incidentId ? { incidentId } : {}) },
        note: `proposed ${action}`,
      };
    }
    case 'remember': {
      const i = input as { topic: string; hint: string; body: string; sources: string[] };
      return { intent: { type: 'remember', topic: redactSecrets(i.topic).text, hint: redactSecrets(i.hint).text, body: redactSecrets(i.body).text, sources: i.sources } };
    }
    default:
      return { error: `unknown tool ${use.name}` };
  }
}

/**
 * A DM reaches only the workspace's on-call and approvers (by id, from its settings). Any other id —
 * typically one an alert or a chat message put in front of the model — is refused.
 */
function notifyPerson(input: Record<string, unknown>, ctx: DecideContext, hosts: string[]): ToolOutcome {
  const incidentId = String(input.incidentId);
  if (!ctx.incidents.has(incidentId)) return { error: `no incident ${incidentId} in this context` };
  const personId = String(input.personId);
  const people = ctx.people ?? [];
  if (!people.some((p) => p.id === personId)) {
    const shown = cleanOutput(personId, []).slice(0, 64);
    return {
      error: `${shown} is not someone you may notify here; you may notify: ${people.map((p) => `${p.id} (${p.role})`).join(', ') || 'nobody'}`,
      note: `refused notify_person to ${shown}: not the on-call or an approver`,
      refusedPerson: shown,
    };
  }
  return { intent: { type: 'notify_person', personId, incidentId, text: cleanOutput(String(input.text), hosts) } };
}

/** What Claude wrote, made safe to post: secrets redacted, links only to known hosts, no images. */
export function cleanOutput(text: string, hosts: string[]): string {
  return restrictLinks(redactSecrets(text).text, hosts).text;
}
