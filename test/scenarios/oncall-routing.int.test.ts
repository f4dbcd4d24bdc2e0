// User story, on the embedded database (PGlite): an admin routes the payments team's critical alerts
// to #payments-oncall and keeps dev alerts from posting at all; a member can read the rules but not
// change them; the admin API shows the same rules; everything else lands in the default channel.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, channels, decisions, incidents, playgroundMessages } from '../../src/db/schema.js';
import { tacitCommand } from '../support/commands.js';
import { channelMessages, fixture, postAlert } from '../support/playground.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const WS = 'playground:local';
const PAYMENTS = 'playground:payments-oncall';

let hour = 0;
function alert(title: string, labels: Record<string, string>): string {
  const body = JSON.parse(fixture('alertmanager/firing.json').toString()) as {
    groupKey: string; commonLabels: Record<string, string>; commonAnnotations: Record<string, string>;
    alerts: { fingerprint: string; startsAt: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  };
  body.groupKey = `{}:{alertname="${title}"}`;
  body.commonAnnotations.summary = title;
  // Hours apart: incidents opening together would be held as a forming storm.
  const startsAt = new Date(Date.now() - 24 * 3_600_000 + 3_600_000 * hour++).toISOString();
  for (const a of body.alerts) {
    a.fingerprint = `fp-${title}`;
    a.startsAt = startsAt;
    a.labels = { ...a.labels, ...labels };
    a.annotations.summary = title;
  }
  body.commonLabels = { ...body.commonLabels, ...labels };
  return JSON.stringify(body);
}

describe('routing incidents by source, labels and severity', () => {
  let tacit: TestTacit;
  const cardIn = (channelId: string, title: string) => waitFor(async () => {
    const rows = await tacit.database.db.select().from(playgroundMessages).where(and(eq(playgroundMessages.channelId, channelId), eq(playgroundMessages.isBot, true)));
    return rows.find((m) => m.threadId === null && m.text.includes(title));
  }, { what: `the card of ${title} in ${channelId}` });
  const send = (title: string, labels: Record<string, string>) => {
    const source = tacit.playgroundSource;
    return postAlert(tacit.url, source?.id ?? '', source?.token, alert(title, labels));
  };

  beforeAll(async () => {
    tacit = await startTestTacit({ embedded: true });
    await tacit.database.db.insert(channels).values({ id: PAYMENTS, workspaceId: WS, name: 'payments-oncall' });
  }, 60_000);
  afterAll(() => tacit?.cleanup());

  it('lets an admin add rules from chat, refuses a member, and audits both', async () => {
    expect(await tacitCommand(tacit.url, 'alice', '/tacit route add team=payments severity=critical #payments-oncall'))
      .toBe('Rule 1 added by alice: team=payments severity=critical → #payments-oncall. It applies to incidents that open from now on.');
    expect(await tacitCommand(tacit.url, 'alice', '/tacit route add env=~"dev|staging" off')).toMatch(/^Rule 2 added by alice: env=~"dev\|staging" → proactive off/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit route add team=search #nowhere')).toMatch(/I am not in #nowhere/);
    expect(await tacitCommand(tacit.url, 'bob', '/tacit route remove 1')).toMatch(/Only workspace admins/);
    const list = await tacitCommand(tacit.url, 'bob', '/tacit route list');
    expect(list).toContain('1. team=payments severity=critical → #payments-oncall');
    expect(list).toContain('2. env=~"dev|staging" → proactive off (tracked, never posted)');
    const audit = await tacit.database.db.select().from(auditLog).where(and(eq(auditLog.workspaceId, WS), eq(auditLog.action, 'route')));
    expect(audit.map((a) => [a.actor, a.outcome])).toEqual(expect.arrayContaining([['alice', 'allowed'], ['bob', 'refused']]));
  });

  it('sends a team=payments, severity=critical alert to #payments-oncall and others to the default channel', async () => {
    await send('Payments API errors', { team: 'payments', severity: 'critical' });
    await send('Search latency', { team: 'search', severity: 'critical' });
    await send('Payments queue backlog', { team: 'payments', severity: 'warning' });
    const payments = await cardIn(PAYMENTS, 'Payments API errors');
    await waitFor(async () => (await tacit.database.db.select().from(playgroundMessages).where(eq(playgroundMessages.threadId, payments.id))).length > 0, { what: 'its thread summary' });
    await cardIn('playground:incidents', 'Search latency');
    await cardIn('playground:incidents', 'Payments queue backlog');
    const [row] = await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Payments API errors'));
    expect(row?.channelId).toBe(PAYMENTS);
    expect((await channelMessages(tacit.url)).some((m) => m.text.includes('Payments API errors'))).toBe(false);
  });

  it('tracks a proactive-off incident without posting about it, and says why', async () => {
    await send('Dev database slow', { env: 'dev', severity: 'critical' });
    const tracked = await waitFor(async () => (await tacit.database.db.select().from(incidents).where(eq(incidents.title, 'Dev database slow')))[0], { what: 'the incident' });
    const vetoed = await waitFor(async () => (await tacit.database.db.select().from(decisions)).find((d) => d.vetoes.some((v) => v.includes('routing rule 2: proactive off'))), { what: 'the veto' });
    expect(vetoed.vetoes.some((v) => v.startsWith('card: routing rule 2'))).toBe(true);
    expect(tracked.announcedAt).toBeNull();
    const posted = await tacit.database.db.select().from(playgroundMessages);
    expect(posted.some((m) => m.text.includes('Dev database slow'))).toBe(false);
  });

  it('keeps a rotation set from chat, and each person\'s own quiet hours', async () => {
    expect(await tacitCommand(tacit.url, 'bob', '/tacit oncall rotation @bob @alice')).toMatch(/Only workspace admins/);
    // Mentions in private answers are neutralised (a word joiner after `<`): read them plain.
    const plain = async (user: string, text: string) => (await tacitCommand(tacit.url, user, text)).replaceAll('\u2060', '');
    expect(await plain('alice', '/tacit oncall rotation @bob @alice mon 09:00 UTC')).toMatch(/: bob → alice, handing over .*; bob is on call now, the next in line is level 2/);
    const who = await plain('bob', '/tacit oncall');
    expect(who).toMatch(/On call \(from rotation, until .*\):\nLevel 1: bob\nLevel 2: alice/);
    expect(await tacitCommand(tacit.url, 'bob', '/tacit oncall quiet-hours 22:00-07:00 Europe/Berlin')).toMatch(/^Your quiet hours: 22:00–07:00 Europe\/Berlin/);
    expect(await tacitCommand(tacit.url, 'alice', '/tacit oncall escalation 2m 10m')).toBe('Escalation (critical incidents nobody acknowledged): 2 min reminder in the thread, then 10 min DM level 1; it stops at the first acknowledgement.');
    const audit = await tacit.database.db.select().from(auditLog).where(and(eq(auditLog.workspaceId, WS), eq(auditLog.action, 'oncall quiet-hours')));
    expect(audit.map((a) => a.actor)).toEqual(['bob']);
    await tacitCommand(tacit.url, 'alice', '/tacit oncall escalation 5m 15m 30m');
  });

  it('shows the rules in /tacit status and through the admin API, which checks channels', async () => {
    const status = await tacitCommand(tacit.url, 'bob', '/tacit status');
    expect(status).toContain('Routing (first match wins; otherwise the source\'s channel):');
    expect(status).toContain('Escalation (critical incidents nobody acknowledged): 5 min reminder in the thread, then 15 min DM level 1, then 30 min DM level 2');
    const got = await fetch(`${tacit.url}/api/workspaces/${WS}/routes`);
    expect(((await got.json()) as { routes: unknown[] }).routes).toHaveLength(2);
    const bad = await fetch(`${tacit.url}/api/workspaces/${WS}/routes`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ routes: [{ matchers: [], channelId: 'playground:nope' }] }),
    });
    expect(bad.status).toBe(400);
    const put = await fetch(`${tacit.url}/api/workspaces/${WS}/routes`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ routes: [{ source: 'alertmanager', matchers: [{ name: 'team', op: '=', value: 'payments' }], channelId: PAYMENTS }] }),
    });
    expect(put.status).toBe(200);
    expect(await tacitCommand(tacit.url, 'bob', '/tacit route')).toContain('1. source=alertmanager team=payments → #payments-oncall');
  });
});
