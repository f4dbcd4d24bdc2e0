// The outbox delivers every committed message once: a lost delivery job is recovered by the sweeper,
// and a retry after a crash finds the earlier post instead of posting again.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelMessages } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('outbox delivery', () => {
  let tacit: TestTacit;
  let direct: pg.Client;

  const insertRow = (id: string, key: string, text: string, createdAgoSeconds: number, attempts = 0) =>
    direct.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, attempts, first_attempt_at, created_at)
       values ($1, 'playground:local', $2, 'post', 'playground:incidents', '{"type":"channel"}', $3, $4::int, case when $4::int > 0 then now() end, now() - make_interval(secs => $5))`,
      [id, key, { text }, attempts, createdAgoSeconds],
    );
  const status = async (id: string) => (await direct.query('select status from outbox where id = $1', [id])).rows[0]?.status;

  beforeAll(async () => {
    tacit = await startTestTacit();
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
  });

  it('sends a committed row whose delivery job was lost (the sweeper re-enqueues it)', async () => {
    await insertRow('out_lost', 'test:lost', 'a message whose job vanished', 60);
    await waitFor(async () => (await status('out_lost')) === 'sent', { what: 'the swept row to be sent' });
    const messages = await channelMessages(tacit.url);
    expect(messages.filter((m) => m.text === 'a message whose job vanished')).toHaveLength(1);
  });

  it('does not post twice when an earlier attempt posted but crashed before recording it', async () => {
    // The first attempt reached the platform, then the process died before marking the row sent.
    const playground = tacit.playground;
    if (!playground) throw new Error('no playground');
    await playground.post({ channelId: 'playground:incidents', message: { text: 'posted before the crash' }, idempotencyKey: 'test:crash' });
    await insertRow('out_crash', 'test:crash', 'posted before the crash', 0, 1);

    expect(await tacit.delivery.deliver('out_crash')).toBe('already-sent');
    expect(await status('out_crash')).toBe('sent');
    const messages = await channelMessages(tacit.url);
    expect(messages.filter((m) => m.text === 'posted before the crash')).toHaveLength(1);
  });

  it('delivers a row once even when its job is enqueued many times', async () => {
    await insertRow('out_many', 'test:many', 'enqueued five times', 0);
    await Promise.all(Array.from({ length: 5 }, () => tacit.delivery.enqueue(['out_many'])));
    await waitFor(async () => (await status('out_many')) === 'sent', { what: 'the row to be sent' });
    expect((await channelMessages(tacit.url)).filter((m) => m.text === 'enqueued five times')).toHaveLength(1);
  });

  it("holds a proactive post to a thread while Tacit is answering a person there, then sends it", async () => {
    await direct.query(
      `insert into outbox (id, workspace_id, idempotency_key, kind, channel_id, anchor, message, purpose, proactive)
       values ('out_wait', 'playground:local', 'test:wait', 'post', 'playground:incidents', '{"type":"thread","threadId":"pm_root"}', $1, 'summary', true)`,
      [{ text: 'proactive note for a busy thread' }],
    );
    await tacit.signals.beginConversation('playground:local', 'playground:incidents', 'pm_root');
    await expect(tacit.delivery.deliver('out_wait')).rejects.toThrow('waiting for Tacit to finish answering in this thread');
    expect(await status('out_wait')).toBe('pending');
    await tacit.signals.endConversation('playground:local', 'playground:incidents', 'pm_root');
    expect(await tacit.delivery.deliver('out_wait')).toBe('sent');
  });
});
