// Slack inbound: signatures checked like Slack documents (v0, five-minute window), and events parsed
// into the neutral model with bots, Tacit itself and housekeeping subtypes dropped.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSlackEvent } from '../../../src/chat/slack/parse.js';
import { verifySlackRequest } from '../../../src/chat/slack/verify.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const now = new Date('2026-11-27T12:00:00Z');
const ts = String(Math.floor(now.getTime() / 1000));
const body = 'token=x&team_id=T1&command=%2Ftacit&text=status';
const sign = (t: string, b: string) => `v0=${createHmac('sha256', secret).update(`v0:${t}:${b}`).digest('hex')}`;

describe('verifySlackRequest', () => {
  it('accepts a correctly signed, fresh request', () => {
    expect(verifySlackRequest(body, { signature: sign(ts, body), timestamp: ts }, secret, now)).toEqual({ ok: true });
  });
  it('refuses a forged signature, a changed body, and a timestamp older than five minutes', () => {
    expect(verifySlackRequest(body, { signature: sign(ts, body).replace(/.$/, '0'), timestamp: ts }, secret, now).ok).toBe(false);
    expect(verifySlackRequest(`${body}&x=1`, { signature: sign(ts, body), timestamp: ts }, secret, now).ok).toBe(false);
    const old = String(Number(ts) - 301);
    expect(verifySlackRequest(body, { signature: sign(old, body), timestamp: old }, secret, now)).toEqual({ ok: false, reason: 'X-Slack-Request-Timestamp is more than five minutes old (a replay?)' });
    expect(verifySlackRequest(body, {}, secret, now).ok).toBe(false);
  });
  it('refuses a correctly signed request dated more than five minutes in the future', () => {
    const future = String(Number(ts) + 301);
    expect(verifySlackRequest(body, { signature: sign(future, body), timestamp: future }, secret, now)).toEqual({ ok: false, reason: 'X-Slack-Request-Timestamp is more than five minutes in the future' });
    const soon = String(Number(ts) + 299);
    expect(verifySlackRequest(body, { signature: sign(soon, body), timestamp: soon }, secret, now)).toEqual({ ok: true });
  });
});

describe('parseSlackEvent', () => {
  const names = new Map([['U_ALICE', 'alice']]);
  it('turns a mention in a thread into a neutral message without the mention', () => {
    const parsed = parseSlackEvent({ type: 'app_mention', channel: 'C1', user: 'U_ALICE', text: '<@U_TACIT> status?', ts: '2.0', thread_ts: '1.0' }, 'T1', 'U_TACIT', names);
    expect(parsed).toMatchObject({
      kind: 'message',
      message: { workspaceId: 'slack:T1', channelId: 'slack:T1/C1', messageId: '2.0', threadId: '1.0', text: 'status?', mentionsTacit: true, author: { id: 'U_ALICE', name: 'alice', isBot: false } },
    });
  });
  it("drops Tacit's own messages, other bots' and housekeeping subtypes", () => {
    expect(parseSlackEvent({ type: 'message', channel: 'C1', user: 'U_TACIT', text: 'hi', ts: '1.0' }, 'T1', 'U_TACIT').kind).toBe('ignored');
    expect(parseSlackEvent({ type: 'message', channel: 'C1', bot_id: 'B1', text: 'deploy done', ts: '1.0' }, 'T1', 'U_TACIT').kind).toBe('ignored');
    expect(parseSlackEvent({ type: 'message', subtype: 'channel_join', channel: 'C1', user: 'U_X', ts: '1.0' }, 'T1', 'U_TACIT').kind).toBe('ignored');
  });
  it('reports edits and deletions', () => {
    expect(parseSlackEvent({ type: 'message', subtype: 'message_changed', channel: 'C1', ts: '3.0', message: { user: 'U_ALICE', text: 'fixed typo', ts: '2.0' } }, 'T1', 'U_TACIT')).toMatchObject({
      kind: 'edited', message: { messageId: '2.0', text: 'fixed typo' },
    });
    expect(parseSlackEvent({ type: 'message', subtype: 'message_deleted', channel: 'C1', ts: '4.0', deleted_ts: '2.0' }, 'T1', 'U_TACIT')).toEqual({
      kind: 'deleted', workspaceId: 'slack:T1', channelId: 'slack:T1/C1', messageId: '2.0',
    });
  });
});
