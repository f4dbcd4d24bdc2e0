// Declaring an incident by hand: `/tacit incident declare <title> [severity]` becomes an
// `incident.step` event, and the tick opens the incident from it like any other (card, thread,
// edits). Pure: parsing the command and building the incident value.
import type { IncidentStepEvent } from '../core/events.js';
import { freshIncidentState, type Incident } from '../core/incidents.js';
import { boundKey } from '../core/keys.js';
import { severities, type Severity } from '../core/severity.js';

export interface Declaration {
  title: string;
  severity: Severity;
}

/** `<title words…> [severity]`: a last word naming a severity sets it (default `warning`). */
export function parseDeclaration(words: readonly string[]): Declaration | null {
  const list = [...words];
  const last = list[list.length - 1]?.toLowerCase();
  let severity: Severity = 'warning';
  if (last && (severities as readonly string[]).includes(last) && list.length > 1) {
    severity = last as Severity;
    list.pop();
  }
  const title = list.join(' ').trim().replace(/^["“](.*)["”]$/, '$1').trim();
  if (!title) return null;
  return { title: title.slice(0, 300), severity };
}

/** A declared incident's group key: its own, so no alert ever groups into it. */
export function declaredGroupKey(incidentId: string): string {
  return boundKey(`declared|${incidentId}`);
}

/** The incident a declaration opens: no alerts, firing since it was declared, by whom. */
export function declaredIncident(workspaceId: string, event: IncidentStepEvent, occurredAt: Date): Incident | null {
  if (event.step.type !== 'declare') return null;
  return {
    id: event.incidentId,
    workspaceId,
    channelId: event.step.channelId,
    groupKey: declaredGroupKey(event.incidentId),
    groupLabel: null,
    kind: 'declared',
    status: 'firing',
    severity: event.step.severity,
    title: event.step.title,
    alerts: {},
    startedAt: occurredAt,
    resolvedAt: null,
    ...freshIncidentState(),
    declaredBy: event.by.name,
    lastAlertAt: null,
  };
}
