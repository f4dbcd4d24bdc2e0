// The matchers that silence an incident's alerts and nothing else: the labels all its alerts share
// (alertname first). Used by the rules brain's proposal and by a person's "@tacit silence … for 1h".
import type { Incident } from './incidents.js';

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: false;
  isEqual: true;
}

export function sharedMatchers(incident: Incident): SilenceMatcher[] {
  const all = Object.values(incident.alerts).map((a) => a.labels);
  const first = all[0];
  if (!first?.alertname) return [];
  const shared = Object.entries(first).filter(([k, v]) => all.every((l) => l[k] === v) && !k.startsWith('__'));
  shared.sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
  return shared.slice(0, 8).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}
