// User story on the real platforms: a "node down" group of 1,000 alerts reaches a Slack or Discord
// channel as one card inside the platform's limits ("and 994 more"), with the full list as a file in
// its thread, through the real adapters and the local fakes (Discord refuses content over 2,000).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordDriver } from '../support/scenario-discord.js';
import { parseConnectAnswer, type Driver } from '../support/scenario-driver.js';
import { slackDriver } from '../support/scenario-slack.js';
import { waitFor } from '../support/wait.js';

function nodeDownGroup(size: number): string {
  return JSON.stringify({
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="NodeDown", cluster="prod-eu-1"}',
    status: 'firing',
    receiver: 'tacit',
    groupLabels: { alertname: 'NodeDown', cluster: 'prod-eu-1' },
    commonLabels: { alertname: 'NodeDown', cluster: 'prod-eu-1', severity: 'critical' },
    commonAnnotations: { summary: 'Nodes down in prod-eu-1' },
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: Array.from({ length: size }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'NodeDown', cluster: 'prod-eu-1', severity: 'critical', instance: `node-${i}.prod-eu-1:9100` },
      startsAt: new Date().toISOString(),
    })),
  });
}

for (const driver of [slackDriver(), discordDriver()] satisfies Driver[]) {
  describe(`a 1,000-alert group on ${driver.platform}`, () => {
    let source: { url: string; token: string };

    beforeAll(async () => {
      await driver.start({});
      source = parseConnectAnswer(await driver.command(driver.people.approver, 'connect alertmanager'));
    });
    afterAll(() => driver.stop());

    it('is one bounded card with the full alert list as a file in its thread', async () => {
      const res = await fetch(source.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${source.token}` }, body: nodeDownGroup(1_000) });
      expect(res.status).toBe(200);

      const { card, file } = await waitFor(
        async () => {
          const messages = await driver.botMessages();
          const card = messages.find((m) => m.threadId === null && m.text.includes('and 994 more'));
          const file = card && messages.filter((m) => m.threadId === card.id).flatMap((m) => m.files).find((f) => f.filename.startsWith('alerts-'));
          return card && file?.content ? { card, file, messages } : undefined;
        },
        { what: 'the card and its alert file', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(card.headline).toContain('Nodes down in prod-eu-1');
      expect(card.text.length).toBeLessThan(2_000);
      expect(card.files).toEqual([]); // the card itself never spills into an attachment
      expect(file.content.split('\n').filter((l) => l.startsWith('firing\t'))).toHaveLength(1_000);
      expect((await driver.botMessages()).filter((m) => m.threadId === null)).toHaveLength(1);
    }, 60_000);
  });
}
