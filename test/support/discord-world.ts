// A whole Tacit on the local Discord with an Alertmanager to silence in, set up the way a server's
// admin would: `/tacit connect alertmanager`, `/tacit integration alertmanager <url>`, `/tacit
// approvers`. Tests fire alerts, ask for silences in incident threads and read what people see.
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { DEFAULT_GUILD, startFakeDiscord, visibleText, type FakeDiscord, type Post } from '../fakes/discord.js';
import { fixture, postAlert } from './playground.js';
import { startTestTacit, type TestTacit } from './tacit.js';
import { waitFor } from './wait.js';

export const GUILD = DEFAULT_GUILD.id;
export const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
export const [ALICE = '', BOB = ''] = DEFAULT_GUILD.members.map((m) => m.id);
export const WORKSPACE = `discord:${GUILD}`;
const STRING = 3;

export interface DiscordWorld {
  discord: FakeDiscord;
  alertmanager: FakeAlertmanager;
  tacit: TestTacit;
  /** Runs `/tacit <sub>` with string options and resolves with the private answer. */
  command(userId: string, sub: string, options?: Record<string, string>): Promise<string>;
  /** An Alertmanager alert whose summary is `title`; resolves with the incident card's post. */
  fire(alertname: string, title: string): Promise<Post>;
  /** Someone asks, in the card's thread, to silence the incident; resolves with the approval card's post. */
  requestSilence(card: Post, userId: string): Promise<Post>;
  close(): Promise<void>;
}

/** `embedded`: on PGlite instead of PostgreSQL. */
export async function startDiscordWorld(opts: { embedded?: boolean } = {}): Promise<DiscordWorld> {
  const discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
  const alertmanager = await startFakeAlertmanager();
  const tacit = await startTestTacit({
    embedded: opts.embedded,
    env: {
      DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off',
      TACIT_SECRET_KEY: 'ab'.repeat(32),
    },
  });
  const command = async (userId: string, sub: string, options: Record<string, string> = {}) => {
    const run = discord.command(CHANNEL, userId, sub, Object.entries(options).map(([name, value]) => ({ name, type: STRING, value })));
    const answer = await waitFor(() => discord.originals.find((o) => o.token === run.token), { what: `the answer to /tacit ${sub}` });
    return String(answer.body.content ?? '');
  };
  const connected = await command(ALICE, 'connect', { kind: 'alertmanager' });
  const url = /URL: (\S+)/.exec(connected)?.[1] ?? '';
  const token = /Token: (\S+)/.exec(connected)?.[1] ?? '';
  const sourceId = url.split('/').pop() ?? '';
  if (!sourceId || !token) throw new Error(`could not connect Alertmanager: ${connected}`);
  await command(ALICE, 'integration', { kind: 'alertmanager', url: alertmanager.url });
  await command(ALICE, 'approvers', { people: `<@${ALICE}> <@${BOB}>` });

  return {
    discord, alertmanager, tacit, command,
    async fire(alertname, title) {
      const payload = JSON.parse(fixture('alertmanager/firing.json').toString('utf8')) as {
        alerts: { labels: Record<string, string>; annotations: Record<string, string>; fingerprint: string }[];
        groupLabels: Record<string, string>; commonLabels: Record<string, string>; commonAnnotations: Record<string, string>; groupKey?: string;
      };
      // Labels of its own: nothing to correlate it with another incident's alerts.
      const own = { alertname, namespace: alertname.toLowerCase(), service: `${alertname.toLowerCase()}-svc`, pod: `${alertname.toLowerCase()}-0` };
      for (const a of payload.alerts) {
        Object.assign(a.labels, own);
        a.annotations.summary = title;
        a.fingerprint = `${alertname}`.padEnd(16, '0').slice(0, 16);
      }
      payload.groupKey = `{}:{alertname="${alertname}"}`;
      Object.assign(payload.groupLabels, { alertname, namespace: own.namespace });
      Object.assign(payload.commonLabels, own);
      payload.commonAnnotations.summary = title;
      const before = discord.posts.length;
      const res = await postAlert(tacit.url, sourceId, token, JSON.stringify(payload));
      if (res.status !== 200) throw new Error(`the alert was refused: ${res.status}`);
      return waitFor(() => discord.posts.slice(before).find((p) => p.message.channel_id === CHANNEL && visibleText(p.body).includes('Firing')), {
        // A second incident opening soon after another waits a moment to see whether a storm forms.
        what: `the card of ${alertname}`, timeoutMs: 25_000,
      });
    },
    async requestSilence(card, userId) {
      await waitFor(() => discord.threads.find((t) => t.id === card.message.id), { what: 'the incident thread' });
      discord.say(card.message.id, userId, `<@${discord.botUser.id}> silence this for 1h`);
      return waitFor(() => discord.posts.find((p) => p.message.channel_id === card.message.id && visibleText(p.body).includes('Approval needed')), { what: 'the approval card' });
    },
    async close() {
      await tacit.cleanup();
      await alertmanager.close();
      await discord.close();
    },
  };
}
