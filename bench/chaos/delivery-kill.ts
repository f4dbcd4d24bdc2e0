// Row 2: kill -9 of Tacit at the moment Slack has accepted a post but before its answer arrives
// (Slack's connection is cut too), repeatedly; while Tacit is down the channel gets busy (people keep
// talking, so the earlier post is far back in history). Every card and summary exactly once.
import type { Post } from '../../test/fakes/slack.js';
import { waitFor } from '../../test/support/wait.js';
import type { Scenario } from './run.js';
import { deliveryBudgetMs, healthy, judge, settle } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { alertmanagerBody, deliverAlert, Tally } from './senders.js';
import { startWorld } from './world.js';

export const deliveryKill: Scenario = {
  id: 'delivery-kill',
  name: 'kill -9 during delivery',
  async run({ short }) {
    const row = emptyRow(this.name);
    const [channels, incidents, kills, chatter] = short ? [6, 24, 3, 150] : [12, 200, 12, 500];
    // Storms off: the row needs a card and a summary per incident, many posts to kill Tacit inside.
    const world = await startWorld({ name: 'delivery-kill', channels, storms: false });
    const t0 = Date.now();
    try {
      const { slack, tacit } = world;
      // Each incident is a card and a summary: kill at posts spread over the first two thirds.
      const killAt = new Set(Array.from({ length: kills }, (_, k) => 1 + Math.floor(((k + 1) * incidents * 2 * 2) / (3 * (kills + 1)))));
      let killed = 0;
      const busyChannels: string[] = [];
      const posts = slack.posts;
      const push = posts.push.bind(posts);
      posts.push = (...items: Post[]): number => {
        const n = push(...items);
        if (killAt.has(n) && tacit.alive) {
          // The post is stored on Slack's side; its answer never reaches Tacit, and Tacit dies now.
          slack.crashAfterAccept('chat.postMessage');
          void tacit.kill();
          killed++;
          if (items[0]) busyChannels.push(items[0].channel);
        }
        return n;
      };
      const tally = new Tally();
      const acked: string[] = [];
      const deadline = Date.now() + 120_000;
      // A supervisor: restart whenever Tacit is down, after people have talked in the channel meanwhile.
      let done = false;
      const restarts: { at: number; posts: number }[] = [];
      const supervisor = (async () => {
        while (!done) {
          if (!tacit.alive) {
            const channel = busyChannels.shift();
            if (channel) for (let i = 0; i < chatter; i++) slack.say(channel, 'U0ALICE', `while Tacit was down ${i}`);
            await tacit.start();
            restarts.push({ at: Date.now(), posts: slack.posts.length });
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      for (let i = 0; i < incidents; i++) {
        const channel = i % channels;
        const title = `chaos delivery ${i}`;
        const source = world.sources[channel];
        const body = alertmanagerBody({ title, groupKey: `{}:{chaos="delivery-${i}"}` });
        if (await deliverAlert(source?.url ?? '', source?.token ?? '', body, tally, deadline)) acked.push(title);
      }
      // Each kill may leave a tick lock behind until it expires (up to 60 s): late is reported, only never is lost.
      const outcome = await settle(world, acked, deliveryBudgetMs(Math.ceil(incidents / channels)) + kills * 65_000);
      await waitFor(() => tacit.alive, { timeoutMs: 60_000, what: 'Tacit back up' }).catch(() => undefined);
      done = true;
      await supervisor;
      posts.push = push;
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = tally.serverErrors;
      judge(row, outcome);
      // A post Slack accepted must be recorded as that very message (not re-posted, not left unknown).
      const { rows: sent } = await world.db.query<{ key: string; ts: string | null }>(`select idempotency_key as key, sent_message->>'messageId' as ts from outbox where status = 'sent'`);
      const recorded = new Map(sent.map((r) => [r.key, r.ts]));
      const unrecorded = slack.posts.filter((p) => {
        const key = (p.metadata?.event_payload as { idempotency_key?: string } | undefined)?.idempotency_key;
        return key !== undefined && recorded.get(key) !== p.ts;
      }).length;
      expect(row, unrecorded === 0, `${unrecorded} posts Slack accepted are not recorded on their outbox row`);
      row.crashes = tacit.crashes + ((await healthy(world)) ? 0 : 1);
      expect(row, killed === kills, `only ${killed} of ${kills} kills happened (fewer posts than planned)`);
      expect(row, tally.acked === incidents, `${incidents - tally.acked} alerts were never acknowledged`);
      expect(row, row.serverErrors === 0, `${row.serverErrors} answers were 5xx other than 503 (${tally.summary()})`);
      expect(row, row.crashes === 0, `Tacit crashed or stopped answering /healthz`);
      // How long each restarted process took to get its first post accepted.
      const firstPost = restarts.map((r) => (slack.posts[r.posts]?.receivedAt ?? Number.NaN) - r.at).filter((ms) => ms >= 0);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      firstPost.sort((a, b) => a - b);
      if (firstPost.length > 0) row.notes.push(`first post after a restart: median ${s(firstPost[Math.floor(firstPost.length / 2)] ?? 0)}, max ${s(firstPost[firstPost.length - 1] ?? 0)}`);
      row.notes.push(`${killed} kills inside Slack's answer, ${chatter} messages in the channel while down; ${slack.posts.length} posts`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
    }
    return row;
  },
};
