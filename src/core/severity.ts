// Alert severities, normalised from whatever label a sender uses, and ordered.
export const severities = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof severities)[number];

const aliases: Record<string, Severity> = {
  critical: 'critical', crit: 'critical', page: 'critical', p1: 'critical', high: 'critical', fatal: 'critical',
  error: 'warning', major: 'warning', warning: 'warning', warn: 'warning', p2: 'warning', p3: 'warning', medium: 'warning',
  info: 'info', low: 'info', minor: 'info', p4: 'info', p5: 'info', none: 'info',
};

export function normaliseSeverity(raw: string | undefined): Severity {
  return (raw && aliases[raw.trim().toLowerCase()]) || 'warning';
}

export function maxSeverity(values: Iterable<Severity>): Severity {
  let best: Severity = 'info';
  for (const v of values) if (severities.indexOf(v) < severities.indexOf(best)) best = v;
  return best;
}
