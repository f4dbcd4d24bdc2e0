// Relative dates in memory text ("yesterday", "last week", "this morning") made absolute, using the
// day the entry was written in the workspace's time zone: a memory read next month must not lie.
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of `at` in `timezone`. */
function localDay(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The local day `days` after (or before, when negative) the entry's local day. */
function shift(day: string, days: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Monday of the local week containing `day`. */
function mondayOf(day: string): string {
  const weekday = new Date(`${day}T12:00:00Z`).getUTCDay(); // 0 = Sunday
  return shift(day, -((weekday + 6) % 7));
}

const NUMBERS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, a: 1 };

interface Replacement {
  pattern: RegExp;
  to: (day: string, match: RegExpExecArray) => string;
}

const REPLACEMENTS: Replacement[] = [
  { pattern: /\bthe day before yesterday\b/gi, to: (d) => `on ${shift(d, -2)}` },
  { pattern: /\byesterday (morning|afternoon|evening)\b/gi, to: (d, m) => `on the ${String(m[1]).toLowerCase()} of ${shift(d, -1)}` },
  { pattern: /\byesterday\b/gi, to: (d) => `on ${shift(d, -1)}` },
  { pattern: /\blast night\b/gi, to: (d) => `on the night of ${shift(d, -1)}` },
  { pattern: /\bthis (morning|afternoon|evening)\b/gi, to: (d, m) => `on the ${String(m[1]).toLowerCase()} of ${d}` },
  { pattern: /\btonight\b/gi, to: (d) => `on the night of ${d}` },
  { pattern: /\btoday\b/gi, to: (d) => `on ${d}` },
  { pattern: /\btomorrow\b/gi, to: (d) => `on ${shift(d, 1)}` },
  { pattern: /\blast week\b/gi, to: (d) => `in the week of ${shift(mondayOf(d), -7)}` },
  { pattern: /\bthis week\b/gi, to: (d) => `in the week of ${mondayOf(d)}` },
  { pattern: /\bnext week\b/gi, to: (d) => `in the week of ${shift(mondayOf(d), 7)}` },
  { pattern: /\blast month\b/gi, to: (d) => `in ${shift(`${d.slice(0, 7)}-01`, -1).slice(0, 7)}` },
  { pattern: /\bthis month\b/gi, to: (d) => `in ${d.slice(0, 7)}` },
  {
    pattern: /\b(\d{1,2}|one|two|three|four|five|six|seven|a) days? ago\b/gi,
    to: (d, m) => `on ${shift(d, -(NUMBERS[String(m[1]).toLowerCase()] ?? Number(m[1])))}`,
  },
];

/** Rewrites relative dates in `text` as absolute ones, relative to `writtenAt` in `timezone`. */
export function absoluteDates(text: string, writtenAt: Date, timezone: string): string {
  const day = localDay(writtenAt, timezone);
  let out = text;
  for (const { pattern, to } of REPLACEMENTS) {
    out = out.replace(pattern, (...args: unknown[]) => {
      const match = Object.assign([...args.slice(0, -2)].map((a) => (typeof a === 'string' ? a : '')), { index: 0, input: out }) as unknown as RegExpExecArray;
      return to(day, match);
    });
  }
  return out;
}
