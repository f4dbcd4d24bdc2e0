// How much of Claude a woken tick needs: none when its only news is Tacit's own reminders (the rules
// brain writes those the same way every time), the main model at once when the digest is due (it is
// written once per due window whatever else happened), the cheap triage first otherwise.
import { gate } from '../../core/gate.js';
import type { DecideContext } from '../port.js';

export type Attention = 'rules' | 'main' | 'triage';

export function attentionFor(ctx: DecideContext): Attention {
  const others = ctx.transitions.filter((t) => t.kind !== 'unacknowledged');
  const onlyReminders = others.length < ctx.transitions.length
    && gate({ events: ctx.events, transitions: others, incidents: ctx.incidents, now: ctx.now, digestDue: ctx.digest !== undefined, ...(ctx.repoHealth ? { repoHealth: ctx.repoHealth } : {}) }).kind === 'quiet';
  if (onlyReminders) return 'rules';
  return ctx.digest ? 'main' : 'triage';
}
