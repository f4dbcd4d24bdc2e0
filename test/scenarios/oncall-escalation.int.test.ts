// User story: a critical alert fires at night and nobody acknowledges it. Tacit reminds the thread,
// DMs the on-call PagerDuty names (level 1), then the next level; a second incident stops escalating
// at alice's acknowledgement. When the first resolves, its timeline and a post-incident draft are
// uploaded into its thread, and `@tacit why` shows every step. Time is a manual clock.
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/chat/playground/types.js';
import { ACK_ACTION_ID } from '../../src/core/incident-card.js';
import { incidents, incidentSteps } from '../../src/db/schema.js';
import { startFakePagerduty, type FakePagerduty } from '../fakes/pagerduty.js';
import { tacitCommand } from '../support/commands.js';
import { channelMessages, fixture, postAlert, say } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const WS = 'playground:local';
const MIN = 60_000;

function alert(opts: { status: 'firing' | 'resolved'; title: string; key: string; startsAt: string; endsAt?: string }): string {
  const body = JSON.parse(fixture('alertmanager/firing.json').toString()) as {
    status: string; groupKey: string; commonAnnotations: Record<string, string>;
    alerts: { status: string; fingerprint: string; startsAt: string; endsAt: string; annotations: Record<string, string> }[];
  };
  body.status = opts.status;
  body.groupKey = `{}:{alertname="${opts.key}"}`;
  body.commonAnnotations.summary = opts.title;
  for (const a of body.alerts) {
    a.status = opts.status;
    a.fingerprint = `fp-${opts.key}`;
    a.startsAt = opts.startsAt;
    a.annotations.summary = opts.title;
    if (opts.endsAt) a.endsAt = opts.endsAt;
  }
  return JSON.stringify(body);
}

