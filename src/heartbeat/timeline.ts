// The dashboard's heartbeat timeline, kept compactly in Redis: the last hour, minute by minute, in
// bounded space per workspace (it was a hash per workspace and hour, kept 25 hours: ~32 KB each).
//
// - Beats: a ring of 60 minutes of tick counts (12 bits each, saturating at 4,095) in two 45-byte
//   fields of the workspace's state hash (`beats0`, `beats1`), with the newest minute written in
//   `beat`. Values stay under Redis's 64-byte listpack limit, so the state hash stays a compact listpack.
// - News: a hash with one field per minute that had anything but a quiet tick (`<minute>` →
//   `woken,spoke,…` in `newsCounters` order, trailing zeros left out), at most 60 fields, gone an
//   hour after the last news.
//   Most minutes of most workspaces have none, so it costs nothing at steady state.
// A minute's quiet ticks are its ticks less the ones that did something else (busy, spoke, …).

/** Counted per minute in the news hash, in this order in each value. */
export const newsCounters = ['woken', 'spoke', 'vetoed', 'acted', 'model_calls', 'busy', 'failed', 'fenced'] as const;
type NewsCounter = (typeof newsCounters)[number];

export type TimelineCounter = 'ticks' | 'quiet' | NewsCounter;
/** One minute of a workspace's heartbeat. */
export type TimelineMinute = { minute: number } & Partial<Record<TimelineCounter, number>>;

export const TIMELINE_MINUTES = 60;
const BLOCK_MINUTES = TIMELINE_MINUTES / 2;
/** 12 bits a minute: two minutes in three bytes. */
const BLOCK_BYTES = (BLOCK_MINUTES * 3) / 2;
const MAX_TICKS = 4_095;
/** The state hash's fields holding the ring: the newest minute written, then the two blocks. */
export const beatFields = ['beat', 'beats0', 'beats1'] as const;
/** An hour after the last news, the news hash is all stale: Redis drops it. */
const NEWS_TTL_MS = (TIMELINE_MINUTES + 1) * 60_000;

/**
 * Lua functions for the scripts that count (signals.ts): `beat(state, minute)` counts a tick,
 * `news(key, minute, index, by)` adds to one news counter (`index` from `newsIndex`, 1-based into `newsCounters`).
 * Writes older than the hour are dropped; a newer minute first clears the slots it skips.
 */
