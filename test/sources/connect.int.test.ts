// `/tacit connect` from the channel: the credentials come back privately, once, and work at once;
// quarantined bodies are listed for operators.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelMessages, fixture } from '../support/playground.js';
import { post } from '../support/sign.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';

async function command(baseUrl: string, userId: string, text: string): Promise<{ command?: boolean; privateText?: string }> {
  const res = await fetch(`${baseUrl}/playground/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, channelId: 'playground:incidents', text }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { command?: boolean; privateText?: string };
}

describe('/tacit connect', () => {
  let tacit: TestTacit;
  beforeAll(async () => {
    tacit = await startTestTacit({ env: { TACIT_SECRET_KEY: 'connect-test-key-0123456789abcdef01234567' } });
  });
  afterAll(() => tacit?.cleanup());

  it('answers privately with a working URL and token, and posts nothing in the channel', async () => {
    const before = await channelMessages(tacit.url);
    const reply = await command(tacit.url, 'alice', '/tacit connect alertmanager #incidents');
    expect(reply.command).toBe(true);
    expect(reply.privateText).toContain('Only you can see this message');
    const url = /URL: (\S+)/.exec(reply.privateText ?? '')?.[1] ?? '';
    const token = /Token: (\S+)/.exec(reply.privateText ?? '')?.[1] ?? '';
    expect(url).toMatch(new RegExp(`^${tacit.url}/hooks/alerts/src_`));
    expect((await channelMessages(tacit.url)).length).toBe(before.length);

    const res = await post(url, fixture('alertmanager/firing.json').toString(), { 'content-type': 'application/json', authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
  });

  it('explains what it needs when the kind or channel is wrong', async () => {
    expect((await command(tacit.url, 'alice', '/tacit connect nagios')).privateText).toMatch(/Which kind of source\?/);
    expect((await command(tacit.url, 'alice', '/tacit connect grafana #nowhere')).privateText).toMatch(/I am not in #nowhere/);
    expect((await command(tacit.url, 'alice', '/tacit connect sentry')).privateText).toMatch(/Could not connect: .*Client Secret/);
    expect((await command(tacit.url, 'bob', '/tacit frobnicate')).privateText).toMatch(/I don't know `\/tacit frobnicate`/);
  });

  it('gives a GitHub source a signing secret', async () => {
    const reply = await command(tacit.url, 'alice', '/tacit connect github');
    expect(reply.privateText).toMatch(/Signing secret: [0-9a-f]{64}/);
    expect(reply.privateText).toMatch(/\/hooks\/github\/src_/);
  });

  it('lists quarantined bodies on the admin API, without their secrets', async () => {
    const source = tacit.playgroundSource;
    await post(`${tacit.url}/hooks/alerts/${source?.id}`, 'not json at all', { 'content-type': 'application/json', authorization: `Bearer ${source?.token}` });
    const res = await fetch(`${tacit.url}/api/quarantine`);
    expect(res.status).toBe(200);
    const { quarantine } = (await res.json()) as { quarantine: { sourceId: string; reason: string; bytes: number }[] };
    expect(quarantine[0]).toMatchObject({ sourceId: source?.id, bytes: 15 });
    expect(quarantine[0]?.reason).toMatch(/not JSON/);
  });
});
