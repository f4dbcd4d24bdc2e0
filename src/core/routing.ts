// Routing rules: which channel an incident is announced in, or whether Tacit posts about it at all.
// The first rule whose every condition holds decides; without one, the source's channel. Pure.
import type { Matcher, Route } from './oncall-settings.js';
import type { Incident } from './incidents.js';
import type { Severity } from './severity.js';

/** What a rule is matched against: the incident's (first) alert and where it came from. */
export interface RouteSubject {
  sourceId: string;
  /** The source's kind (`alertmanager`, …), when known. */
  sourceKind?: string;
  labels: Readonly<Record<string, string>>;
  severity: Severity;
}

export type RouteResult =
  | { kind: 'default' }
  /** `index` is 0-based; people read it 1-based (`/tacit route remove 2`). */
  | { kind: 'matched'; index: number; route: Route };

const regexCache = new Map<string, RegExp | null>();

function anchored(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      // Alertmanager anchors regex matchers: `=~"pay.*"` must match the whole value.
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null;
    }
    if (regexCache.size > 1_000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** Like Alertmanager: a missing label is the empty string. */
export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return anchored(m.value)?.test(value) ?? false;
    case '!~':
      return !(anchored(m.value)?.test(value) ?? true);
    default: {
      const never: never = m.op;
      throw new Error(`unhandled matcher op ${String(never)}`);
    }
  }
}

export function routeMatches(route: Route, s: RouteSubject): boolean {
  if (route.source !== undefined && route.source !== s.sourceId && route.source !== s.sourceKind) return false;
  if (route.severities && route.severities.length > 0 && !route.severities.includes(s.severity)) return false;
  // `severity` is also a label people match on (`severity=critical`): it means the normalised one.
  const labels = { ...s.labels, severity: s.severity };
  return route.matchers.every((m) => matches(m, labels));
}

export function pickRoute(routes: readonly Route[], s: RouteSubject): RouteResult {
  const index = routes.findIndex((r) => routeMatches(r, s));
  const route = routes[index];
  return route ? { kind: 'matched', index, route } : { kind: 'default' };
}

/** The source id an incident's alerts came from: the first part of its (unbounded) group label. */
export function incidentSourceId(incident: Pick<Incident, 'groupKey' | 'groupLabel'>): string {
  const label = incident.groupLabel ?? incident.groupKey;
  const bar = label.indexOf('|');
  return bar < 0 ? '' : label.slice(0, bar);
}

/** An incident as a routing subject: its first alert's labels, its severity now. */
export function incidentSubject(incident: Incident, sourceKinds: ReadonlyMap<string, string>): RouteSubject {
  const sourceId = incidentSourceId(incident);
  const first = Object.values(incident.alerts)[0];
  const kind = sourceKinds.get(sourceId);
  return { sourceId, ...(kind ? { sourceKind: kind } : {}), labels: first?.labels ?? {}, severity: incident.severity };
}

/** One rule as people write it: `source=alertmanager team=payments severity=critical → #payments-oncall`. */
export function describeRoute(route: Route, channelName: (id: string) => string): string {
  const conditions = [
    ...(route.source ? [`source=${route.source}`] : []),
    ...(route.severities && route.severities.length > 0 ? [`severity=${route.severities.join('|')}`] : []),
    ...route.matchers.map((m) => `${m.name}${m.op}${m.op.includes('~') ? `"${m.value}"` : m.value}`),
  ];
  const target = !route.proactive ? 'proactive off (tracked, never posted)' : route.channelId ? `#${channelName(route.channelId)}` : 'the source\'s channel';
  return `${conditions.length > 0 ? conditions.join(' ') : 'everything'} → ${target}`;
}
