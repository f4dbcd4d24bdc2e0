// One Slack workspace through Bolt and the local Slack, the features beyond posting: files uploaded
// into the incident thread (once, also after a crash), people from other organisations flagged on
// clicks, the App Home, and the backfill of what was said while Tacit was down.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AliveMarks } from '../../../src/chat/slack/alive.js';
import { loadConfig } from '../../../src/config.js';
import { approvals, auditLog, events, incidents, outbox } from '../../../src/db/schema.js';
import { createLogger } from '../../../src/log.js';
import { startTacit, type Tacit } from '../../../src/main.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../../fakes/slack.js';
import { redisUrl } from '../../support/env.js';
import { fixture, postAlert } from '../../support/playground.js';
import { startTestTacit, type TestTacit } from '../../support/tacit.js';
import { deliverPaced } from '../../support/delivery.js';
import { waitFor } from '../../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-feature-tests';
const env = (slack: FakeSlack) => ({ SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl });

describe('Slack files, external users, App Home and backfill', () => {
  let slack: FakeSlack;
  let tacit: TestTacit;
  let restarted: Tacit | undefined;
  let hook: string;
  let card: { ts: string };
  let incidentId: string;

  beforeAll(async () => {
    slack = await startFakeSlack({ teams: [{ ...DEFAULT_TEAM, users: [{ id: 'U0ALICE', name: 'alice', role: 'admin' }, { id: 'U0GUEST', name: 'guest', teamId: 'T0OTHERORG' }] }] });
    tacit = await startTestTacit({ env: env(slack) });
    hook = `${tacit.url}/slack/events`;
    // An incident with its card in #general, through the slash command and an Alertmanager webhook.
    await slack.sendSlashCommand(hook, SIGNING_SECRET, { text: 'connect alertmanager', user_id: 'U0ALICE', user_name: 'alice', channel_id: 'C0GENERAL' });
    const answer = JSON.stringify((await waitFor(() => slack.responses.find((r) => JSON.stringify(r.body).includes('URL:')), { what: 'the connect answer' })).body);
    const url = /URL: (\S+?)\\n/.exec(answer)?.[1] ?? '';
    const token = /Token: (\S+?)\\n/.exec(answer)?.[1] ?? '';
    expect((await postAlert(tacit.url, url.split('/').pop() ?? '', token, fixture('alertmanager/firing.json'))).status).toBe(200);
    card = await waitFor(() => slack.posts.find((p) => !p.thread_ts && (p.text ?? '').includes('Firing')), { what: 'the incident card' });
    const [incident] = await tacit.database.db.select().from(incidents);
    incidentId = incident?.id ?? '';
  });
  afterAll(async () => {
    await restarted?.stop();
    await tacit?.cleanup();
    await slack?.close();
  });

  const insertFile = (id: string, filename: string) =>
    tacit.database.db.insert(outbox).values({
      id, workspaceId: 'slack:T0TACIT01', idempotencyKey: `test:${id}`, kind: 'post', channelId: 'slack:T0TACIT01/C0GENERAL', incidentId,
      anchor: { type: 'incident_thread' }, purpose: 'file', proactive: true,
      message: { text: `📎 ${filename} for <!channel>`, file: { filename, content: `timeline of ${filename}\n` } },
    });
  const deliver = (id: string) => deliverPaced(tacit.delivery, id);

  it('uploads a file into the incident thread with the external upload flow', async () => {
    await insertFile('out_file_1', 'timeline.md');
    await tacit.delivery.enqueue(['out_file_1']);
    const file = await waitFor(() => slack.files.find((f) => f.filename === 'timeline.md' && f.ts), { what: 'the file shared' });
    expect(file).toMatchObject({ channel: 'C0GENERAL', thread_ts: card.ts, content: Buffer.from('timeline of timeline.md\n') });
    expect(file.title).toMatch(/^timeline\.md · ref [0-9a-f]{10}$/);
    expect(file.initial_comment).not.toContain('<!channel>');
    await waitFor(async () => (await tacit.database.db.select().from(outbox).where(eq(outbox.id, 'out_file_1')))[0]?.status === 'sent', { what: 'the row sent' });
  });

  it('does not upload a file twice when a crash hits after Slack shared it', async () => {
    await insertFile('out_file_2', 'report.md');
    slack.crashAfterAccept('files.completeUploadExternal');
    await expect(deliver('out_file_2')).rejects.toThrow(/Slack unreachable/);
    expect(await deliver('out_file_2')).toBe('already-sent');
    expect(slack.files.filter((f) => f.filename === 'report.md' && f.ts)).toHaveLength(1);
    expect(slack.calls('files.completeUploadExternal')).toBe(2); // the first test's upload and the crashed one; none on retry
  });

  it('refuses (and audits) a click by someone from another organisation; a member\'s acknowledges', async () => {
    for (const [user, team] of [['U0GUEST', 'T0OTHERORG'], ['U0ALICE', undefined]] as const) {
      const res = await slack.sendInteraction(hook, SIGNING_SECRET, { user_id: user, user_team_id: team, channel_id: 'C0GENERAL', message_ts: card.ts, action_id: 'incident.acknowledge', value: incidentId });
      expect(res.status).toBe(200);
    }
    const acks = await waitFor(async () => {
      const rows = await tacit.database.db.select().from(events).where(eq(events.kind, 'incident.ack'));
      return rows.length === 1 ? rows : undefined;
    }, { what: "the member's click recorded" });
    expect((acks[0]?.payload as { by: { id: string } }).by.id).toBe('U0ALICE');
    const refused = await waitFor(async () => {
      const rows = await tacit.database.db.select().from(auditLog).where(eq(auditLog.action, 'incident.ack'));
      return rows.length === 1 ? rows : undefined;
    }, { what: "the external's click audited as refused" });
    expect(refused[0]).toMatchObject({ actor: 'U0GUEST', outcome: 'refused', detail: expect.objectContaining({ reason: 'external' }) });
  });

  it('publishes the App Home with open incidents, recent decisions and pending approvals', async () => {
    await tacit.database.db.insert(approvals).values({
      id: 'apr_home_1', workspaceId: 'slack:T0TACIT01', action: 'alertmanager.silence', params: {}, paramsHash: 'h', requestedBy: 'tacit',
      approverPolicy: {}, status: 'pending', expiresAt: new Date(Date.now() + 15 * 60_000), reason: 'silence the flapping disk alert',
    });
    await slack.sendEvent(hook, SIGNING_SECRET, { type: 'app_home_opened', user: 'U0ALICE', channel: 'D0ALICE', tab: 'home' });
    const home = await waitFor(() => slack.views.find((v) => v.userId === 'U0ALICE'), { what: 'the home view' });
    const text = JSON.stringify(home.view);
    const [incident] = await tacit.database.db.select().from(incidents);
    expect(text).toContain(incident?.title ?? 'missing');
    expect(text).toContain('alertmanager.silence');
    expect(text).toContain('silence the flapping disk alert');
    expect(text).toMatch(/spoke/);
  });

  it('backfills what people said while Tacit was down, threads included', async () => {
    const said = slack.say('C0GENERAL', 'U0ALICE', 'before the restart');
    await slack.sendEvent(hook, SIGNING_SECRET, { type: 'message', channel: 'C0GENERAL', user: 'U0ALICE', text: said.text, ts: said.ts });
    await waitFor(async () => (await messageIds()).includes(said.ts), { what: 'the live message ingested' });

    await tacit.stop();
    // Down for ten minutes: longer than Slack's retries cover, so the restart reads history back.
    const redis = new Redis(redisUrl);
    await new AliveMarks(redis, tacit.prefix, () => Date.now() - 10 * 60_000).add(DEFAULT_TEAM.teamId);
    redis.disconnect();
    const missed = slack.say('C0GENERAL', 'U0ALICE', 'disk is full again, anyone?');
    const reply = slack.say('C0GENERAL', 'U0ALICE', 'I am looking at it', { thread_ts: card.ts });
    const config = loadConfig({
      DATABASE_URL: tacit.testDatabase.url, REDIS_URL: redisUrl, TACIT_REDIS_PREFIX: tacit.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env(slack),
    });
    restarted = await startTacit(config, { logger: createLogger('silent') });
    await waitFor(async () => {
      const ids = await messageIds();
      return ids.includes(missed.ts) && ids.includes(reply.ts);
    }, { what: 'the missed messages backfilled' });
    const ids = await messageIds();
    expect(ids.filter((id) => id === said.ts)).toHaveLength(1);
  });

  async function messageIds(): Promise<string[]> {
    const rows = await (restarted ?? tacit).database.db.select({ id: sql<string>`${events.payload}->>'messageId'` }).from(events).where(eq(events.kind, 'chat.message'));
    return rows.map((r) => r.id);
  }
});
