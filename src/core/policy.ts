// The restraint policy: runs after the brain and can veto or hold back what it wants to post.
// Pure: the tick gathers the counts it needs and records every veto with its reason.
import type { Incident } from './incidents.js';
import type { PlannedMessage } from './plan.js';
import { quietHoursEnd, type WorkspaceSettings } from './settings.js';

export interface ChannelState {
  id: string;
  name: string;
  /** Proactive posts allowed in this channel at all. */
  proactive: boolean;
  pausedUntil: Date | null;
}

export interface PolicyContext {
  now: Date;
  settings: WorkspaceSettings;
  workspacePausedUntil: Date | null;
  channels: ReadonlyMap<string, ChannelState>;
  incidents: ReadonlyMap<string, Incident>;
  /** Proactive posts per channel in the last hour, already queued or sent. */
  recentPosts: ReadonlyMap<string, number>;
  /** When Tacit last posted proactively about each incident. */
  lastIncidentPost: ReadonlyMap<string, Date>;
  /**
   * Per channel, when its oldest post of the last hour leaves the window: a post over the budget is
   * held until then (and re-decided) instead of being dropped.
   */
  budgetFreesAt?: ReadonlyMap<string, Date>;
}

export interface PolicyResult {
  allowed: PlannedMessage[];
  /** Waiting for the end of quiet hours or for the budget to free up; re-decided then. */
  held: { message: PlannedMessage; until: Date; reason: string }[];
  vetoed: { message: PlannedMessage; reason: string }[];
}

export function applyPolicy(messages: readonly PlannedMessage[], ctx: PolicyContext): PolicyResult {
  const result: PolicyResult = { allowed: [], held: [], vetoed: [] };
  const posted = new Map(ctx.recentPosts);
  const quietUntil = quietHoursEnd(ctx.settings, ctx.now);
  // A message that hangs off a parent card cannot go out if the card itself does not.
  const blockedIncidents = new Set<string>();

  for (const message of messages) {
    const verdict = judge(message, ctx, posted, quietUntil, blockedIncidents);
    if (verdict.kind === 'allow') {
      result.allowed.push(message);
      if (message.kind === 'post') posted.set(message.channelId, (posted.get(message.channelId) ?? 0) + 1);
      continue;
    }
    if (message.purpose === 'card' && message.incidentId) blockedIncidents.add(message.incidentId);
    if (verdict.kind === 'hold') result.held.push({ message, until: verdict.until, reason: verdict.reason });
    else result.vetoed.push({ message, reason: verdict.reason });
  }
  return result;
}

/**
 * The rules in force, in words for the model before it writes: what the policy would hold back or veto,
 * so no call is spent on a post that cannot go out. Pure: settings, clock and incidents only.
 */
export function policyConstraints(settings: WorkspaceSettings, now: Date, incidents: Iterable<Incident>): string[] {
  const out = [
    `At most ${settings.postsPerChannelPerHour} unsolicited posts per channel per hour; cards of critical incidents and their returns to Firing always go out.`,
    `At most one follow-up per incident every ${Math.round(settings.incidentCooldownMs / 60_000)} min (openings, resolutions and returns to Firing excepted).`,
    'A card returning to Firing is announced in the channel automatically: do not write a separate notice for it.',
  ];
  const quietUntil = quietHoursEnd(settings, now);
  if (quietUntil) out.push(`Quiet hours until ${quietUntil.toISOString()}: only critical incidents are posted now; the rest waits.`);
  const flapping = [...incidents].filter((i) => i.flapping).map((i) => i.id);
  if (flapping.length > 0) out.push(`Flapping (no resolution notes, the card shows each cycle): ${flapping.slice(0, 20).join(', ')}.`);
  return out;
}

type Verdict = { kind: 'allow' } | { kind: 'hold'; until: Date; reason: string } | { kind: 'veto'; reason: string };

function judge(
  m: PlannedMessage,
  ctx: PolicyContext,
  posted: Map<string, number>,
  quietUntil: Date | null,
  blockedIncidents: Set<string>,
): Verdict {
  const channel = ctx.channels.get(m.channelId);
  if (!channel) return { kind: 'veto', reason: `${m.channelId} is not a channel of this workspace` };
  // Editing a card Tacit already posted keeps it truthful; it is not new speech.
  if (m.kind === 'update') return { kind: 'allow' };
  if (m.anchor.type === 'thread') return { kind: 'veto', reason: `a tick may only post in incident threads Tacit started, not in thread ${m.anchor.threadId}` };
  if (m.incidentId && blockedIncidents.has(m.incidentId)) return { kind: 'veto', reason: 'its incident card was not posted' };

  const name = `#${channel.name}`;
  if (ctx.workspacePausedUntil && ctx.workspacePausedUntil > ctx.now) {
    return { kind: 'veto', reason: `workspace paused until ${ctx.workspacePausedUntil.toISOString()}` };
  }
  if (!channel.proactive) return { kind: 'veto', reason: `proactive posts are off in ${name}` };
  if (channel.pausedUntil && channel.pausedUntil > ctx.now) return { kind: 'veto', reason: `${name} paused until ${channel.pausedUntil.toISOString()}` };

  const incident = m.incidentId ? ctx.incidents.get(m.incidentId) : undefined;
  // A flapping incident's card says it is flapping: a note for each resolve is the noise people mute bots for.
  if (m.purpose === 'resolution' && incident?.flapping) return { kind: 'veto', reason: 'flapping: resolution notes are suppressed, the card shows each cycle' };
  const critical = incident?.severity === 'critical';
  // A card returning to Firing is always told in the channel, however recently Tacit spoke about it.
  // An escalation step is the on-call's page: a spent budget or a recent post must not swallow it.
  const visible = m.purpose === 'card' || m.purpose === 'recurrence' || m.purpose === 'escalation';
  if (quietUntil && !critical) {
    return { kind: 'hold', until: quietUntil, reason: `quiet hours until ${quietUntil.toISOString()} (${incident?.severity ?? 'no'} severity)` };
  }

  const limit = ctx.settings.postsPerChannelPerHour;
  const count = posted.get(m.channelId) ?? 0;
  // People must learn about a critical incident (and its return) even when the channel's budget is spent.
  if (count >= limit && !(critical && visible)) {
    const reason = `budget: ${count} posts in ${name} in the last hour (limit ${limit})`;
    const frees = ctx.budgetFreesAt?.get(m.channelId);
    // News that matters waits for the budget instead of vanishing: cards and returns are re-decided then.
    if (frees && frees > ctx.now && (visible || m.purpose === 'resolution')) return { kind: 'hold', until: frees, reason };
    return { kind: 'veto', reason };
  }

  const last = m.incidentId ? ctx.lastIncidentPost.get(m.incidentId) : undefined;
  // The alert list belongs to the card it completes: posting it seconds after the summary is not chatter.
  // So do an investigation's findings (once per investigation): they complete the summary they follow.
  const exempt = visible || m.purpose === 'resolution' || m.purpose === 'alert_list' || m.purpose === 'nudge' || m.purpose === 'report' || m.purpose === 'findings';
  if (last && !exempt && ctx.now.getTime() - last.getTime() < ctx.settings.incidentCooldownMs) {
    const waitS = Math.ceil((ctx.settings.incidentCooldownMs - (ctx.now.getTime() - last.getTime())) / 1000);
    return { kind: 'veto', reason: `cooldown: posted about this incident ${Math.round((ctx.now.getTime() - last.getTime()) / 1000)} s ago (next in ${waitS} s)` };
  }
  return { kind: 'allow' };
}
