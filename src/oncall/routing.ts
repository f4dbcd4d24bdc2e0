// Routing rules where they take effect: a new incident takes the channel of the first matching rule
// (core/routing.ts), and incidents whose rule says "proactive off" are tracked but never posted
// about. Also reading and writing the rules (chat and admin API share these).
import { and, eq } from 'drizzle-orm';
import type { AlertInput, Incident } from '../core/incidents.js';
import { incidentGroupKey } from '../core/incidents.js';
import { routeSchema, routesSchema, type Matcher, type Route } from '../core/oncall-settings.js';
import type { PolicyResult } from '../core/policy.js';
import { incidentSubject, pickRoute } from '../core/routing.js';
import type { Db } from '../db/client.js';
import { channels, sources } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';
import { RouteParseError } from './errors.js';

/**
 * Incidents created by this tick's alerts take their rule's channel (in place in `changed`). Only at
 * creation: a card already posted stays where people saw it.
 */
export function routeNewIncidents(changed: Map<string, Incident>, knownIds: ReadonlySet<string>, alerts: readonly AlertInput[], routes: readonly Route[]): void {
  if (routes.length === 0) return;
  for (const [key, incident] of changed) {
    if (knownIds.has(incident.id)) continue;
    const first = alerts.find((a) => incidentGroupKey(a.alert) === incident.groupKey)?.alert;
    if (!first) continue;
    const picked = pickRoute(routes, { sourceId: first.sourceId, sourceKind: first.source, labels: first.labels, severity: incident.severity });
    if (picked.kind === 'matched' && picked.route.channelId) changed.set(key, { ...incident, channelId: picked.route.channelId });
  }
}

/** Moves every message about an incident whose rule says "proactive off" from allowed to vetoed. */
export async function vetoQuietRoutes(db: Db, workspaceId: string, routes: readonly Route[], result: PolicyResult, byId: ReadonlyMap<string, Incident>): Promise<PolicyResult> {
  if (!routes.some((r) => !r.proactive)) return result;
  const kinds = new Map((await db.select({ id: sources.id, kind: sources.kind }).from(sources).where(eq(sources.workspaceId, workspaceId))).map((s) => [s.id, s.kind]));
  const quiet = new Map<string, number>();
  for (const m of result.allowed) {
    const incident = m.incidentId ? byId.get(m.incidentId) : undefined;
    if (!incident || quiet.has(incident.id)) continue;
    const picked = pickRoute(routes, incidentSubject(incident, kinds));
    if (picked.kind === 'matched' && !picked.route.proactive) quiet.set(incident.id, picked.index);
  }
  if (quiet.size === 0) return result;
  const allowed = result.allowed.filter((m) => !(m.incidentId && quiet.has(m.incidentId)));
  const vetoed = result.allowed
    .filter((m) => m.incidentId && quiet.has(m.incidentId))
    .map((message) => ({ message, reason: `routing rule ${(quiet.get(message.incidentId ?? '') ?? 0) + 1}: proactive off (tracked, never posted)` }));
  return { ...result, allowed, vetoed: [...result.vetoed, ...vetoed] };
}

/**
 * `team=payments severity=critical service=~"pay.*" source=alertmanager #payments-oncall`, or `… off`
 * for proactive off. The channel is returned as written, for the caller to resolve.
 */
export function parseRouteWords(words: readonly string[]): { route: Omit<Route, 'channelId'>; channel: string | null } {
  const matchers: Matcher[] = [];
  let source: string | undefined;
  let channel: string | null = null;
  let proactive = true;
  for (const raw of words) {
    const word = raw.trim();
    if (!word || word === '→' || word === '->') continue;
    if (word.startsWith('#') || word.startsWith('<#')) {
      channel = word;
      continue;
    }
    if (/^(off|quiet|proactive=off)$/i.test(word)) {
      proactive = false;
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$/.exec(word);
    if (!m) throw new RouteParseError(`I could not read "${word}": use label=value, label!=value, label=~regex, label!~regex, source=…, severity=…, a #channel or off.`);
    const [, name = '', op = '=', rawValue = ''] = m;
    const value = rawValue.replace(/^"(.*)"$/, '$1');
    // `severity=critical` stays a matcher: it is matched against the normalised severity (core/routing.ts).
    if (name === 'source' && op === '=') source = value;
    else matchers.push({ name, op: op as Matcher['op'], value });
  }
  const parsed = routeSchema.safeParse({ source, matchers, proactive });
  if (!parsed.success) throw new RouteParseError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (!channel && proactive) throw new RouteParseError('Say where it goes (a #channel) or `off` for "track, never post".');
  return { route: parsed.data, channel };
}

/** `#name` or Slack's `<#C0123|name>` to a channel id of the workspace, or null when Tacit is not there. */
export async function resolveChannel(db: Db, workspaceId: string, written: string): Promise<{ id: string; name: string } | null> {
  const escaped = /^<#([A-Z0-9]+)(?:\|([^>]*))?>$/.exec(written);
  const rows = await db.select({ id: channels.id, name: channels.name }).from(channels).where(eq(channels.workspaceId, workspaceId));
  if (escaped) return rows.find((c) => c.id.endsWith(`/${escaped[1] ?? ''}`) || c.id.endsWith(`:${escaped[1] ?? ''}`) || (escaped[2] && c.name === escaped[2])) ?? null;
  return rows.find((c) => c.name === written.replace(/^#/, '')) ?? null;
}

/** Replaces the workspace's rules after checking each rule's channel is one Tacit is in; false for no such workspace. */
export async function saveRoutes(db: Db, workspaceId: string, routes: readonly Route[]): Promise<boolean> {
  const list = routesSchema.parse(routes);
  const ids = [...new Set(list.flatMap((r) => (r.channelId ? [r.channelId] : [])))];
  for (const id of ids) {
    const [found] = await db.select({ id: channels.id }).from(channels).where(and(eq(channels.workspaceId, workspaceId), eq(channels.id, id)));
    if (!found) throw new RouteParseError(`channel ${id} is not one Tacit is in for this workspace`);
  }
  return patchWorkspaceSettings(db, workspaceId, { routes: list });
}

/** Channel id → name, for describing rules. */
export async function channelNames(db: Db, workspaceId: string): Promise<(id: string) => string> {
  const rows = await db.select({ id: channels.id, name: channels.name }).from(channels).where(eq(channels.workspaceId, workspaceId));
  const names = new Map(rows.map((c) => [c.id, c.name]));
  return (id) => names.get(id) ?? id;
}
