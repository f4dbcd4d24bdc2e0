// A weekly on-call rotation kept by Tacit: who is on call at an instant, and until when. Handoffs are
// at a local wall-clock time (so they stay at 09:00 across daylight-saving changes). Pure; Intl does
// the zone arithmetic, the clock is passed in.
import { weekdayNames, type Rotation } from './oncall-settings.js';

const WEEK_MIN = 7 * 1440;

/** Local wall-clock time in `timezone`, as minutes since the epoch (as if that wall time were UTC). */
function wallMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute')) / 60_000;
}

/** The instant a local wall time (minutes, as from wallMinutes) happens in `timezone`. */
function instantOf(wall: number, timezone: string): Date {
  let guess = new Date(wall * 60_000);
  // Two rounds settle the zone's offset at that instant (one more only matters inside a DST gap).
  for (let i = 0; i < 2; i++) guess = new Date(guess.getTime() - (wallMinutes(guess, timezone) - wall) * 60_000);
  return guess;
}

/** The first handoff: `handoffTime` on the first `handoffWeekday` on or after `startDate`, local wall minutes. */
function firstHandoff(r: Rotation): number {
  const [y, m, d] = r.startDate.split('-').map(Number) as [number, number, number];
  const start = new Date(Date.UTC(y, m - 1, d));
  const want = weekdayNames.indexOf(r.handoffWeekday); // 0 = Monday
  const have = (start.getUTCDay() + 6) % 7;
  const days = (want - have + 7) % 7;
  const [hh, mm] = r.handoffTime.split(':').map(Number) as [number, number];
  return Date.UTC(y, m - 1, d + days, hh, mm) / 60_000;
}

export interface RotationShift {
  /** Level 1 first, then the next in line (level 2) when there are two people or more. */
  levels: string[];
  /** When this shift hands over. */
  until: Date;
}

/** Who is on call now, or null before the rotation's first handoff. */
export function rotationShift(r: Rotation, now: Date): RotationShift | null {
  const first = firstHandoff(r);
  const elapsed = wallMinutes(now, r.timezone) - first;
  if (elapsed < 0) return null;
  const week = Math.floor(elapsed / WEEK_MIN);
  const n = r.people.length;
  const at = (k: number) => r.people[(week + k) % n];
  const levels = [at(0), ...(n > 1 ? [at(1)] : [])].flatMap((p) => (p ? [p] : []));
  return { levels, until: instantOf(first + (week + 1) * WEEK_MIN, r.timezone) };
}

/**
 * The start date that makes `people[0]` on call now: the date of the latest handoff at or before
 * `now` (local), for a rotation set up from chat.
 */
export function startDateForNow(weekday: Rotation['handoffWeekday'], time: string, timezone: string, now: Date): string {
  const wall = wallMinutes(now, timezone);
  const day = new Date(wall * 60_000);
  const have = (day.getUTCDay() + 6) % 7;
  let back = (have - weekdayNames.indexOf(weekday) + 7) % 7;
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const sameDayHandoff = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hh, mm) / 60_000;
  if (back === 0 && sameDayHandoff > wall) back = 7;
  const date = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - back));
  return date.toISOString().slice(0, 10);
}
