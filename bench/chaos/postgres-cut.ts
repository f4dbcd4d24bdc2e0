// Row 4: Postgres "stops" (test/support/pg-proxy.ts cuts every connection and refuses new ones)
// while alerts arrive. While it is cut Tacit answers 503 only (never 500, never a hang); when it
// returns Tacit recovers by itself, every acknowledged alert becomes a card, and a mention sent while
// it was down is answered.
import { startPgProxy } from '../../test/support/pg-proxy.js';
import type { Scenario } from './run.js';
import { deliveryBudgetMs, healthy, judge, settle } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { alertmanagerBody, send, Tally } from './senders.js';
import { waitFor } from '../../test/support/wait.js';
import { SIGNING_SECRET, startWorld, type World } from './world.js';

const RECOVERY_DEADLINE_MS = 30_000;

/** Slack's side of an event delivery: the first attempt, then a retry after each delay until one is acknowledged. */
async function slackDelivers(world: World, event: Record<string, unknown>, retryDelaysMs: number[]): Promise<boolean> {
  const target = `${world.tacit.url}/slack/events`;
  const first = await world.slack.sendEvent(target, SIGNING_SECRET, event).catch(() => ({ status: 0, eventId: undefined }));
  if (first.status === 200) return true;
  for (const [i, delay] of retryDelaysMs.entries()) {
    await new Promise((r) => setTimeout(r, delay));
    const retry = await world.slack.sendEvent(target, SIGNING_SECRET, event, { eventId: first.eventId, retryNum: i + 1, retryReason: 'http_error' }).catch(() => ({ status: 0 }));
    if (retry.status === 200) return true;
  }
  return false;
}

export const postgresCut: Scenario = {
  id: 'postgres-cut',
  name: 'postgres stopped',
  async run({ short }) {
    const row = emptyRow(this.name);
    const [channels, senders, cutMs] = short ? [4, 2, 5_000] : [8, 8, 20_000];
    const proxy = await startPgProxy();
    const world = await startWorld({ name: 'postgres-cut', channels, databaseUrl: (url) => proxy.url(url) });
    const t0 = Date.now();
    try {
      const tally = new Tally();
      const acked: string[] = [];
      const wrongWhileCut = new Map<number, number>();
      let cut = false;
      let restoredAt = 0;
      let firstAckAfter = 0;
      let stop = false;
      let n = 0;
      // Senders in a loop: each alert is retried until acknowledged, like Alertmanager.
      const sending = Promise.all(
        Array.from({ length: senders }, async () => {
          while (!stop) {
            const i = n++;
            const title = `chaos postgres ${i}`;
            const source = world.sources[i % channels];
            const body = alertmanagerBody({ title, groupKey: `{}:{chaos="postgres-${i}"}` });
            tally.sent++;
            for (let attempt = 0; ; attempt++) {
              const wasCut = cut;
              const answer = await send(source?.url ?? '', body, { 'content-type': 'application/json', authorization: `Bearer ${source?.token ?? ''}` }, 20_000);
              tally.record(answer.status);
              if (wasCut && cut && answer.status !== 503) wrongWhileCut.set(answer.status, (wrongWhileCut.get(answer.status) ?? 0) + 1);
              if (answer.status >= 200 && answer.status < 300) {
                tally.acked++;
                acked.push(title);
                if (restoredAt && !firstAckAfter && !wasCut) firstAckAfter = Date.now();
                break;
              }
              if (stop && attempt > 100) break;
              await new Promise((r) => setTimeout(r, 250));
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 2_000));
      cut = true;
      await proxy.stop();
      // Someone mentions Tacit while the database is down; Slack redelivers what was not acknowledged
      // (at ~1 min and ~5 min; here compressed to 1 s, the outage's length and twice that).
      const channel = world.channels[0] ?? '';
      const said = world.slack.say(channel, 'U0ALICE', '<@U0TACITBOT> status?');
      const mention = Promise.all(
        ['app_mention', 'message'].map((type) =>
          slackDelivers(world, { type, channel, channel_type: 'channel', user: 'U0ALICE', text: said.text, ts: said.ts }, [1_000, cutMs, 2 * cutMs]),
        ),
      );
      await new Promise((r) => setTimeout(r, cutMs));
      await proxy.start();
      cut = false;
      restoredAt = Date.now();
      const recovered = Date.now() + RECOVERY_DEADLINE_MS;
      while (!firstAckAfter && Date.now() < recovered) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 2_000));
      stop = true;
      await sending;
      const mentionAcked = (await mention).some(Boolean);
      const answered = await waitFor(() => world.slack.posts.some((p) => p.thread_ts === said.ts), { timeoutMs: 30_000, intervalMs: 200 })
        .then(() => true)
        .catch(() => false);
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = tally.serverErrors;
      const outcome = await settle(world, acked, deliveryBudgetMs(Math.ceil(acked.length / channels)));
      judge(row, outcome);
      if (!answered) row.lost++;
      expect(row, answered, `a mention sent while Postgres was down was never answered (Slack's deliveries ${mentionAcked ? 'were acknowledged' : 'were never acknowledged'})`);
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      const wrong = [...wrongWhileCut.entries()].map(([s, c]) => `${s === 0 ? 'no answer' : s}×${c}`).join(' ');
      expect(row, wrongWhileCut.size === 0, `while Postgres was cut Tacit answered other than 503: ${wrong}`);
      expect(row, firstAckAfter > 0, `no alert acknowledged within ${RECOVERY_DEADLINE_MS / 1000} s of Postgres returning`);
      expect(row, world.tacit.starts === 1, 'Tacit had to be restarted');
      expect(row, tally.acked === tally.sent, `${tally.sent - tally.acked} alerts were never acknowledged`);
      expect(row, row.serverErrors === 0, `${row.serverErrors} answers were 5xx other than 503 (${tally.summary()})`);
      expect(row, row.crashes === 0, 'Tacit crashed or stopped answering /healthz');
      row.notes.push(`cut ${cutMs / 1000} s; first ack ${firstAckAfter ? `${((firstAckAfter - restoredAt) / 1000).toFixed(1)} s` : 'never'} after it returned; answers ${tally.summary()}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
      await proxy.close();
    }
    return row;
  },
};