export const TIMELINE_LUA = `
local newsIndex = {${newsCounters.map((n, i) => `${n} = ${i + 1}`).join(', ')}}
local EMPTY = string.rep('\\0', ${BLOCK_BYTES})
-- Minute j (0-based) of a block is the 12 bits from bit 12j: from a byte boundary when j is even,
-- from the middle of a byte when it is odd.
local function getSlot(block, j)
  local i = math.floor(j * 3 / 2) + 1
  local a, b = string.byte(block, i, i + 1)
  if j % 2 == 0 then return a * 16 + math.floor(b / 16) end
  return (a % 16) * 256 + b
end
local function setSlot(block, j, n)
  local i = math.floor(j * 3 / 2) + 1
  local a, b = string.byte(block, i, i + 1)
  if j % 2 == 0 then
    a, b = math.floor(n / 16), (n % 16) * 16 + b % 16
  else
    a, b = a - a % 16 + math.floor(n / 256), n % 256
  end
  return string.sub(block, 1, i - 1) .. string.char(a, b) .. string.sub(block, i + 2)
end
local function beat(state, minute)
  local got = redis.call('HMGET', state, 'beat', 'beats0', 'beats1')
  local head = tonumber(got[1] or '0')
  if minute <= head - ${TIMELINE_MINUTES} then return end
  local blocks = { got[2] or EMPTY, got[3] or EMPTY }
  local slot = minute % ${TIMELINE_MINUTES}
  local b = math.floor(slot / ${BLOCK_MINUTES}) + 1
  local j = slot % ${BLOCK_MINUTES}
  if minute > head then
    if minute - head >= ${TIMELINE_MINUTES} then
      blocks = { EMPTY, EMPTY }
    else
      for m = head + 1, minute do
        local s = m % ${TIMELINE_MINUTES}
        local sb = math.floor(s / ${BLOCK_MINUTES}) + 1
        blocks[sb] = setSlot(blocks[sb], s % ${BLOCK_MINUTES}, 0)
      end
    end
    blocks[b] = setSlot(blocks[b], j, 1)
    redis.call('HSET', state, 'beat', minute, 'beats0', blocks[1], 'beats1', blocks[2])
    return
  end
  local n = math.min(getSlot(blocks[b], j) + 1, ${MAX_TICKS})
  redis.call('HSET', state, 'beats' .. (b - 1), setSlot(blocks[b], j, n))
end

local function news(key, minute, index, by)
  local current = redis.call('HGET', key, minute)
  local values = {}
  for i = 1, ${newsCounters.length} do values[i] = 0 end
  if current then
    local i = 1
    for v in string.gmatch(current, '[^,]+') do values[i] = tonumber(v); i = i + 1 end
  else
    for _, field in ipairs(redis.call('HKEYS', key)) do
      if tonumber(field) <= minute - ${TIMELINE_MINUTES} then redis.call('HDEL', key, field) end
    end
  end
  values[index] = values[index] + by
  local n = #values
  while n > 1 and values[n] == 0 do n = n - 1 end
  redis.call('HSET', key, minute, table.concat(values, ',', 1, n))
  redis.call('PEXPIRE', key, ${NEWS_TTL_MS})
end
`;

/** Minute `j` of a ring block (see getSlot in TIMELINE_LUA). */
function readSlot(block: Buffer | null | undefined, j: number): number {
  const i = Math.floor((j * 3) / 2);
  if (!block || block.length < i + 2) return 0;
  const a = block[i] ?? 0;
  const b = block[i + 1] ?? 0;
  return j % 2 === 0 ? (a << 4) | (b >> 4) : ((a & 0x0f) << 8) | b;
}

/** The minute (since the epoch) a time falls in: the unit of the timeline. */
export function minuteOf(at: Date): number {
  return Math.floor(at.getTime() / 60_000);
}

/**
 * Decodes the ring (`beatFields` of the state hash, as read) and the news hash into the minutes of
 * the hour ending at `now`, oldest first; minutes with nothing recorded are left out.
 */
export function decodeTimeline(ring: (Buffer | null)[], news: Record<string, string>, now: Date): TimelineMinute[] {
  const last = minuteOf(now);
  const first = last - TIMELINE_MINUTES + 1;
  const points = new Map<number, TimelineMinute>();
  const [headField, ...blocks] = ring;
  const head = Number(headField?.toString() ?? 0);
  for (let minute = Math.max(first, head - TIMELINE_MINUTES + 1); minute <= Math.min(last, head); minute++) {
    const slot = minute % TIMELINE_MINUTES;
    const ticks = readSlot(blocks[Math.floor(slot / BLOCK_MINUTES)], slot % BLOCK_MINUTES);
    if (ticks > 0) points.set(minute, { minute, ticks });
  }
  for (const [field, value] of Object.entries(news)) {
    const minute = Number(field);
    if (!(minute >= first && minute <= last)) continue;
    const point = points.get(minute) ?? { minute };
    value.split(',').forEach((v, i) => {
      const name = newsCounters[i];
      if (name && Number(v) > 0) point[name] = Number(v);
    });
    points.set(minute, point);
  }
  for (const p of points.values()) {
    const other = (p.busy ?? 0) + (p.spoke ?? 0) + (p.vetoed ?? 0) + (p.failed ?? 0) + (p.fenced ?? 0);
    p.quiet = Math.max(0, (p.ticks ?? 0) - other);
  }
  return [...points.values()].sort((a, b) => a.minute - b.minute);
}
