// Row 3: Tacit's Redis (a private redis-server) is killed while alerts arrive and comes back empty,
// as after a restart without persistence or a failover to a fresh replica. The heartbeat must tick
// again within 60 s without anyone restarting Tacit, and every acknowledged alert must become a card.
// Alerts are critical before the outage and warnings from then on, so only scheduled beats can tick them.
import { waitFor } from '../../test/support/wait.js';
import type { Scenario } from './run.js';
import { deliveryBudgetMs, healthy, judge, missingFromChat, settle } from './outcome.js';
import { RedisServer } from './processes.js';
import { emptyRow, expect } from './report.js';
import { alertmanagerBody, deliverAlert, Tally } from './senders.js';
import { startWorld } from './world.js';

const TICK_DEADLINE_MS = 60_000;

export const redisEmpty: Scenario = {
  id: 'redis-empty',
  name: 'redis restarted empty',
  async run({ short }) {
    const row = emptyRow(this.name);
    const [channels, perPhase, outageMs] = short ? [4, 8, 3_000] : [8, 40, 10_000];
    const redis = await RedisServer.start();
    const world = await startWorld({ name: 'redis-empty', channels, redisUrl: redis.url });
    const t0 = Date.now();
    try {
      const tally = new Tally();
      const acked: string[] = [];
      let n = 0;
      // Warnings from the outage on: they wake nothing, so only the restored schedules can tick them.
      const sendBatch = async (phase: string, count: number, deadline: number, severity: 'critical' | 'warning') => {
        await Promise.all(
          Array.from({ length: count }, async () => {
            const i = n++;
            const title = `chaos redis ${phase} ${i}`;
            const source = world.sources[i % channels];
            const body = alertmanagerBody({ title, groupKey: `{}:{chaos="redis-${i}"}`, severity });
            if (await deliverAlert(source?.url ?? '', source?.token ?? '', body, tally, deadline)) acked.push(title);
          }),
        );
      };
      await sendBatch('before', perPhase, Date.now() + 30_000, 'critical');
      await redis.kill();
      // Senders keep trying through the outage (503s are expected and retried).
      const during = sendBatch('during', perPhase, Date.now() + outageMs + 60_000, 'warning');
      await new Promise((r) => setTimeout(r, outageMs));
      await redis.restart();
      const back = Date.now();
      await during;
      // Ticking again means the schedule runs: after a few quiet beats (wake-ups queued during the
      // outage have run their course), a warning — which wakes nothing — must still be ticked.
      await new Promise((r) => setTimeout(r, 3 * world.heartbeatIntervalMs));
      const probe = 'chaos redis probe';
      if (await deliverAlert(world.sources[0]?.url ?? '', world.sources[0]?.token ?? '', alertmanagerBody({ title: probe, groupKey: '{}:{chaos="redis-probe"}', severity: 'warning' }), tally, Date.now() + 30_000)) acked.push(probe);
      const ticked = await waitFor(async () => (await missingFromChat(world, [probe])).length === 0, { timeoutMs: Math.max(1_000, back + TICK_DEADLINE_MS - Date.now()), intervalMs: 200, what: 'a tick' })
        .then(() => Date.now() - back)
        .catch(() => undefined);
      await sendBatch('after', perPhase, Date.now() + 30_000, 'warning');
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = tally.serverErrors;
      const outcome = await settle(world, acked, deliveryBudgetMs(Math.ceil((3 * perPhase) / channels)));
      judge(row, outcome);
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      expect(row, ticked !== undefined, `no scheduled tick within ${TICK_DEADLINE_MS / 1000} s of Redis coming back empty (a warning sent after it came back never became a card)`);
      expect(row, world.tacit.starts === 1, 'Tacit had to be restarted');
      expect(row, tally.acked === tally.sent, `${tally.sent - tally.acked} alerts were never acknowledged (${tally.summary()})`);
      expect(row, row.serverErrors === 0, `${row.serverErrors} answers were 5xx other than 503 (${tally.summary()})`);
      expect(row, row.crashes === 0, 'Tacit crashed or stopped answering /healthz');
      row.notes.push(`a warning sent after 3 quiet beats was ${ticked === undefined ? 'never ticked' : `ticked ${(ticked / 1000).toFixed(1)} s after Redis came back`}; answers ${tally.summary()}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
      await redis.kill();
    }
    return row;
  },
};
