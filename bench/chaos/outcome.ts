// What a scenario checks at the end, on both sides: every acknowledged alert is an event in Postgres
// and a card in Slack, no post is accepted twice, nothing is left unconsumed or undelivered.
import { waitFor } from '../../test/support/wait.js';
import type { Row } from './report.js';
import { cardsFor, duplicatePosts, outboxByStatus, unconsumedEvents, type World } from './world.js';

export interface Outcome {
  missingEvents: string[];
  missingCards: string[];
  duplicateCards: number;
  duplicatePosts: number;
  unconsumed: number;
  outbox: Record<string, number>;
  /** The most common last_error of rows not sent, with counts. */
  outboxErrors: string[];
  /** How long after `settle` was called the last card appeared. */
  settledMs: number;
}

/**
 * Titles not on the chat side: neither their own card nor a posted storm card that lists them (many
 * incidents opening together become one storm with one card, by default).
 */
export async function missingFromChat(world: World, titles: string[]): Promise<string[]> {
  const withoutCard = titles.filter((t) => cardsFor(world.slack, t).length === 0);
  if (withoutCard.length === 0) return [];
  const cards = new Set(world.slack.posts.filter((p) => !p.thread_ts).map((p) => p.ts));
  const inStorm = await world.db
    .query<{ title: string; ts: string | null }>(
      `select i.title, s.parent_message->>'messageId' as ts from incidents i join incidents s on s.id = i.storm_id where i.title = any($1)`,
      [withoutCard],
    )
    .then((r) => new Set(r.rows.filter((row) => row.ts !== null && cards.has(row.ts)).map((row) => row.title)))
    // A Tacit without storms (no storm_id column) has only its own cards.
    .catch(() => new Set<string>());
  return withoutCard.filter((t) => !inStorm.has(t));
}

/** Waits (up to `timeoutMs`) until every acknowledged title is on the chat side and the outbox is drained, then looks. */
export async function settle(world: World, ackedTitles: string[], timeoutMs: number): Promise<Outcome> {
  const t0 = Date.now();
  await waitFor(async () => (await missingFromChat(world, ackedTitles)).length === 0 && ((await outboxByStatus(world.db)).pending ?? 0) === 0, {
    timeoutMs, intervalMs: 250, what: 'cards',
  }).catch(() => undefined);
  const settledMs = Date.now() - t0;
  const { rows } = await world.db.query<{ title: string }>(`select distinct payload->>'title' as title from events where payload->>'title' = any($1)`, [ackedTitles]);
  const stored = new Set(rows.map((r) => r.title));
  return {
    missingEvents: ackedTitles.filter((t) => !stored.has(t)),
    missingCards: await missingFromChat(world, ackedTitles),
    duplicateCards: ackedTitles.reduce((n, t) => n + Math.max(0, cardsFor(world.slack, t).length - 1), 0),
    duplicatePosts: duplicatePosts(world.slack),
    unconsumed: await unconsumedEvents(world.db),
    outbox: await outboxByStatus(world.db),
    outboxErrors: await outboxErrors(world),
    settledMs,
  };
}

async function outboxErrors(world: World): Promise<string[]> {
  const { rows } = await world.db.query<{ status: string; error: string | null; n: number; attempts: number }>(
    `select status, last_error as error, count(*)::int as n, max(attempts)::int as attempts from outbox where status in ('pending', 'dead')
     group by status, last_error order by n desc limit 3`,
  );
  return rows.map((r) => `${r.status} ×${r.n} (attempts ≤${r.attempts}): ${r.error ? r.error.slice(0, 120) : 'no error recorded'}`);
}

/** Fills lost / duplicated / wedged and the reasons from an outcome. */
export function judge(row: Row, outcome: Outcome): void {
  const lost = new Set([...outcome.missingEvents, ...outcome.missingCards]);
  row.lost = lost.size;
  row.duplicated = Math.max(outcome.duplicateCards, outcome.duplicatePosts);
  row.wedged = outcome.unconsumed > 0 ? 1 : 0;
  const sample = (list: string[]) => list.slice(0, 3).map((t) => JSON.stringify(t)).join(', ') + (list.length > 3 ? ', …' : '');
  if (outcome.missingEvents.length > 0) row.failures.push(`${outcome.missingEvents.length} acknowledged alerts are not in the events table (${sample(outcome.missingEvents)})`);
  if (outcome.missingCards.length > 0) row.failures.push(`${outcome.missingCards.length} acknowledged alerts never reached Slack: no card of their own or of their storm (${sample(outcome.missingCards)})`);
  if (outcome.duplicateCards > 0) row.failures.push(`${outcome.duplicateCards} incidents got more than one card`);
  if (outcome.duplicatePosts > 0) row.failures.push(`${outcome.duplicatePosts} posts were accepted twice under one outbox key`);
  if (outcome.unconsumed > 0) row.failures.push(`${outcome.unconsumed} events still unconsumed at the deadline (workspace wedged)`);
  const dead = outcome.outbox.dead ?? 0;
  const pending = outcome.outbox.pending ?? 0;
  const errors = outcome.outboxErrors.length > 0 ? ` (last errors: ${outcome.outboxErrors.join('; ')})` : '';
  if (dead > 0) row.failures.push(`${dead} outbox rows dead${errors}`);
  if (pending > 0) row.failures.push(`${pending} outbox rows still pending at the deadline${dead > 0 ? '' : errors}`);
  row.notes.push(`outbox ${JSON.stringify(outcome.outbox)}, settled in ${(outcome.settledMs / 1000).toFixed(1)} s`);
}

/** Tacit is alive and answers /healthz 200. */
export async function healthy(world: World): Promise<boolean> {
  if (!world.tacit.alive) return false;
  try {
    const res = await fetch(`${world.tacit.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Enough time for `incidents` cards and summaries per channel at Slack's ~1 post/s, plus a margin that
 * covers a tick lock left behind by a killed process (60 s) — late is reported, only never is lost.
 */
export function deliveryBudgetMs(incidentsPerChannel: number): number {
  return 75_000 + incidentsPerChannel * 2 * 1_200;
}
