// Times as people read them: the workspace's zone through Intl, relative to an injected now.
import { describe, expect, it } from 'vitest';
import { absoluteTime, clockTime, humaniseInstants, relativeTime, spanText, timeWithRelative, zoneName } from '../../src/core/human-time.js';

const now = new Date('2026-12-01T07:44:38.343Z');
const at = new Date('2026-12-01T07:32:38.343Z');
const min = 60_000;

describe('human times', () => {
  it('says "since 07:32 UTC (12 min ago)" in UTC, and the same instant in the workspace zone elsewhere', () => {
    expect(timeWithRelative(at, { now, timezone: 'UTC' })).toBe('07:32 UTC (12 min ago)');
    expect(timeWithRelative(at, { now, timezone: 'Europe/Berlin' })).toBe('08:32 CET (12 min ago)');
    expect(timeWithRelative(at, { now, timezone: 'America/New_York' })).toBe('02:32 EST (12 min ago)');
    expect(timeWithRelative(at, { now, timezone: 'Asia/Kolkata' })).toBe('13:02 GMT+5:30 (12 min ago)');
  });

  it('follows daylight saving time: the same zone reads CEST in summer, and the offset moves with it', () => {
    const summer = new Date('2026-07-01T07:32:00Z');
    expect(clockTime(summer, { now: summer, timezone: 'Europe/Berlin' })).toBe('09:32 CEST');
    expect(clockTime(summer, { now: summer, timezone: 'America/New_York' })).toBe('03:32 EDT');
    // Across the spring-forward hour in Berlin (02:00 → 03:00 on 29 March 2026): 30 real minutes apart.
    const before = new Date('2026-03-29T00:45:00Z');
    const after = new Date('2026-03-29T01:15:00Z');
    expect(clockTime(before, { now: after, timezone: 'Europe/Berlin' })).toBe('01:45 CET');
    expect(clockTime(after, { now: after, timezone: 'Europe/Berlin' })).toBe('03:15 CEST');
    expect(relativeTime(before, after)).toBe('30 min ago');
  });

  it('adds the date when it is another local day, and the year when it is another year', () => {
    expect(clockTime(new Date('2026-11-30T07:00:00Z'), { now, timezone: 'UTC' })).toBe('30 Nov 07:00 UTC');
    expect(clockTime(new Date('2025-11-30T07:00:00Z'), { now, timezone: 'UTC' })).toBe('30 Nov 2025 07:00 UTC');
    // 23:30 UTC on 30 November is already 1 December in Tokyo, the same local day as now there.
    expect(clockTime(new Date('2026-11-30T23:30:00Z'), { now, timezone: 'Asia/Tokyo' })).toBe('08:30 GMT+9');
  });

  it('says "just now" for the last 45 seconds, then minutes, hours, days, and "in …" for the future', () => {
    expect(relativeTime(new Date(now.getTime() - 44_000), now)).toBe('just now');
    expect(relativeTime(now, now)).toBe('just now');
    expect(relativeTime(new Date(now.getTime() - 50_000), now)).toBe('50 s ago');
    expect(relativeTime(new Date(now.getTime() - 12 * min), now)).toBe('12 min ago');
    expect(relativeTime(new Date(now.getTime() - 65 * min), now)).toBe('1 h 5 min ago');
    expect(relativeTime(new Date(now.getTime() - 3 * 60 * min), now)).toBe('3 h ago');
    expect(relativeTime(new Date(now.getTime() - 20 * 60 * min), now)).toBe('20 h ago');
    expect(relativeTime(new Date(now.getTime() - 3 * 1440 * min), now)).toBe('3 days ago');
    expect(relativeTime(new Date(now.getTime() + 15 * min), now)).toBe('in 15 min');
    expect(spanText(1440 * min * 1.4)).toBe('34 h');
    expect(spanText(1440 * min * 2)).toBe('2 days');
  });

  it('names zones by their abbreviation where one exists, else by offset', () => {
    expect(zoneName(now, 'UTC')).toBe('UTC');
    expect(zoneName(now, 'Europe/London')).toBe('GMT');
    expect(zoneName(new Date('2026-07-01T00:00:00Z'), 'Europe/London')).toBe('BST');
    expect(zoneName(now, 'Asia/Tokyo')).toBe('GMT+9');
  });

  it('writes the full local date without a clock, and rewrites ISO instants inside a text', () => {
    expect(absoluteTime(at, 'UTC')).toBe('2026-12-01 07:32 UTC');
    expect(absoluteTime(at, 'Europe/Berlin')).toBe('2026-12-01 08:32 CET');
    expect(humaniseInstants('silence 4f2 until 2026-12-01T08:14:38.343Z', { now, timezone: 'UTC' })).toBe('silence 4f2 until 08:14 UTC (in 30 min)');
    expect(humaniseInstants('no time here', { now, timezone: 'UTC' })).toBe('no time here');
  });
});
