// Row 1: kill -9 of Tacit while alerts are being posted continuously; it is restarted at once. Every
// body answered 2xx must be in the events table and become a card: an ack is a promise.
import type { Scenario } from './run.js';
import { deliveryBudgetMs, healthy, judge, settle } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { alertmanagerBody, deliverAlert, Tally } from './senders.js';
import { startWorld } from './world.js';

export const ingestKill: Scenario = {
  id: 'ingest-kill',
  name: 'kill -9 during ingest',
  async run({ short }) {
    const row = emptyRow(this.name);
    const [channels, alerts, kills, senders] = short ? [6, 36, 2, 4] : [12, 240, 4, 8];
    const world = await startWorld({ name: 'ingest-kill', channels });
    const t0 = Date.now();
    try {
      const tally = new Tally();
      const acked: string[] = [];
      let next = 0;
      const deadline = Date.now() + 120_000;
      const sending = Promise.all(
        Array.from({ length: senders }, async () => {
          while (next < alerts) {
            const i = next++;
            const channel = i % channels;
            const title = `chaos ingest ${i}`;
            const source = world.sources[channel];
            const body = alertmanagerBody({ title, groupKey: `{}:{chaos="ingest-${i}"}` });
            if (await deliverAlert(source?.url ?? '', source?.token ?? '', body, tally, deadline)) acked.push(title);
          }
        }),
      );
      // Kill while requests are in flight, evenly through the run; restart at once (as a supervisor would).
      for (let k = 1; k <= kills; k++) {
        const at = Math.floor((alerts * k) / (kills + 1));
        while (tally.acked < at && next < alerts) await new Promise((r) => setTimeout(r, 20));
        await world.tacit.kill();
        await world.tacit.start();
      }
      await sending;
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = tally.serverErrors;
      const outcome = await settle(world, acked, deliveryBudgetMs(Math.ceil(alerts / channels)));
      judge(row, outcome);
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      expect(row, tally.acked === alerts, `${alerts - tally.acked} alerts were never acknowledged within the sender's deadline`);
      expect(row, row.serverErrors === 0, `${row.serverErrors} answers were 5xx other than 503 (${tally.summary()})`);
      expect(row, row.crashes === 0, `Tacit crashed or stopped answering /healthz (${world.tacit.crashes} unexpected exits)`);
      row.notes.push(`${kills} kills; answers ${tally.summary()}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
    }
    return row;
  },
};
