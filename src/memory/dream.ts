// Dreaming, the pure part: the rules engine's rewrite of a workspace's memory (relative dates made
// absolute, duplicates merged, contradicted entries retired, the index kept within bounds) and the
// checks every rewrite passes before it is applied, whichever engine proposed it.
import type { ConsolidateProposal } from '../brain/port.js';
import { redactSecrets } from '../core/redact.js';
import { absoluteDates } from './dates.js';
import { policyClaim } from './guard.js';
import { cleanRefs } from './refs.js';
import { renderIndex, type IndexBounds } from './render.js';

export interface DreamEntry {
  id: string;
  topic: string;
  hint: string;
  body: string;
  sourceRefs: string[];
  createdAt: Date;
  /** Set when the entry failed its live check just now: evidence that newer events contradict it. */
  staleReason: string | null;
}

/** At most this share of the entries may disappear in one rewrite (retirements proven by a live check aside). */
export const MAX_DROP_SHARE = 0.25;

const words = (text: string): Set<string> => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);
const norm = (text: string): string => [...words(text)].sort().join(' ');

function similar(a: string, b: string): boolean {
  const x = words(a);
  const y = words(b);
  if (x.size === 0 || y.size === 0) return false;
  let common = 0;
  for (const w of x) if (y.has(w)) common++;
  return common / (x.size + y.size - common) >= 0.8;
}

/** Same topic, and the same hint or nearly the same words. */
function duplicates(a: DreamEntry, b: DreamEntry): boolean {
  if (norm(a.topic) !== norm(b.topic)) return false;
  return norm(a.hint) === norm(b.hint) || similar(a.hint, b.hint) || similar(a.body, b.body);
}

export function rulesProposal(entries: readonly DreamEntry[], opts: { timezone: string; bounds: IndexBounds }): ConsolidateProposal {
  const retire = entries.filter((e) => e.staleReason !== null).map((e) => ({ id: e.id, reason: `contradicted by newer events: ${e.staleReason ?? ''}` }));
  const live = entries
    .filter((e) => e.staleReason === null)
    .map((e) => ({ ...e, topic: absoluteDates(e.topic, e.createdAt, opts.timezone), hint: absoluteDates(e.hint, e.createdAt, opts.timezone), body: absoluteDates(e.body, e.createdAt, opts.timezone) }))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));

  // Greedy grouping, newest first: each entry joins the first group whose newest entry it duplicates.
  const groups: (typeof live)[] = [];
  for (const e of live) {
    const group = groups.find((g) => g[0] && duplicates(g[0], e));
    if (group) group.push(e);
    else groups.push([e]);
  }
  let kept = groups.map((g) => {
    const [newest, ...older] = g as [(typeof live)[number], ...typeof live];
    const extra = older.filter((o) => !newest.body.includes(o.body) && !similar(o.body, newest.body)).map((o) => o.body);
    return {
      from: g.map((e) => e.id),
      topic: newest.topic,
      hint: newest.hint,
      body: [newest.body, ...extra].join('\n').slice(0, 2_000),
      sources: cleanRefs(g.flatMap((e) => e.sourceRefs)),
    };
  });

  // Within bounds: the oldest entries go, but never more than the share a rewrite may drop.
  const fits = (n: number) => renderIndex(kept.slice(0, n).map((k, i) => ({ id: k.from[0] ?? String(i), topic: k.topic, hint: k.hint, sourceRefs: k.sources, status: 'active' as const, staleReason: null })), opts.bounds).omitted === 0;
  let n = kept.length;
  const minimum = kept.length - Math.floor(entries.length * MAX_DROP_SHARE);
  while (n > Math.max(0, minimum) && !fits(n)) n--;
  kept = kept.slice(0, n);
  return { entries: kept, retire };
}

export type Judgement =
  | { ok: true; entries: ConsolidateProposal['entries']; retired: { id: string; reason: string }[]; dropped: string[]; merged: number; rewritten: number }
  | { ok: false; reason: string; detail: Record<string, unknown> };

/**
 * Checks a proposed rewrite. Refused: entries from unknown ids or named twice, entries without source
 * references or citing sources their old entries did not have, policy-like claims, and losing more than
 * a quarter of the entries. A retirement counts as a loss unless a live check failed for that entry just now.
 */
export function judgeProposal(before: readonly DreamEntry[], proposal: ConsolidateProposal): Judgement {
  const byId = new Map(before.map((e) => [e.id, e]));
  const used = new Set<string>();
  const entries: ConsolidateProposal['entries'] = [];
  for (const [i, raw] of proposal.entries.entries()) {
    const refuse = (reason: string) => ({ ok: false as const, reason: `entry ${i + 1}: ${reason}`, detail: { entry: { ...raw, body: raw.body.slice(0, 200) } } });
    for (const id of raw.from) {
      if (!byId.has(id)) return refuse(`comes from ${id}, which is not an entry`);
      if (used.has(id)) return refuse(`${id} is used twice`);
      used.add(id);
    }
    const sources = cleanRefs(raw.sources);
    if (sources.length === 0) return refuse('has no source references');
    const allowed = new Set(raw.from.flatMap((id) => byId.get(id)?.sourceRefs ?? []));
    const invented = sources.filter((s) => !allowed.has(s));
    if (invented.length > 0) return refuse(`cites sources its entries did not have: ${invented.join(', ')}`);
    const entry = { from: raw.from, topic: redactSecrets(raw.topic.trim()).text.slice(0, 100), hint: redactSecrets(raw.hint.trim()).text.slice(0, 200), body: redactSecrets(raw.body.trim()).text.slice(0, 2_000), sources };
    if (!entry.topic || !entry.hint || !entry.body) return refuse('is empty');
    const claim = policyClaim(`${entry.topic}. ${entry.hint}. ${entry.body}`);
    if (claim) return refuse(`reads like a policy change ("${claim.slice(0, 60)}")`);
    entries.push(entry);
  }
  const retired: { id: string; reason: string }[] = [];
  for (const r of proposal.retire) {
    const e = byId.get(r.id);
    // Only a retirement the live check confirms is not a loss; the engine's word alone is not enough.
    if (e && e.staleReason !== null && !used.has(r.id) && !retired.some((x) => x.id === r.id)) retired.push({ id: r.id, reason: r.reason.slice(0, 300) });
  }
  const gone = new Set([...used, ...retired.map((r) => r.id)]);
  const dropped = before.filter((e) => !gone.has(e.id)).map((e) => e.id);
  if (dropped.length > before.length * MAX_DROP_SHARE) {
    return { ok: false, reason: `would drop ${dropped.length} of ${before.length} entries (more than a quarter)`, detail: { dropped } };
  }
  const changed = (e: ConsolidateProposal['entries'][number]) => {
    const old = byId.get(e.from[0] ?? '');
    return !old || old.topic !== e.topic || old.hint !== e.hint || old.body !== e.body || old.sourceRefs.join(' ') !== e.sources.join(' ');
  };
  return {
    ok: true,
    entries,
    retired,
    dropped,
    merged: entries.filter((e) => e.from.length > 1).length,
    rewritten: entries.filter((e) => e.from.length === 1 && changed(e)).length,
  };
}
