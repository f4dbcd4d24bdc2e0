// Garbage at POST /slack/events never gets a 5xx: bad JSON, wrong types, missing fields, huge bodies
// and wrong content types, signed and unsigned, are answered 4xx (unsigned 401, too large 413, signed
// but malformed 400 with the body still quarantined) or 2xx when usable, each with a message saying why.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEAM, slackSignature, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';

const SIGNING_SECRET = 'slack-signing-secret-for-the-events-fuzz';

/** A small seeded generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WEIRD: unknown[] = [null, 0, -1, 1e308, true, '', 'x'.repeat(5_000), [], [1, 'a'], {}, { nested: { deep: [null] } }, '\u0000', '<@U0TACITBOT>', 'T0TACIT01'];

describe('fuzzed /slack/events bodies', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let hook: string;
  let direct: pg.Client;

  beforeAll(async () => {
    slack = await startFakeSlack({ eventRetryDelaysMs: [] });
    tacit = await startTestTacit({ env: { SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, TACIT_PLAYGROUND: 'off' } });
    hook = `${tacit.url}/slack/events`;
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
    await slack?.close();
  });

  const post = async (body: string | Buffer, contentType: string, signed: boolean) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'content-type': contentType };
    if (signed) Object.assign(headers, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body.toString()) });
    const res = await fetch(hook, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  };

  /** Valid envelopes and their mutations: a field dropped, or replaced by a value of the wrong type. */
  function cases(random: () => number, n: number): { body: string; contentType: string }[] {
    const pick = <T,>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
    const out: { body: string; contentType: string }[] = [];
    for (let i = 0; i < n; i++) {
      const ts = `${1_700_000_000 + i}.000100`;
      const base: Record<string, unknown> = pick([
        slack.eventEnvelope({ type: 'app_mention', channel: 'C0GENERAL', user: 'U0ALICE', text: 'hi', ts }),
        slack.eventEnvelope({ type: 'message', subtype: 'message_changed', channel: 'C0GENERAL', ts, message: { user: 'U0ALICE', text: 'x', ts } }),
        slack.eventEnvelope({ type: 'message', subtype: 'message_deleted', channel: 'C0GENERAL', ts, deleted_ts: ts }),
        { type: 'block_actions', user: { id: 'U0ALICE' }, team: { id: DEFAULT_TEAM.teamId }, actions: [{ action_id: 'incident.acknowledge', value: 'inc' }] },
        { type: 'url_verification', challenge: 'abc' },
      ]);
      const mutated = structuredClone(base);
      const target = (typeof mutated.event === 'object' && mutated.event && random() < 0.6 ? mutated.event : mutated) as Record<string, unknown>;
      const key = pick(Object.keys(target));
      if (random() < 0.3) delete target[key];
      else target[key] = pick(WEIRD);
      const kind = random();
      if (kind < 0.6) out.push({ body: JSON.stringify(mutated), contentType: 'application/json' });
      else if (kind < 0.75) out.push({ body: `payload=${encodeURIComponent(JSON.stringify(mutated))}`, contentType: 'application/x-www-form-urlencoded' });
      else if (kind < 0.85) out.push({ body: JSON.stringify(mutated).slice(0, Math.floor(random() * 40)), contentType: 'application/json' });
      else out.push({ body: JSON.stringify(mutated), contentType: pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', '']) });
    }
    return out;
  }

  it('answers every mutated body, signed or not, with a 2xx or 4xx and a reason', async () => {
    const random = rng(13);
    const statuses = new Map<number, number>();
    for (const c of cases(random, 300)) {
      for (const signed of [true, false]) {
        const res = await post(c.body, c.contentType, signed);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) throw new Error(`${res.status} for ${signed ? 'signed' : 'unsigned'} ${c.contentType} ${c.body.slice(0, 3000)}: ${res.text}`);
        if (!signed) expect(res.status, c.body).toBe(401);
        if (signed && res.status === 400) expect(res.text, c.body).toMatch(/malformed Slack request/);
        if (res.status !== 200 || res.text !== '') expect(res.text.length, c.body).toBeGreaterThan(0);
      }
    }
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect(statuses.get(401)).toBe(300);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });

  it('refuses a huge body with 413 before reading it all, signed or not', async () => {
    const huge = JSON.stringify({ type: 'event_callback', team_id: DEFAULT_TEAM.teamId, event_id: 'Ev1', event: { type: 'message', channel: 'C0GENERAL', ts: '1.1', text: 'x'.repeat(3 * 1024 * 1024) } });
    for (const signed of [true, false]) {
      const res = await post(huge, 'application/json', signed);
      expect(res.status).toBe(413);
      expect(res.text).toMatch(/bytes/);
    }
  });

  it('answers 400 with the reason to a signed body it cannot use, and still quarantines it', async () => {
    const res = await post('{"type": "event_callback", "event": 42', 'application/json', true);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: expect.stringMatching(/^malformed Slack request: body is not JSON/), quarantined: true });
    const { rows } = await direct.query(`select reason, source_id from quarantine where reason like 'body is not JSON%' order by id desc limit 1`);
    expect(rows[0]?.source_id).toBe('slack:events');
  });

  it('answers 200 for a signed event of a team Tacit is not installed in (retrying cannot help)', async () => {
    const envelope = { ...slack.eventEnvelope({ type: 'message', channel: 'C0GENERAL', user: 'U0ALICE', text: 'hi', ts: '1700000000.000200' }), team_id: 'T0NOTOURS', context_team_id: 'T0NOTOURS', authorizations: [{ team_id: 'T0NOTOURS', user_id: 'U0OTHERBOT', is_bot: true }] };
    const res = await post(JSON.stringify(envelope), 'application/json', true);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/no Tacit installation/);
  });

  it('refuses garbage bytes and empty bodies without a signature with 401', async () => {
    for (const body of [Buffer.from([0xff, 0xfe, 0x00, 0x01]), '', 'payload=%ZZ', '[]']) {
      const res = await post(body, 'application/x-www-form-urlencoded', false);
      expect(res.status).toBe(401);
      expect(res.text).toMatch(/not signed by Slack/);
    }
  });
});
