// The fake Slack speaks the Web API as the real @slack/web-api WebClient expects, and signs inbound traffic as Slack does.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeTeam } from './slack.js';

const team: FakeTeam = {
  teamId: 'T0FAKETEST',
  botToken: 'xoxb-fake-test',
  botUserId: 'U0BOT',
  channels: [
    { id: 'C0OPS', name: 'ops' },
    { id: 'C0QUIET', name: 'quiet', members: ['U0ALICE'] },
  ],
  users: [
    { id: 'U0ALICE', name: 'alice' },
    { id: 'U0GUEST', name: 'guest', teamId: 'T0OTHERORG' },
  ],
};

let fake: FakeSlack;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close(); // last opened, first closed
});
async function start(): Promise<WebClient> {
  fake = await startFakeSlack({ teams: [team] });
  open.push(fake);
  return new WebClient(team.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
}
const platformError = (error: string) => expect.objectContaining({ code: ErrorCode.PlatformError, data: expect.objectContaining({ ok: false, error }) });

describe('fake Slack Web API through the real WebClient', () => {
  it('finds a posted message with its metadata in history only when all metadata is asked for', async () => {
    const client = await start();
    const metadata = { event_type: 'tacit_outbox', event_payload: { outbox_id: 'ob-1' } };
    const posted = await client.chat.postMessage({ channel: 'C0OPS', text: 'disk full on db-1', metadata, unfurl_links: false, unfurl_media: false });
    expect(posted).toMatchObject({ ok: true, channel: 'C0OPS', message: { text: 'disk full on db-1', metadata } });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.posts).toEqual([expect.objectContaining({ channel: 'C0OPS', ts: posted.ts, metadata, unfurl_links: false, unfurl_media: false })]);

    const withMeta = await client.conversations.history({ channel: 'C0OPS', include_all_metadata: true });
    expect(withMeta.messages?.[0]).toMatchObject({ ts: posted.ts, metadata });
    const without = await client.conversations.history({ channel: 'C0OPS' });
    expect(without.messages?.[0]).not.toHaveProperty('metadata');
  });

  it('lists history newest first with unique increasing timestamps, and threads through replies', async () => {
    const client = await start();
    const first = await client.chat.postMessage({ channel: 'C0OPS', text: 'one' });
    const second = await client.chat.postMessage({ channel: 'C0OPS', text: 'two' });
    const reply = await client.chat.postMessage({ channel: 'C0OPS', text: 'in thread', thread_ts: first.ts });
    const human = fake.say('C0OPS', 'U0ALICE', 'thanks');
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));

    const history = await client.conversations.history({ channel: 'C0OPS', oldest: first.ts });
    expect(history.messages?.map((m) => m.text)).toEqual(['thanks', 'two']);
    const all = await client.conversations.history({ channel: 'C0OPS', limit: 2 });
    expect(all).toMatchObject({ has_more: true, messages: [{ ts: human.ts }, { ts: second.ts }] });
    const next = await client.conversations.history({ channel: 'C0OPS', limit: 2, cursor: all.response_metadata?.next_cursor });
    expect(next.messages).toEqual([expect.objectContaining({ ts: first.ts, reply_count: 1, latest_reply: reply.ts })]);

    const replies = await client.conversations.replies({ channel: 'C0OPS', ts: String(first.ts) });
    expect(replies.messages?.map((m) => m.text)).toEqual(['one', 'in thread']);
  });

  it('edits a message in place with chat.update', async () => {
    const client = await start();
    const posted = await client.chat.postMessage({ channel: 'C0OPS', text: 'firing' });
    const updated = await client.chat.update({ channel: 'C0OPS', ts: String(posted.ts), text: 'resolved', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'resolved' } }] });
    expect(updated).toMatchObject({ ok: true, channel: 'C0OPS', ts: posted.ts, text: 'resolved' });
    expect(fake.updates).toEqual([expect.objectContaining({ ts: posted.ts, text: 'resolved' })]);
    expect(fake.history('C0OPS')).toEqual([expect.objectContaining({ ts: posted.ts, text: 'resolved', edited: expect.any(Object) })]);
    await expect(client.chat.update({ channel: 'C0OPS', ts: '1.000001', text: 'x' })).rejects.toEqual(platformError('message_not_found'));
  });

  it('uploads a file into a thread with files.uploadV2 end to end', async () => {
    const client = await start();
    const parent = await client.chat.postMessage({ channel: 'C0OPS', text: 'incident' });
    const result = await client.files.uploadV2({ channel_id: 'C0OPS', thread_ts: String(parent.ts), content: 'line 1\nline 2\n', filename: 'logs.txt', initial_comment: 'logs' });
    expect(result).toMatchObject({ ok: true, files: [{ ok: true, files: [{ title: 'logs.txt' }] }] });
    expect(fake.calls('files.getUploadURLExternal')).toBe(1);
    expect(fake.files).toEqual([expect.objectContaining({ filename: 'logs.txt', channel: 'C0OPS', thread_ts: parent.ts, initial_comment: 'logs', length: 14 })]);
    expect(fake.files[0]?.content.toString()).toBe('line 1\nline 2\n');
    const replies = await client.conversations.replies({ channel: 'C0OPS', ts: String(parent.ts) });
    expect(replies.messages?.[1]).toMatchObject({ text: 'logs', thread_ts: parent.ts, files: [{ name: 'logs.txt', size: 14 }] });
  });

  it('answers 429 with Retry-After, which the client surfaces as its rate-limited error when told to reject', async () => {
    const client = await start();
    const rejecting = new WebClient(team.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 7 });
    await expect(rejecting.chat.postMessage({ channel: 'C0OPS', text: 'x' })).rejects.toEqual(expect.objectContaining({ code: ErrorCode.RateLimitedError, retryAfter: 7 }));
    // Without rejectRateLimitedCalls the client first sleeps Retry-After seconds, then (no retries left) throws a
    // generic request error: the retryAfter is lost.
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 0 });
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).rejects.toEqual(expect.objectContaining({ code: ErrorCode.RequestError, message: expect.stringContaining('rate limit') }));
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.calls('chat.postMessage')).toBe(3);
    expect(fake.posts).toHaveLength(1);
  });

  it('rejects calls as Slack does: not_in_channel, channel_not_found, invalid_auth, user_not_in_channel', async () => {
    const client = await start();
    await expect(client.chat.postMessage({ channel: 'C0QUIET', text: 'x' })).rejects.toEqual(platformError('not_in_channel'));
    await expect(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' })).rejects.toEqual(platformError('channel_not_found'));
    const stranger = new WebClient('xoxb-revoked', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    const err: unknown = await stranger.auth.test().catch((e: unknown) => e);
    expect((err as WebAPIPlatformError).data.error).toBe('invalid_auth');
    await expect(client.chat.postEphemeral({ channel: 'C0OPS', user: 'U0NOBODY', text: 'x' })).rejects.toEqual(platformError('user_not_found'));
    expect(fake.posts).toEqual([]);
  });

  it('fails the next call on demand with a platform error or an HTTP 500', async () => {
    const client = await start();
    fake.failNext('chat.postMessage', 'msg_too_long');
    fake.failNext('chat.postMessage', { status: 500 });
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).rejects.toEqual(platformError('msg_too_long'));
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).rejects.toEqual(expect.objectContaining({ code: ErrorCode.HTTPError, statusCode: 500 }));
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('keeps a message it accepted when the connection dies before the answer', async () => {
    const client = await start();
    fake.crashAfterAccept('chat.postMessage');
    const metadata = { event_type: 'tacit_outbox', event_payload: { outbox_id: 'ob-7' } };
    await expect(client.chat.postMessage({ channel: 'C0OPS', text: 'once', metadata })).rejects.toEqual(expect.objectContaining({ code: ErrorCode.RequestError }));
    expect(fake.posts).toEqual([expect.objectContaining({ text: 'once', metadata })]);
    const history = await client.conversations.history({ channel: 'C0OPS', include_all_metadata: true });
    expect(history.messages).toEqual([expect.objectContaining({ metadata })]);
  });

  it('answers the read, DM, ephemeral and App Home methods in Slack shapes', async () => {
    const client = await start();
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true, team_id: 'T0FAKETEST', user_id: 'U0BOT', bot_id: 'B0BOT' });
    await expect(client.users.info({ user: 'U0GUEST' })).resolves.toMatchObject({ user: { id: 'U0GUEST', team_id: 'T0OTHERORG', is_bot: false } });
    await expect(client.conversations.info({ channel: 'C0QUIET' })).resolves.toMatchObject({ channel: { id: 'C0QUIET', name: 'quiet', is_member: false } });
    const dm = await client.conversations.open({ users: 'U0ALICE' });
    expect(dm.channel?.id).toMatch(/^D/);
    await expect(client.conversations.open({ users: 'U0ALICE' })).resolves.toMatchObject({ already_open: true, channel: { id: dm.channel?.id } });
    await client.chat.postMessage({ channel: String(dm.channel?.id), text: 'you are on call' });
    expect(fake.posts[0]).toMatchObject({ channel: dm.channel?.id });
    await expect(client.chat.postEphemeral({ channel: 'C0OPS', user: 'U0ALICE', text: 'not allowed' })).resolves.toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(fake.ephemerals).toEqual([expect.objectContaining({ channel: 'C0OPS', user: 'U0ALICE', text: 'not allowed' })]);
    const home = { type: 'home' as const, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'All quiet' } }] };
    await expect(client.views.publish({ user_id: 'U0ALICE', view: home })).resolves.toMatchObject({ view: { type: 'home', team_id: 'T0FAKETEST' } });
    expect(fake.views).toEqual([{ teamId: 'T0FAKETEST', userId: 'U0ALICE', view: home }]);
  });

  it('accepts JSON bodies with the token in the Authorization header', async () => {
    await start();
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${team.botToken}` },
      body: JSON.stringify({ channel: 'C0OPS', text: 'json', blocks: [{ type: 'divider' }], unfurl_links: false }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0OPS', message: { text: 'json', blocks: [{ type: 'divider' }] } });
    expect(fake.posts[0]).toMatchObject({ unfurl_links: false, blocks: [{ type: 'divider' }] });
  });
});

describe('fake Slack inbound sender', () => {
  /** A receiver that checks Slack's v0 signature independently of the fake. */
  async function receiver(secret: string) {
    const got: Array<{ headers: IncomingHttpHeaders; body: string; valid: boolean }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-slack-request-timestamp']);
        const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-slack-signature']));
        const valid = expected.length === given.length && timingSafeEqual(expected, given);
        got.push({ headers: req.headers, body, valid });
        res.writeHead(valid ? 200 : 401).end(valid ? 'ok' : 'bad signature');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise((resolve) => server.close(resolve)) });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, got };
  }

  it('signs an event_callback envelope with v0 HMAC-SHA256 over timestamp and raw body', async () => {
    await start();
    const target = await receiver('shh');
    const event = { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> status?', ts: '1732700000.000100', channel: 'C0OPS' };
    const sent = await fake.sendEvent(target.url, 'shh', event, { retryNum: 1, retryReason: 'http_timeout' });
    expect(sent).toMatchObject({ status: 200, body: 'ok' });
    const [got] = target.got;
    expect(got?.valid).toBe(true);
    expect(got?.headers).toMatchObject({ 'content-type': 'application/json', 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(Math.abs(Number(got?.headers['x-slack-request-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(JSON.parse(got?.body ?? '')).toMatchObject({
      type: 'event_callback', token: expect.any(String), team_id: 'T0FAKETEST', api_app_id: expect.any(String), event_id: sent.eventId, event_time: 1732700000,
      event: { ...event, event_ts: '1732700000.000100' }, authorizations: [{ team_id: 'T0FAKETEST', user_id: 'U0BOT', is_bot: true }],
    });

    expect(await fake.sendEvent(target.url, 'wrong', event)).toMatchObject({ status: 401 });
    await fake.sendEvent(target.url, 'shh', event, { timestampSkewSeconds: -600 });
    expect(Number(target.got[2]?.headers['x-slack-request-timestamp'])).toBeLessThan(Date.now() / 1000 - 590);
  });

  it('sends block_actions and slash commands as signed forms and records response_url answers', async () => {
    await start();
    const target = await receiver('shh');
    const client = new WebClient(team.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    const card = await client.chat.postMessage({ channel: 'C0OPS', text: 'approve?' });
    const click = await fake.sendInteraction(target.url, 'shh', { user_id: 'U0GUEST', user_team_id: 'T0OTHERORG', channel_id: 'C0OPS', message_ts: String(card.ts), action_id: 'approve', value: 'apr-1' });
    expect(click.status).toBe(200);
    const payload: unknown = JSON.parse(new URLSearchParams(target.got[0]?.body).get('payload') ?? '');
    expect(target.got[0]).toMatchObject({ valid: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(payload).toMatchObject({
      type: 'block_actions', user: { id: 'U0GUEST', team_id: 'T0OTHERORG' }, team: { id: 'T0FAKETEST' }, channel: { id: 'C0OPS' },
      message: { ts: card.ts, text: 'approve?' }, response_url: click.responseUrl,
      actions: [{ action_id: 'approve', value: 'apr-1', type: 'button', block_id: expect.any(String), action_ts: expect.any(String) }],
    });

    const command = await fake.sendSlashCommand(target.url, 'shh', { text: 'status', user_id: 'U0ALICE', user_name: 'alice', channel_id: 'C0OPS' });
    expect(command.status).toBe(200);
    expect(target.got[1]?.valid).toBe(true);
    expect(Object.fromEntries(new URLSearchParams(target.got[1]?.body))).toMatchObject({ command: '/tacit', text: 'status', user_id: 'U0ALICE', channel_id: 'C0OPS', team_id: 'T0FAKETEST', response_url: command.responseUrl });

    await fetch(command.responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'all quiet' }) });
    expect(fake.responses).toEqual([{ url: command.responseUrl, body: { response_type: 'ephemeral', text: 'all quiet' } }]);
  });

  it('drives a real Bolt app: its signature check passes and its replies reach the fake', async () => {
    await start();
    const app = new App({ token: team.botToken, signingSecret: 'bolt-secret', logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR } });
    app.event('app_mention', async ({ event, say }) => {
      await say({ text: `hi <@${event.user ?? ''}>`, thread_ts: event.ts });
    });
    app.action('approve', async ({ ack, respond }) => {
      await ack();
      await respond({ text: 'approved', replace_original: false });
    });
    app.command('/tacit', async ({ ack }) => ack('ok'));
    const server = await app.start(0);
    open.push({ close: () => app.stop() });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

    const mention = { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> hi', ts: fake.say('C0OPS', 'U0ALICE', '<@U0BOT> hi').ts, channel: 'C0OPS' };
    expect(await fake.sendEvent(url, 'bolt-secret', mention)).toMatchObject({ status: 200 });
    await expect.poll(() => fake.posts).toEqual([expect.objectContaining({ channel: 'C0OPS', thread_ts: mention.ts, text: 'hi <@U0ALICE>' })]);

    expect(await fake.sendInteraction(url, 'bolt-secret', { user_id: 'U0ALICE', channel_id: 'C0OPS', message_ts: mention.ts, action_id: 'approve', value: 'apr-1' })).toMatchObject({ status: 200 });
    await expect.poll(() => fake.responses).toEqual([expect.objectContaining({ body: { text: 'approved', replace_original: false } })]);
    expect(await fake.sendSlashCommand(url, 'bolt-secret', { text: 'status', user_id: 'U0ALICE', channel_id: 'C0OPS' })).toMatchObject({ status: 200, body: 'ok' });
    expect(await fake.sendEvent(url, 'bolt-secret', mention, { timestampSkewSeconds: -301 })).toMatchObject({ status: 401 });
    expect(await fake.sendEvent(url, 'not-the-secret', mention)).toMatchObject({ status: 401 });
  });
});

describe('fake Slack OAuth and Socket Mode', () => {
  const oauth = { clientId: '1.2', clientSecret: 'shh-client', expiresInSeconds: 43200 };
  const unauthenticated = (fakeUrl: string) => new WebClient(undefined, { slackApiUrl: fakeUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

  it('issues per-team tokens for a code from the consent page, with single-use refresh tokens and expiring access tokens', async () => {
    fake = await startFakeSlack({ teams: [team], oauth });
    open.push(fake);
    const consent = await fetch(`${fake.url}/oauth/v2/authorize?client_id=1.2&scope=chat:write&state=s1&redirect_uri=${encodeURIComponent('http://tacit.test/slack/oauth_redirect')}`, { redirect: 'manual' });
    const back = new URL(consent.headers.get('location') ?? '');
    expect(back.searchParams.get('state')).toBe('s1');
    const client = unauthenticated(fake.apiUrl);
    const installed = await client.oauth.v2.access({ client_id: '1.2', client_secret: 'shh-client', code: back.searchParams.get('code') ?? '' });
    expect(installed).toMatchObject({ ok: true, token_type: 'bot', bot_user_id: 'U0BOT', team: { id: 'T0FAKETEST' }, expires_in: 43200, refresh_token: expect.any(String) });
    await expect(client.oauth.v2.access({ client_id: '1.2', client_secret: 'shh-client', code: back.searchParams.get('code') ?? '' })).rejects.toEqual(platformError('invalid_code'));
    await expect(client.auth.test({ token: installed.access_token })).resolves.toMatchObject({ team_id: 'T0FAKETEST' });

    const refresh = { client_id: '1.2', client_secret: 'shh-client', grant_type: 'refresh_token' as const, refresh_token: installed.refresh_token };
    const rotated = await client.oauth.v2.access(refresh);
    expect(rotated.access_token).not.toBe(installed.access_token);
    await expect(client.oauth.v2.access(refresh)).rejects.toEqual(platformError('invalid_refresh_token'));
    fake.expireReplacedTokens('T0FAKETEST');
    await expect(client.auth.test({ token: installed.access_token })).rejects.toEqual(platformError('token_expired'));
    await expect(client.auth.test({ token: rotated.access_token })).resolves.toMatchObject({ ok: true });
    fake.uninstall('T0FAKETEST');
    await expect(client.auth.test({ token: rotated.access_token })).rejects.toEqual(platformError('invalid_auth'));
    expect(fake.grants.map((g) => g.grant)).toEqual(['authorization_code', 'refresh_token']);
  });

  it('runs a real Bolt app in Socket Mode: hello, envelopes and acks', async () => {
    fake = await startFakeSlack({ teams: [team], appToken: 'xapp-1-test' });
    open.push(fake);
    const receiver = new SocketModeReceiver({ appToken: 'xapp-1-test', logLevel: LogLevel.ERROR, installerOptions: { clientOptions: { slackApiUrl: fake.apiUrl } } });
    const app = new App({ token: team.botToken, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } } });
    const mentions: string[] = [];
    app.event('app_mention', async ({ event }) => void mentions.push(event.text));
    await app.start();
    open.push({ close: () => app.stop() });
    await fake.socketConnected();
    const ack = await fake.sendSocket('events_api', fake.eventEnvelope({ type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> hi', ts: '1732700000.000100', channel: 'C0OPS' }));
    expect(ack.envelope_id).toEqual(expect.any(String));
    await expect.poll(() => mentions).toEqual(['<@U0BOT> hi']);
  });
});

