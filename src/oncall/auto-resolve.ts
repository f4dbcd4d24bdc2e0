// Auto-resolve: an open incident from a sender that never says "resolved" closes itself after a
// configurable silence (sync-settings.ts), announced in its thread. Pure: the tick asks which
// incidents are due and when the next one falls due (its wake-up plan), so an idle workspace pays nothing.
import { spanText } from '../core/human-time.js';
import type { Incident } from '../core/incidents.js';
import type { AutoResolvePolicy, SourceKind } from './sync-settings.js';

/**
 * The silence after which this incident resolves itself, or null: declared and storm incidents,
 * incidents with an alert of a kind that says "resolved" itself (or of unknown kind) never do.
 */
export function autoResolveAfterMs(incident: Incident, policy: AutoResolvePolicy): number | null {
  if (incident.kind === 'declared' || incident.kind === 'storm' || incident.stormId) return null;
  const kinds = new Set<SourceKind | undefined>(Object.values(incident.alerts).map((a) => a.source));
  if (kinds.size === 0) return null;
  let after: number | null = null;
  for (const kind of kinds) {
    const ms = kind ? policy[kind] : null;
    if (ms === null) return null;
    after = after === null ? ms : Math.max(after, ms);
  }
  return after;
}

/** When this incident resolves itself if no alert arrives first; null for never. */
export function autoResolveAt(incident: Incident, policy: AutoResolvePolicy): Date | null {
  if (incident.status === 'resolved') return null;
  const after = autoResolveAfterMs(incident, policy);
  if (after === null) return null;
  const since = incident.lastAlertAt ?? incident.startedAt;
  return new Date(since.getTime() + after);
}

export interface AutoResolved {
  incident: Incident;
  silentMs: number;
}

/** Open incidents whose silence has run out, resolved: every alert resolved now, a new version. */
export function dueAutoResolves(incidents: Iterable<Incident>, policy: AutoResolvePolicy, now: Date): AutoResolved[] {
  const out: AutoResolved[] = [];
  for (const i of incidents) {
    const at = autoResolveAt(i, policy);
    if (!at || at > now) continue;
    const since = i.lastAlertAt ?? i.startedAt;
    out.push({ incident: resolvedNow(i, now), silentMs: now.getTime() - since.getTime() });
  }
  return out;
}

/** The earliest auto-resolve deadline among open incidents, for the tick's next wake. */
export function nextAutoResolveAt(incidents: Iterable<Incident>, policy: AutoResolvePolicy, now: Date): Date | null {
  let next: number | null = null;
  for (const i of incidents) {
    const at = autoResolveAt(i, policy);
    if (!at) continue;
    const t = Math.max(at.getTime(), now.getTime());
    next = next === null ? t : Math.min(next, t);
  }
  return next === null ? null : new Date(next);
}

/** The thread's announcement: "Auto-resolved: no alert for 4 h" (the workspace's silence, which has passed). */
export function autoResolveNote(afterMs: number): string {
  return `Auto-resolved: no alert for ${spanText(afterMs)}. If it is still happening, its next alert opens it again (or \`/tacit incident declare\`).`;
}

/** The incident resolved by a person or by silence: its alerts end now, so a repeat of them is no news. */
export function resolvedNow(incident: Incident, now: Date): Incident {
  const alerts = Object.fromEntries(
    Object.entries(incident.alerts).map(([fp, a]) => [fp, a.status === 'firing' ? { ...a, status: 'resolved' as const, endsAt: now.toISOString() } : a]),
  );
  return { ...incident, alerts, status: 'resolved', resolvedAt: now, version: incident.version + 1 };
}
