// Row 5: alert groups and keys that once wedged a workspace: groups of 200, 1,000 and 12,000 alerts,
// a 3,000-character groupKey and fingerprint. Each is answered 2xx, and right after each one an
// ordinary incident in another channel of the same workspace still gets its card within a beat
// (plus delivery time). Wedged = events neither consumed nor quarantined at the end.
import { waitFor } from '../../test/support/wait.js';
import type { Scenario } from './run.js';
import { healthy, missingFromChat } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { alertmanagerBody, send, Tally, type AlertSpec } from './senders.js';
import { cardsFor, duplicatePosts, outboxByStatus, startWorld, unconsumedEvents } from './world.js';

/** Slack refuses messages over 50 blocks or 40,000 characters of text: a bounded card stays under both. */
const MAX_BLOCKS = 50;
const MAX_TEXT = 40_000;
const BODY_LIMIT = 1024 * 1024;

const long = (what: string) => `${what}-`.padEnd(3_000, 'x');

const cases: { name: string; spec: AlertSpec }[] = [
  { name: 'group of 200', spec: { title: 'chaos poison group 200', groupKey: '{}:{chaos="poison-200"}', alerts: 200 } },
  { name: 'group of 1,000', spec: { title: 'chaos poison group 1000', groupKey: '{}:{chaos="poison-1000"}', alerts: 1_000 } },
  { name: 'group of 12,000', spec: { title: 'chaos poison group 12000', groupKey: '{}:{chaos="poison-12000"}', alerts: 12_000 } },
  { name: '3,000-char groupKey', spec: { title: 'chaos poison long group key', groupKey: long('{}:{chaos="poison-key"}') } },
  { name: '3,000-char fingerprint', spec: { title: 'chaos poison long fingerprint', groupKey: '{}:{chaos="poison-fp"}', fingerprint: long('fp') } },
];

export const poison: Scenario = {
  id: 'poison',
  name: 'poison groups and keys',
  async run() {
    const row = emptyRow(this.name);
    const world = await startWorld({ name: 'poison', channels: cases.length + 1 });
    const t0 = Date.now();
    try {
      const tally = new Tally();
      const canarySource = world.sources[cases.length];
      // One beat to tick, and the card's delivery (at most a few seconds on a loaded machine).
      const canaryDeadlineMs = world.heartbeatIntervalMs + 10_000;
      const canaryTimes: number[] = [];
      const answerTimes: number[] = [];
      for (const [i, c] of cases.entries()) {
        const source = world.sources[i];
        const body = alertmanagerBody(c.spec);
        if (body.length >= BODY_LIMIT) throw new Error(`the ${c.name} body is ${body.length} bytes, over the 1 MiB cap: shrink it`);
        tally.sent++;
        const postedAt = Date.now();
        const answer = await send(source?.url ?? '', body, { 'content-type': 'application/json', authorization: `Bearer ${source?.token ?? ''}` }, 60_000);
        answerTimes.push(Date.now() - postedAt);
        tally.record(answer.status);
        const ok = answer.status >= 200 && answer.status < 300;
        if (ok) tally.acked++;
        expect(row, ok, `${c.name} answered ${answer.status || 'nothing'} ${answer.body.slice(0, 160)}`);
        // Right after: an ordinary incident elsewhere in the workspace.
        const title = `chaos canary after ${c.name}`;
        const sentAt = Date.now();
        tally.sent++;
        const canary = await send(canarySource?.url ?? '', alertmanagerBody({ title, groupKey: `{}:{chaos="canary-${i}"}` }), {
          'content-type': 'application/json', authorization: `Bearer ${canarySource?.token ?? ''}`,
        });
        tally.record(canary.status);
        if (canary.status >= 200 && canary.status < 300) tally.acked++;
        const posted = await waitFor(async () => (await missingFromChat(world, [title])).length === 0, { timeoutMs: canaryDeadlineMs, intervalMs: 100, what: 'canary card' })
          .then(() => true)
          .catch(() => false);
        canaryTimes.push(Date.now() - sentAt);
        expect(row, posted, `after the ${c.name}, another incident got no card within ${canaryDeadlineMs / 1000} s (one beat + 10 s for delivery)`);
      }
      // Everything stored must be consumed or quarantined; give the big groups a few beats.
      const consumeStarted = Date.now();
      await waitFor(async () => (await unconsumedEvents(world.db)) === 0, { timeoutMs: 30_000, intervalMs: 500, what: 'events consumed' }).catch(() => undefined);
      const unconsumed = await unconsumedEvents(world.db);
      row.wedged = unconsumed > 0 ? 1 : 0;
      row.notes.push(`all events consumed or quarantined ${((Date.now() - consumeStarted) / 1000).toFixed(1)} s after the last case`);
      expect(row, unconsumed === 0, `${unconsumed} events neither consumed nor quarantined 30 s after the last case (workspace wedged)`);
      const { rows: quarantined } = await world.db.query<{ kind: string; n: number }>(`select kind, count(*)::int as n from quarantine group by kind`);
      // Each poison group is still an incident: one card, bounded however many alerts it holds.
      const titles = cases.map((c) => c.spec.title);
      await waitFor(async () => (await missingFromChat(world, titles)).length === 0, { timeoutMs: 15_000, intervalMs: 250 }).catch(() => undefined);
      const missing = await missingFromChat(world, titles);
      for (const c of cases) {
        const cards = cardsFor(world.slack, c.spec.title);
        expect(row, !missing.includes(c.spec.title), `the ${c.name} never reached Slack (no card of its own or of its storm)`);
        if (cards.length > 1) row.duplicated += cards.length - 1;
        const big = cards.find((p) => (p.blocks?.length ?? 0) > MAX_BLOCKS || (p.text ?? '').length > MAX_TEXT);
        expect(row, !big, `the ${c.name} card is unbounded (${big?.blocks?.length} blocks, ${big?.text?.length} characters)`);
      }
      row.duplicated = Math.max(row.duplicated, duplicatePosts(world.slack));
      expect(row, row.duplicated === 0, `${row.duplicated} duplicate cards or posts`);
      const dead = (await outboxByStatus(world.db)).dead ?? 0;
      expect(row, dead === 0, `${dead} outbox rows dead`);
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = tally.serverErrors;
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      expect(row, row.crashes === 0, 'Tacit crashed or stopped answering /healthz');
      expect(row, tally.serverErrors === 0, `${tally.serverErrors} answers were 5xx (${tally.summary()})`);
      const seconds = (list: number[]) => list.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ');
      row.notes.push(`each case answered in ${seconds(answerTimes)}`);
      row.notes.push(`canary card after each case in ${canaryTimes.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}; quarantine ${JSON.stringify(quarantined)}`);
      const poisonCards = cases.map((c) => `${c.name}: ${cardsFor(world.slack, c.spec.title).length}`).join(', ');
      row.notes.push(`cards per case — ${poisonCards}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
    }
    return row;
  },
};
