// Times as people read them on cards, summaries and digests: "since 07:32 UTC (12 min ago)" in the
// workspace's time zone. Zone arithmetic is Intl's; the clock is always passed in (`now`).
import { z } from 'zod';

/** A local time of day people type, `HH:MM` on the 24-hour clock. */
export const clockSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour)');

/** An IANA time zone name the runtime knows (`Europe/Berlin`). */
export const timezoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as Europe/Berlin');

/** When a text is rendered and for whom: the clock's now and the workspace's IANA time zone. */
export interface TimeContext {
  now: Date;
  timezone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timezone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timezone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: timezone, ...options });
    // Bounded: a handful of zones per process in practice; a flood of distinct ones cannot grow it.
    if (formatters.size > 500) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

function part(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): string {
  return parts.find((p) => p.type === type)?.value ?? '';
}

/** The zone's short name at that instant: "UTC", "CEST", "EST"; "GMT+9" where no abbreviation exists. */
export function zoneName(at: Date, timezone: string): string {
  // en-US knows the American abbreviations, en-GB the European ones; each gives "GMT+n" otherwise.
  const us = part(formatter('en-US', timezone, { timeZoneName: 'short' }).formatToParts(at), 'timeZoneName');
  if (!us.startsWith('GMT')) return us;
  const gb = part(formatter('en-GB', timezone, { timeZoneName: 'short' }).formatToParts(at), 'timeZoneName');
  return gb === 'GMT' && us !== 'GMT' ? us : gb;
}

/** "07:32 UTC" when it is the same local day as now, else "30 Nov 07:32 UTC" (with the year if not this year). */
export function clockTime(at: Date, time: TimeContext): string {
  const f = formatter('en-GB', time.timezone, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const p = f.formatToParts(at);
  const n = f.formatToParts(time.now);
  const hm = `${part(p, 'hour')}:${part(p, 'minute')} ${zoneName(at, time.timezone)}`;
  const sameDay = part(p, 'day') === part(n, 'day') && part(p, 'month') === part(n, 'month') && part(p, 'year') === part(n, 'year');
  if (sameDay) return hm;
  const date = `${part(p, 'day')} ${part(p, 'month')}`;
  return part(p, 'year') === part(n, 'year') ? `${date} ${hm}` : `${date} ${part(p, 'year')} ${hm}`;
}

/** "just now", "12 min ago", "3 h ago", "2 days ago"; for a future instant "in 12 min". */
export function relativeTime(at: Date, now: Date): string {
  const ms = now.getTime() - at.getTime();
  const span = Math.abs(ms);
  if (span < 45_000) return 'just now';
  const text = spanText(span);
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** A length of time, rounded to what people need: "40 s", "12 min", "1 h 5 min", "3 h", "2 days". */
export function spanText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 6) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  if (h < 48) return `${Math.round(m / 60)} h`;
  const d = Math.round(m / 1440);
  return d === 1 ? '1 day' : `${d} days`;
}

/** "07:32 UTC (12 min ago)": the absolute local time and how long ago (or until) it is. */
export function timeWithRelative(at: Date, time: TimeContext): string {
  return `${clockTime(at, time)} (${relativeTime(at, time.now)})`;
}

/**
 * Without a clock (a caller that renders for storage, not for people now): the full local date and
 * time, "2026-12-01 07:32 UTC", which never goes stale.
 */
export function absoluteTime(at: Date, timezone: string): string {
  const p = formatter('en-CA', timezone, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  return `${part(p, 'year')}-${part(p, 'month')}-${part(p, 'day')} ${part(p, 'hour')}:${part(p, 'minute')} ${zoneName(at, timezone)}`;
}

/** `timeWithRelative` when a clock is given, else `absoluteTime` in UTC. */
export function humanTime(at: Date, time: TimeContext | undefined): string {
  return time ? timeWithRelative(at, time) : absoluteTime(at, 'UTC');
}

const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z/g;

/** Rewrites ISO instants inside a text (an executor's "silence … until 2026-12-01T08:02:38Z") as people read them. */
export function humaniseInstants(text: string, time: TimeContext): string {
  return text.replace(ISO_INSTANT, (iso) => {
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? iso : timeWithRelative(at, time);
  });
}
