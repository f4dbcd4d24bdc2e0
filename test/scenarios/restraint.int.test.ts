// User story: the on-call pauses Tacit during maintenance; an alert fires and Tacit records why it
// stayed quiet; after resume it announces the incident; "@tacit why" explains the card; settings are
// changed with commands.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tacitCommand } from '../support/commands.js';
import { channelMessages, fixture, postAlert, say } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

describe('restraint, commands and "why"', () => {
  let tacit: TestTacit;
  let direct: pg.Client;
  beforeAll(async () => {
    tacit = await startTestTacit();
    direct = new pg.Client({ connectionString: tacit.testDatabase.url });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await tacit?.cleanup();
  });

  it('reports status privately', async () => {
    const text = await tacitCommand(tacit.url, 'bob', '/tacit status');
    expect(text).toContain('Active.');
    expect(text).toContain('Watching: alertmanager → #incidents.');
    expect(text).toContain('No open incidents.');
  });

  it('stays quiet while paused, recording the news and the veto in the decision log', async () => {
    expect(await tacitCommand(tacit.url, 'alice', '/tacit pause 1h')).toMatch(/^Paused until .* \(asked by alice\)/);
    const source = tacit.playgroundSource;
    expect((await postAlert(tacit.url, source?.id ?? '', source?.token, fixture('alertmanager/firing.json'))).status).toBe(200);
    const decision = await waitFor(async () => (await direct.query(`select * from decisions where outcome = 'vetoed'`)).rows[0], {
      what: 'a vetoed decision',
    });
    expect(decision.reasons).toEqual(['incident opened: Pod is crash looping. (critical)']);
    expect(decision.vetoes[0]).toMatch(/^workspace paused until/);
    expect(decision.brain).toBe('none');
    expect((await channelMessages(tacit.url)).filter((m) => m.author.isBot)).toHaveLength(0);
  });

  it('announces the incident that opened while paused once resumed', async () => {
    expect(await tacitCommand(tacit.url, 'alice', '/tacit resume')).toMatch(/^Resumed/);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && !m.threadId), { what: 'the card' });
    expect(card.text).toContain('Pod is crash looping.');
  });

  it('explains the card with "@tacit why" in its thread: trigger, reasons, events and cost', async () => {
    const card = (await channelMessages(tacit.url)).find((m) => m.author.isBot && !m.threadId);
    await say(tacit.url, 'bob', '@tacit why', card?.id);
    const answer = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card?.id && m.text.startsWith('I am a bot; here is why')),
      { what: 'the explanation' },
    );
    expect(answer.text).toMatch(/decision dec_/);
    expect(answer.text).toContain('Why: incident opened: Pod is crash looping. (critical)');
    expect(answer.text).toContain('on a time-based wake');
    expect(answer.text).toMatch(/Cost: 0 tokens, \$0\.0000/);
    // The vetoed decision made while paused is part of the story too.
    expect(answer.text).toContain('Held back or vetoed: workspace paused until');
  });

  it('asks for a thread when "why" is asked at the top level', async () => {
    const asked = await say(tacit.url, 'bob', '@tacit why');
    const answer = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === asked && m.author.isBot), { what: 'an answer' });
    expect(answer.text).toMatch(/inside the thread of one of my messages/);
  });

  it('sets and shows quiet hours and the budget', async () => {
    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours 22:00-07:00 Europe/Berlin')).toBe(
      'Quiet hours set: 22:00–07:00 Europe/Berlin. Non-critical posts wait until they end; critical incidents still go out.',
    );
    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours')).toMatch(/^Quiet hours: 22:00–07:00 Europe\/Berlin/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours 25:00-07:00')).toMatch(/HH:MM-HH:MM/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours 22:00-07:00 Mars/Base')).toMatch(/not a time zone/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit quiet-hours off')).toBe('Quiet hours off.');
    expect(await tacitCommand(tacit.url, 'alice', '/tacit budget 5')).toMatch(/at most 5 unprompted posts/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit budget')).toMatch(/^Budget: 5 unprompted posts per channel per hour\. Last hour: #incidents: \d+/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit pause soon')).toMatch(/could not read "soon"/);
    const { rows } = await direct.query(`select settings from workspaces where id = 'playground:local'`);
    expect(rows[0].settings).toMatchObject({ postsPerChannelPerHour: 5, quietHours: null, timezone: 'Europe/Berlin' });
  });
});