describe('escalating a critical incident nobody acknowledged', () => {
  let tacit: TestTacit;
  let pd: FakePagerduty;
  let t = new Date('2026-12-01T02:00:00Z');
  const clock = { now: () => t };
  const advance = (ms: number) => {
    t = new Date(t.getTime() + ms);
  };
  const dms = async (person: string) => (await channelMessages(tacit.url)).filter((m) => m.channelId === `playground:dm-${person}` && m.text.startsWith('You are on call'));
  const cardOf = (title: string) => waitFor(async () => (await channelMessages(tacit.url)).find((m) => !m.threadId && m.author.isBot && m.text.includes(title)), { what: `the card of ${title}` });
  const threeMoreTicks = async () => {
    const ticks = (await tacit.signals.counters()).ticks;
    await waitFor(async () => (await tacit.signals.counters()).ticks >= ticks + 3, { what: 'three more ticks' });
  };
  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${tacit.url}/api/workspaces/${WS}/${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };

  beforeAll(async () => {
    pd = await startFakePagerduty({ token: 'pd-oncall-token' });
    pd.oncalls.users.set('PALICE1', { id: 'PALICE1', name: 'Alice', email: 'alice@example.com' });
    pd.oncalls.users.set('PBOB001', { id: 'PBOB001', name: 'Bob', email: 'bob@example.com' });
    pd.oncalls.entries.push(
      { userId: 'PALICE1', level: 1, escalationPolicyId: 'PEP0001', scheduleId: 'PSCHED1', start: '2026-11-30T09:00:00Z', end: '2026-12-07T09:00:00Z' },
      { userId: 'PBOB001', level: 2, escalationPolicyId: 'PEP0001', start: null, end: null },
    );
    tacit = await startTestTacit({ overrides: { clock } });
    await put('integrations/pagerduty/default', { settings: { apiUrl: pd.apiUrl, fromEmail: 'tacit@example.com' }, secrets: { token: 'pd-oncall-token' } });
    await put('oncall', { pagerduty: { escalationPolicyIds: ['PEP0001'] }, people: { 'alice@example.com': 'alice', 'bob@example.com': 'bob' } });
  });
  afterAll(async () => {
    await tacit?.cleanup();
    await pd?.close();
  });

  it('reminds the thread, DMs level 1 from the PagerDuty schedule, then level 2', async () => {
    const source = tacit.playgroundSource;
    await postAlert(tacit.url, source?.id ?? '', source?.token, alert({ status: 'firing', title: 'Checkout down', key: 'CheckoutDown', startsAt: '2026-12-01T01:59:00Z' }));
    const card = await cardOf('Checkout down');
    const thread = async () => (await channelMessages(tacit.url)).filter((m) => m.threadId === card.id);

    advance(4 * MIN);
    await threeMoreTicks();
    expect((await thread()).some((m) => m.text.includes('nobody has acknowledged'))).toBe(false);

    advance(1 * MIN); // 5 min after the card: step 1, the reminder
    const reminder = await waitFor(async () => (await thread()).find((m) => m.text.includes('nobody has acknowledged')), { what: 'the reminder in the thread' });
    expect(reminder.text).toContain('Checkout down');
    expect(await dms('alice')).toHaveLength(0);

    advance(10 * MIN); // 15 min: step 2, the on-call at level 1
    const toAlice = await waitFor(async () => (await dms('alice'))[0], { what: 'a DM to alice' });
    expect(toAlice.text).toContain('level 1, from PagerDuty');
    expect(toAlice.text).toContain('Checkout down');
    expect(pd.calls.some((c) => c.path === '/oncalls' && c.status === 200)).toBe(true);
    expect(await dms('bob')).toHaveLength(0);

    advance(15 * MIN); // 30 min: step 3, level 2
    const toBob = await waitFor(async () => (await dms('bob'))[0], { what: 'a DM to bob' });
    expect(toBob.text).toContain('level 2');
    advance(60 * MIN);
    await threeMoreTicks();
    expect(await dms('alice')).toHaveLength(1);
    expect(await dms('bob')).toHaveLength(1);
    expect((await thread()).filter((m) => m.text.includes('nobody has acknowledged'))).toHaveLength(1);
    // PagerDuty is asked once per step that DMs the on-call, never by the reminder or a quiet tick.
    expect(pd.calls.filter((c) => c.path === '/oncalls')).toHaveLength(2);

    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Checkout down'));
    expect(row?.escalationLevel).toBe(3);
    const steps = await tacit.database.db.select().from(incidentSteps).where(and(eq(incidentSteps.incidentId, row?.id ?? ''), eq(incidentSteps.kind, 'escalation'))).orderBy(asc(incidentSteps.id));
    expect(steps.map((s) => [s.detail.step, s.detail.to, s.detail.notified])).toEqual([[1, 'thread', []], [2, 'level 1', ['alice']], [3, 'level 2', ['bob']]]);
    expect(steps[1]?.detail).toMatchObject({ via: 'pagerduty' });
  });

  it('says who is on call from PagerDuty, and the escalation policy', async () => {
    // Mentions in private answers are neutralised (a word joiner after `<`): read them plain.
    const answer = (await tacitCommand(tacit.url, 'bob', '/tacit oncall')).replaceAll('\u2060', '');
    expect(answer).toContain('On call (from pagerduty, until');
    expect(answer).toContain('Level 1: alice');
    expect(answer).toContain('Level 2: bob');
    expect(answer).toContain('Escalation (critical incidents nobody acknowledged): 5 min reminder in the thread, then 15 min DM level 1, then 30 min DM level 2');
  });

  it('stops escalating at the first acknowledgement', async () => {
    const source = tacit.playgroundSource;
    await postAlert(tacit.url, source?.id ?? '', source?.token, alert({ status: 'firing', title: 'Payments slow', key: 'PaymentsSlow', startsAt: t.toISOString() }));
    const card = await cardOf('Payments slow');
    const before = (await dms('alice')).length;
    advance(5 * MIN);
    await waitFor(async () => (await channelMessages(tacit.url)).some((m) => m.threadId === card.id && m.text.includes('nobody has acknowledged')), { what: 'the reminder' });
    advance(10 * MIN);
    await waitFor(async () => (await dms('alice')).length > before, { what: 'the level 1 DM' });
    const bobBefore = (await dms('bob')).length;

    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Payments slow'));
    const res = await fetch(`${tacit.url}/playground/api/actions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', messageId: card.id, actionId: ACK_ACTION_ID, value: row?.id ?? '' }),
    });
    expect(res.ok).toBe(true);
    await waitFor(async () => (await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Payments slow')))[0]?.status === 'acknowledged', { what: 'the acknowledgement' });
    advance(30 * MIN);
    await threeMoreTicks();
    expect(await dms('bob')).toHaveLength(bobBefore);
  });

  it('uploads the timeline and the post-incident draft into the thread when it resolves, and explains the steps', async () => {
    const source = tacit.playgroundSource;
    const card = await cardOf('Checkout down');
    await postAlert(tacit.url, source?.id ?? '', source?.token, alert({ status: 'resolved', title: 'Checkout down', key: 'CheckoutDown', startsAt: '2026-12-01T01:59:00Z', endsAt: t.toISOString() }));
    const files = await waitFor(async () => {
      const thread = (await channelMessages(tacit.url)).filter((m) => m.threadId === card.id);
      const named = (prefix: string) => thread.find((m) => fileOf(m)?.filename.startsWith(prefix));
      const timeline = named('timeline-');
      const draft = named('post-incident-');
      return timeline && draft ? { timeline, draft } : undefined;
    }, { what: 'the timeline and the draft in the thread' });
    const timeline = fileOf(files.timeline)?.content ?? '';
    expect(timeline).toContain('# Timeline: Checkout down');
    expect(timeline).toMatch(/\[alert\] alertmanager alert firing: Checkout down/);
    expect(timeline).toMatch(/\[step\] escalation step 2: level 1 from pagerduty: messaged alice/);
    expect(timeline).toMatch(/\[message\] Tacit card/);
    const draft = fileOf(files.draft)?.content ?? '';
    for (const heading of ['## Summary', '## Impact window', '## What helped', '## Open questions']) expect(draft).toContain(heading);
    expect(draft).toContain('Nobody acknowledged it');

    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Checkout down'));
    expect(row?.report).toMatchObject({ by: 'rules' });
    expect(String(row?.report?.draft)).toContain('## Impact window');
    const dashboard = (await (await fetch(`${tacit.url}/api/dashboard`)).json()) as { reports?: { incidentId: string; draft: string }[] };
    expect(dashboard.reports?.find((r) => r.incidentId === row?.id)?.draft).toContain('# Post-incident draft: Checkout down');
    const page = await (await fetch(`${tacit.url}/`)).text();
    expect(page).toContain('Post-incident drafts');
    expect(page).toContain(`data-testid="report-${row?.id ?? ''}"`);

    const asked = await say(tacit.url, 'bob', '@tacit why', card.id);
    const why = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.threadId === card.id && m.author.isBot && m.text.includes('Incident steps')), { what: 'the why answer' });
    expect(asked).toBeTruthy();
    expect(why.text).toMatch(/escalation by tacit step 2 → level 1 \(on-call from pagerduty\); messaged alice/);
  });
});

function fileOf(m: WireMessage): { filename: string; content: string } | undefined {
  return (m.blocks as { kind?: string; filename?: string; content?: string }[])
    .flatMap((b) => (b.kind === 'file' && b.filename ? [{ filename: b.filename, content: b.content ?? '' }] : []))[0];
}
