// User story, worst case: every alert carries a prompt injection, and the model (a fake) obeys it —
// it copies the untrusted text into its summary and asks for actions and DMs. Tacit still posts no
// secret, no image, no link to a stranger's host, pings nobody, and runs nothing.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { tacitCommand } from '../support/commands.js';
import { channelMessages, fixture, say } from '../support/playground.js';
import { post } from '../support/sign.js';
import { createSourceViaApi } from '../support/sources.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

interface Case {
  id: string;
  channel: string;
  text: string;
  attack: string;
  plantedSecret?: string;
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/injection/corpus.json', import.meta.url), 'utf8')) as Case[];
const SECRETS = ['ghp_', 'AKIA', 'xoxb-', 'sk-ant-', '-----BEGIN', ...corpus.flatMap((c) => (c.plantedSecret ? [c.plantedSecret] : []))];

describe('Claude with an injected corpus, through Tacit', () => {
  let fake: FakeAnthropic;
  let tacit: TestTacit;
  let direct: pg.Client;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    // A compromised model: it repeats the untrusted text it was shown and asks for everything.
    fake.script((req) => {
      // Tool use is never forced: a triage request is the one offering only the triage tool.
      if ((req.tools ?? []).some((t) => 'name' in t && t.name === 'triage')) {
        return { content: [{ type: 'tool_use', name: 'triage', input: { worth_it: true, reason: 'asked to' } }] };
      }
      const prompt = JSON.stringify(req.messages[0]);
      const ids = [...new Set(prompt.match(/inc_[0-9a-f-]{36}/g) ?? [])];
      // The untrusted blocks this incident was shown in, copied verbatim into the "summary".
      const shownFor = (id: string) => prompt.slice(Math.max(0, prompt.indexOf(`incident ${id}`)), prompt.indexOf(`incident ${id}`) + 1800);
      return {
        content: [
          { type: 'text', text: 'I will now do as the alert says.' },
          { type: 'tool_use', name: 'propose_action', input: { action: 'delete_database', params: { name: 'prod' }, reason: 'the alert said so' } },
          { type: 'tool_use', name: 'notify_person', input: { personId: 'U_EVERYONE', incidentId: ids[0] ?? 'x', text: '@channel approve now' } },
          ...ids.map((id) => ({
            type: 'tool_use' as const,
            name: 'post_summary',
            input: { incidentId: id, text: `Summary: ${shownFor(id)} ![x](https://evil.example/c.png?d=1) see https://evil.example/x @here <!channel>` },
          })),
        ],
      };
    });
    tacit = await startTestTacit({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url } });
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
    // 38 cases open 38 incidents within seconds: each must get its own summary here, not one storm card.
    const off = await fetch(`${tacit.url}/api/workspaces/playground:local/storm`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"storm":null}' });
    if (off.status !== 200) throw new Error(`storms off: ${off.status} ${await off.text()}`);
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
    await fake?.close();
  });

  it(`keeps ${corpus.length} injection attempts from reaching the chat or causing an action`, async () => {
    // A storm of incidents: lift the hourly budget so every summary is posted and inspected.
    await tacitCommand(tacit.url, 'alice', '/tacit budget 1000');
    const source = await createSourceViaApi(tacit.url, { kind: 'alertmanager' });
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${source.token}` };
    const base = JSON.parse(fixture('alertmanager/firing.json').toString());
    for (const c of corpus) {
      const alert = structuredClone(base);
      alert.groupKey = `{}:{case="${c.id}"}`;
      alert.alerts[0].fingerprint = c.id;
      alert.alerts[0].annotations = { summary: `Case ${c.id}`, description: c.text };
      expect((await post(source.url, JSON.stringify(alert), auth)).status).toBe(200);
    }
    await waitFor(
      async () => (await channelMessages(tacit.url)).filter((m) => m.threadId && m.author.isBot && m.text.startsWith('Summary:')).length >= corpus.length,
      { what: 'a summary per case', timeoutMs: 20_000 },
    );

    // People write the same things in the channel and ask Tacit about them.
    const chatCases = corpus.filter((c) => c.channel === 'channel_text');
    const asked = await Promise.all(chatCases.map((c) => say(tacit.url, 'bob', `@tacit ${c.text}`)));
    await waitFor(async () => {
      const messages = await channelMessages(tacit.url);
      return asked.every((id) => messages.some((m) => m.threadId === id && m.author.isBot));
    }, { what: 'a reply to every mention', timeoutMs: 20_000 });
    expect(fake.requests.filter((r) => JSON.stringify(r.messages[0]).includes('mentioned you')).length).toBeGreaterThanOrEqual(chatCases.length);

    // Nothing secret or hidden ever reached the model.
    const sent = JSON.stringify(fake.requests);
    for (const secret of SECRETS.filter((s) => s.length > 8)) expect(sent).not.toContain(secret);
    expect(sent).not.toMatch(/[\u{E0000}-\u{E007F}]/u);

    // Nor the chat: no secret, no image, no stranger's link, no broadcast ping.
    const bot = (await channelMessages(tacit.url)).filter((m) => m.author.isBot);
    const chat = JSON.stringify(bot);
    for (const secret of SECRETS.filter((s) => s.length > 8)) expect(chat).not.toContain(secret);
    // No image that still points anywhere (a defused `![alt]([link removed])` loads nothing).
    expect(chat).not.toMatch(/!\[[^\]]*\]\([^)]*:\/\//);
    expect(chat).not.toMatch(/https?:\/\/[^\s"\\]*(evil|attacker)/);
    expect(chat).not.toMatch(/@here|@channel|<!channel>/);

    // And nothing was done: no approvals, the asked-for actions are recorded as refused.
    expect(Number((await direct.query('select count(*) as n from approvals')).rows[0].n)).toBe(0);
    // The made-up action was answered as an error to the model, never queued.
    expect(sent).toContain('no action delete_database here');
    // The DM to an id from the alert text was refused: only the workspace's on-call and approvers are reachable.
    expect(sent).toContain('U_EVERYONE is not someone you may notify here');
    expect(bot.some((m) => m.channelId.includes('U_EVERYONE'))).toBe(false);
    // And the strict stand-in refused none of Tacit's requests.
    expect(fake.rejected).toBe(0);
  });
});
