// Row 7: forged requests on every route — no credentials, wrong tokens, another source's token, bad
// and truncated signatures, a signature over another body, stale and future timestamps. All must be
// refused with 401, and none may leave a row behind (no event, no quarantined body).
import type { Scenario } from './run.js';
import { healthy } from './outcome.js';
import { emptyRow, expect } from './report.js';
import { credentials, fixture, hmacHex, routeUrl, send, Tally, type Route } from './senders.js';
import { count, GRAFANA_TIMESTAMP_HEADER, startWorld, type World } from './world.js';

const ROUTES: Route[] = ['alertmanager', 'grafana', 'pagerduty', 'sentry', 'generic', 'github', 'slack'];

function bodyFor(route: Route, world: World, i: number): string {
  switch (route) {
    case 'github':
      return fixture('github/push.json');
    case 'sentry':
      return fixture('sentry/event_alert.triggered.json');
    case 'pagerduty':
      return fixture('pagerduty/incident.triggered.json');
    case 'grafana':
      return fixture('grafana/firing.json');
    case 'generic':
      return fixture('generic/datadog.triggered.json');
    case 'slack':
      return JSON.stringify(world.slack.eventEnvelope({ type: 'app_mention', channel: world.channels[0], user: 'U0ALICE', text: `<@U0TACITBOT> forged ${i}`, ts: `1764590000.${i}` }));
    default:
      return fixture('alertmanager/firing.json');
  }
}

/** The header that carries this route's credential. */
const credentialHeader: Record<Route, string> = {
  alertmanager: 'authorization', generic: 'authorization', grafana: 'x-grafana-alerting-signature', pagerduty: 'x-pagerduty-signature',
  sentry: 'sentry-hook-signature', github: 'x-hub-signature-256', slack: 'x-slack-signature',
};

/** Forgery `i` of a route: start from correct credentials and break exactly one thing. */
function forge(route: Route, world: World, body: string, i: number): { kind: string; headers: Record<string, string>; body: string } {
  const source = route === 'slack' ? undefined : world.byKind[route];
  const good = credentials(route, source, body);
  const header = credentialHeader[route];
  const value = good[header] ?? '';
  const without = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
  const timestamped = route === 'slack' || route === 'grafana';
  const bearer = header === 'authorization';
  const variants: (() => { kind: string; headers: Record<string, string>; body: string })[] = [
    () => ({ kind: 'no credentials', headers: without(good, header), body }),
    () => ({ kind: 'empty credential', headers: { ...good, [header]: '' }, body }),
    () => ({ kind: bearer ? 'a wrong token' : 'signed with a wrong secret', headers: { ...good, [header]: bearer ? 'Bearer tct_not-the-token-0123456789abcdef' : value.replace(/[0-9a-f]{64}$/, hmacHex('not-the-secret', body)) }, body }),
    () => ({ kind: 'truncated credential', headers: { ...good, [header]: value.slice(0, Math.max(1, value.length - 8)) }, body }),
    // A bearer token does not cover the body; a signature must.
    () => (bearer ? { kind: 'lower-cased token', headers: { ...good, [header]: value.toLowerCase() === value ? `${value}x` : value.toLowerCase() }, body } : { kind: 'signature of another body', headers: good, body: `${body} ` }),
    () => ({ kind: 'one character flipped', headers: { ...good, [header]: value.slice(0, -1) + (value.endsWith('0') ? '1' : '0') }, body }),
    () => ({ kind: 'another source\u2019s credential', headers: { ...good, [header]: (route === 'alertmanager' ? credentials('generic', world.byKind.generic, body) : credentials('alertmanager', world.byKind.alertmanager, body)).authorization ?? 'x' }, body }),
    () => ({ kind: 'basic auth with a wrong password', headers: { ...good, authorization: `Basic ${Buffer.from('tacit:wrong-password').toString('base64')}`, [header]: route === 'alertmanager' || route === 'generic' ? `Basic ${Buffer.from('tacit:wrong').toString('base64')}` : 'x' }, body }),
  ];
  if (timestamped) {
    const tsHeader = route === 'slack' ? 'x-slack-request-timestamp' : GRAFANA_TIMESTAMP_HEADER;
    variants.push(
      () => ({ kind: 'stale timestamp (400 s), correctly signed', headers: credentials(route, source, body, { skewSeconds: -400 }), body }),
      () => ({ kind: 'future timestamp (400 s), correctly signed', headers: credentials(route, source, body, { skewSeconds: 400 }), body }),
      () => ({ kind: 'timestamp changed after signing', headers: { ...good, [tsHeader]: String(Number(good[tsHeader]) - 1) }, body }),
      () => ({ kind: 'non-numeric timestamp', headers: { ...good, [tsHeader]: 'yesterday' }, body }),
    );
  }
  return (variants[i % variants.length] as (typeof variants)[number])();
}

export const forgeries: Scenario = {
  id: 'forgeries',
  name: 'forgeries refused',
  async run({ short }) {
    const row = emptyRow(this.name);
    const perRoute = short ? 50 : 500;
    const world = await startWorld({ name: 'forgeries', allKinds: true });
    const t0 = Date.now();
    try {
      const before = (await count(world.db, 'events')) + (await count(world.db, 'quarantine'));
      const tally = new Tally();
      const accepted: string[] = [];
      for (const route of ROUTES) {
        const url = routeUrl(world, route);
        for (let batch = 0; batch < perRoute; batch += 10) {
          await Promise.all(
            Array.from({ length: Math.min(10, perRoute - batch) }, async (_, j) => {
              const i = batch + j;
              const forged = forge(route, world, bodyFor(route, world, i), i);
              tally.sent++;
              const answer = await send(url, forged.body, forged.headers);
              tally.record(answer.status);
              if (answer.status !== 401) {
                if (answer.status >= 200 && answer.status < 300) tally.acked++;
                if (accepted.length < 8) accepted.push(`${route} ${forged.kind} → ${answer.status || 'no answer'}`);
              }
            }),
          );
        }
      }
      const after = (await count(world.db, 'events')) + (await count(world.db, 'quarantine'));
      row.sent = tally.sent;
      row.acked = tally.acked;
      row.serverErrors = [...tally.statuses.entries()].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
      row.crashes = world.tacit.crashes + ((await healthy(world)) ? 0 : 1);
      const refused = tally.statuses.get(401) ?? 0;
      expect(row, refused === tally.sent, `${tally.sent - refused} forgeries were not refused with 401: ${accepted.join('; ')}`);
      expect(row, after === before, `${after - before} rows were stored from forged requests`);
      expect(row, row.crashes === 0, 'Tacit crashed or stopped answering /healthz');
      row.notes.push(`${perRoute} per route over ${ROUTES.length} routes; answers ${tally.summary()}`);
    } finally {
      row.timeMs = Date.now() - t0;
      await world.close();
    }
    return row;
  },
};
