// The restraint policy: each rule has a case where it vetoes (with a reason people can read) and a
// case where it lets the message through.
import { describe, expect, it } from 'vitest';
import { makeIncident } from '../support/incident.js';
import type { Incident } from '../../src/core/incidents.js';
import type { PlannedMessage } from '../../src/core/plan.js';
import { applyPolicy, policyConstraints, type ChannelState, type PolicyContext } from '../../src/core/policy.js';
import { quietHoursEnd, readSettings, workspaceSettingsSchema } from '../../src/core/settings.js';

const now = new Date('2026-11-27T12:00:00Z');

function incident(overrides: Partial<Incident> = {}): Incident {
  return makeIncident({ severity: 'warning', startedAt: now, title: 'Disk full', ...overrides });
}

function message(overrides: Partial<PlannedMessage> = {}): PlannedMessage {
  return {
    idempotencyKey: 'k', purpose: 'summary', kind: 'post', channelId: 'c1', anchor: { type: 'incident_thread' },
    incidentId: 'inc_1', incidentVersion: 1, message: { text: 'hello' }, ...overrides,
  };
}

function context(overrides: Partial<PolicyContext> = {}, inc: Incident = incident()): PolicyContext {
  const channel: ChannelState = { id: 'c1', name: 'ops', proactive: true, pausedUntil: null };
  return {
    now,
    settings: workspaceSettingsSchema.parse({}),
    workspacePausedUntil: null,
    channels: new Map([['c1', channel]]),
    incidents: new Map([[inc.id, inc]]),
    recentPosts: new Map(),
    lastIncidentPost: new Map(),
    ...overrides,
  };
}

const vetoReasons = (r: ReturnType<typeof applyPolicy>) => r.vetoed.map((v) => v.reason);

describe('applyPolicy', () => {
  it('lets an ordinary post through', () => {
    expect(applyPolicy([message()], context()).allowed).toHaveLength(1);
  });

  it('vetoes a post to a channel that is not one of the workspace', () => {
    const r = applyPolicy([message({ channelId: 'C_STRANGER' })], context());
    expect(vetoReasons(r)).toEqual(['C_STRANGER is not a channel of this workspace']);
  });

  it("vetoes a tick's post into an arbitrary thread, and allows its incident thread", () => {
    expect(vetoReasons(applyPolicy([message({ anchor: { type: 'thread', threadId: 'T1' } })], context()))[0]).toMatch(/only post in incident threads/);
    expect(applyPolicy([message({ anchor: { type: 'incident_thread' } })], context()).allowed).toHaveLength(1);
  });

  it('vetoes while the workspace is paused, and not after the pause ends', () => {
    const paused = context({ workspacePausedUntil: new Date(now.getTime() + 60_000) });
    expect(vetoReasons(applyPolicy([message()], paused))[0]).toMatch(/^workspace paused until/);
    expect(applyPolicy([message()], context({ workspacePausedUntil: new Date(now.getTime() - 1) })).allowed).toHaveLength(1);
  });

  it('vetoes in a paused channel and in a channel with proactive posts off', () => {
    const paused = context({ channels: new Map([['c1', { id: 'c1', name: 'ops', proactive: true, pausedUntil: new Date(now.getTime() + 1) }]]) });
    expect(vetoReasons(applyPolicy([message()], paused))[0]).toMatch(/^#ops paused until/);
    const off = context({ channels: new Map([['c1', { id: 'c1', name: 'ops', proactive: false, pausedUntil: null }]]) });
    expect(vetoReasons(applyPolicy([message()], off))).toEqual(['proactive posts are off in #ops']);
  });

  it('holds non-critical posts during quiet hours until they end, but lets critical ones through', () => {
    const settings = workspaceSettingsSchema.parse({ timezone: 'Europe/Berlin', quietHours: { start: '12:30', end: '14:00' } }); // 13:00 in Berlin
    const held = applyPolicy([message()], context({ settings }));
    expect(held.allowed).toHaveLength(0);
    expect(held.held[0]?.until.toISOString()).toBe('2026-11-27T13:00:00.000Z');
    expect(held.held[0]?.reason).toMatch(/^quiet hours until/);
    const critical = incident({ severity: 'critical' });
    expect(applyPolicy([message()], context({ settings }, critical)).allowed).toHaveLength(1);
  });

  it('vetoes over the per-channel hourly budget, counting what it lets through in the same batch', () => {
    const settings = workspaceSettingsSchema.parse({ postsPerChannelPerHour: 3 });
    const r = applyPolicy([message({ idempotencyKey: 'a' }), message({ idempotencyKey: 'b' })], context({ settings, recentPosts: new Map([['c1', 2]]) }));
    expect(r.allowed.map((m) => m.idempotencyKey)).toEqual(['a']);
    expect(vetoReasons(r)).toEqual(['budget: 3 posts in #ops in the last hour (limit 3)']);
  });

  it('still posts the card of a critical incident when the budget is spent', () => {
    const settings = workspaceSettingsSchema.parse({ postsPerChannelPerHour: 0 });
    const r = applyPolicy([message({ purpose: 'card', anchor: { type: 'incident_parent' } })], context({ settings }, incident({ severity: 'critical' })));
    expect(r.allowed).toHaveLength(1);
  });

  it('vetoes follow-ups about one incident within the cooldown, but never its resolution', () => {
    const last = new Map([['inc_1', new Date(now.getTime() - 60_000)]]);
    expect(vetoReasons(applyPolicy([message({ purpose: 'summary' })], context({ lastIncidentPost: last })))[0]).toMatch(/^cooldown: posted about this incident 60 s ago/);
    expect(applyPolicy([message({ purpose: 'resolution' })], context({ lastIncidentPost: last })).allowed).toHaveLength(1);
    const longAgo = new Map([['inc_1', new Date(now.getTime() - 10 * 60_000)]]);
    expect(applyPolicy([message({ purpose: 'summary' })], context({ lastIncidentPost: longAgo })).allowed).toHaveLength(1);
  });

  it('lets the channel notice of a card returning to Firing through within the cooldown', () => {
    const last = new Map([['inc_1', new Date(now.getTime() - 30_000)]]);
    const back = message({ purpose: 'recurrence', anchor: { type: 'channel' } });
    expect(applyPolicy([back], context({ lastIncidentPost: last })).allowed).toEqual([back]);
  });

  it('holds a card or a return over the budget until the budget frees up, instead of dropping it', () => {
    const settings = workspaceSettingsSchema.parse({ postsPerChannelPerHour: 1 });
    const frees = new Date(now.getTime() + 20 * 60_000);
    const ctx = context({ settings, recentPosts: new Map([['c1', 1]]), budgetFreesAt: new Map([['c1', frees]]) });
    for (const m of [message({ purpose: 'card', anchor: { type: 'incident_parent' } }), message({ purpose: 'recurrence', anchor: { type: 'channel' } })]) {
      const r = applyPolicy([m], ctx);
      expect(r.held.map((h) => [h.message.purpose, h.until])).toEqual([[m.purpose, frees]]);
      expect(r.held[0]?.reason).toMatch(/^budget: 1 posts in #ops/);
    }
    // A follow-up in the thread is chatter: still vetoed.
    expect(vetoReasons(applyPolicy([message({ purpose: 'summary' })], ctx))[0]).toMatch(/^budget/);
  });

  it('tells people a critical incident is back even when the budget is spent', () => {
    const settings = workspaceSettingsSchema.parse({ postsPerChannelPerHour: 0 });
    const r = applyPolicy([message({ purpose: 'recurrence', anchor: { type: 'channel' } })], context({ settings }, incident({ severity: 'critical' })));
    expect(r.allowed).toHaveLength(1);
  });

  it('tells the brain the rules in force before it writes: budget, cooldown, quiet hours, flapping incidents', () => {
    const settings = workspaceSettingsSchema.parse({ postsPerChannelPerHour: 7, incidentCooldownMs: 600_000, quietHours: { start: '11:00', end: '13:00' } });
    const rules = policyConstraints(settings, now, [incident({ id: 'inc_9', flapping: true })]);
    expect(rules.join('\n')).toMatch(/At most 7 unsolicited posts per channel per hour/);
    expect(rules.join('\n')).toMatch(/every 10 min/);
    expect(rules.join('\n')).toContain('Quiet hours until 2026-11-27T13:00:00.000Z');
    expect(rules.join('\n')).toContain('Flapping (no resolution notes, the card shows each cycle): inc_9.');
    expect(policyConstraints(workspaceSettingsSchema.parse({}), now, []).some((r) => r.startsWith('Quiet hours'))).toBe(false);
  });

  it('suppresses resolution notes of a flapping incident', () => {
    const r = applyPolicy([message({ purpose: 'resolution' })], context({}, incident({ flapping: true, status: 'resolved' })));
    expect(vetoReasons(r)).toEqual(['flapping: resolution notes are suppressed, the card shows each cycle']);
  });

  it('always allows editing a card Tacit already posted', () => {
    const paused = context({ workspacePausedUntil: new Date(now.getTime() + 60_000) });
    expect(applyPolicy([message({ kind: 'update', purpose: 'card_update', anchor: { type: 'incident_parent' } })], paused).allowed).toHaveLength(1);
  });

  it('drops thread posts whose incident card was vetoed', () => {
    const off = context({ channels: new Map([['c1', { id: 'c1', name: 'ops', proactive: false, pausedUntil: null }]]) });
    const r = applyPolicy([message({ purpose: 'card', anchor: { type: 'incident_parent' } }), message()], off);
    expect(r.allowed).toHaveLength(0);
    expect(r.vetoed).toHaveLength(2);
  });
});

describe('settings', () => {
  it('knows when quiet hours that cross midnight end, in the workspace time zone', () => {
    const s = workspaceSettingsSchema.parse({ timezone: 'America/New_York', quietHours: { start: '22:00', end: '07:00' } });
    expect(quietHoursEnd(s, new Date('2026-11-28T04:30:00Z'))?.toISOString()).toBe('2026-11-28T12:00:00.000Z'); // 23:30 → 07:00 EST
    expect(quietHoursEnd(s, new Date('2026-11-28T15:00:00Z'))).toBeNull(); // 10:00 local
  });

  it('falls back to defaults for invalid stored values instead of failing', () => {
    const s = readSettings({ timezone: 'Mars/Olympus', postsPerChannelPerHour: 5 });
    expect(s.timezone).toBe('UTC');
    expect(s.postsPerChannelPerHour).toBe(5);
  });
});

describe('digest timing', () => {
  it('knows the digest hour and the next one, in the workspace time zone', async () => {
    const { digestHourNow, nextDigestAt } = await import('../../src/core/settings.js');
    const s = workspaceSettingsSchema.parse({ timezone: 'Asia/Tokyo', digestHour: 9 });
    expect(digestHourNow(s, new Date('2026-11-28T00:15:00Z'))).toBe(true); // 09:15 in Tokyo
    expect(digestHourNow(s, new Date('2026-11-28T01:15:00Z'))).toBe(false);
    expect(nextDigestAt(s, new Date('2026-11-28T01:15:00Z'))?.toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(nextDigestAt(workspaceSettingsSchema.parse({}), new Date())).toBeNull();
  });
});
