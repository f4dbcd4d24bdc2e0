// A busy day for one workspace, replayed as one scenario: an alert every 90 minutes (firing, re-sent by
// Alertmanager, resolved), chat all day, CI breaking and a deploy every few hours. The model is called
// when incidents open and resolve — tens of minutes apart, the case a 1-hour prompt cache is for.
import type { EventPayload } from '../src/core/events.js';

interface Step {
  at: string;
  setup: boolean;
  events: EventPayload[];
}

const DAY = Date.parse('2025-03-05T00:00:00Z');
const MIN = 60_000;
const SERVICES = ['checkout', 'payments', 'search', 'catalog', 'auth', 'orders', 'cart', 'images'];

type Templates = { alert: Extract<EventPayload, { kind: 'alert' }>; ci: Extract<EventPayload, { kind: 'repo' }>; deploy: Extract<EventPayload, { kind: 'repo' }>; chat: Extract<EventPayload, { kind: 'chat.message' | 'chat.mention' }> };

/** The day's steps, built from the recorded scenarios' events (`templates`), in time order. */
export function busyDay(t: Templates): { id: string; description: string; steps: Step[]; expect: 'speak' } {
  const at = new Map<number, EventPayload[]>();
  const add = (ms: number, e: EventPayload) => at.set(ms, [...(at.get(ms) ?? []), e]);
  for (let k = 0; k < 16; k++) {
    const service = SERVICES[k % SERVICES.length] ?? 'app';
    const alertname = `${service[0]?.toUpperCase()}${service.slice(1)}HighErrorRate${k}`;
    const start = DAY + k * 90 * MIN + 7 * MIN;
    const alert = {
      ...t.alert, fingerprint: `fp${k.toString(16).padStart(14, '0')}`, groupKey: `{}:{alertname="${alertname}"}`, title: `${service} error rate above 5%`,
      labels: { ...t.alert.labels, alertname, service }, annotations: { ...t.alert.annotations, summary: `${service} error rate above 5%` },
      startsAt: new Date(start).toISOString(),
    };
    add(start, alert);
    add(start + 5 * MIN, alert); // Alertmanager re-sends the group: nothing new
    add(start + 40 * MIN, { ...alert, status: 'resolved', endsAt: new Date(start + 39 * MIN).toISOString() });
  }
  for (let m = 3; m < 24 * 60; m += 25) add(DAY + m * MIN, { ...t.chat, messageId: `m_day_${m}`, text: `chatter at minute ${m}` });
  for (let h = 2; h < 24; h += 6) {
    add(DAY + (h * 60 + 15) * MIN, { ...t.ci, sha: `${h}`.padStart(40, 'c'), at: new Date(DAY + (h * 60 + 14) * MIN).toISOString() });
    add(DAY + (h * 60 + 50) * MIN, { ...t.deploy, sha: `${h}`.padStart(40, 'd'), at: new Date(DAY + (h * 60 + 49) * MIN).toISOString() });
  }
  const steps = [...at.entries()].sort(([a], [b]) => a - b).map(([ms, events]) => ({ at: new Date(ms).toISOString(), setup: false, events }));
  return { id: 'busy-workspace-day', description: '16 incidents, chat all day, CI failures and deploys', steps, expect: 'speak' };
}

/** The events the day is made of, taken from recorded scenarios by id. */
export function dayTemplates(scenarios: readonly { id: string; steps: { events: EventPayload[] }[] }[]): Templates {
  const first = (id: string): EventPayload => {
    const e = scenarios.find((s) => s.id === id)?.steps.at(-1)?.events[0];
    if (!e) throw new Error(`bench decisions: the busy day needs scenario ${id} in bench/decisions/scenarios.json`);
    return e;
  };
  const alert = first('critical-alert-fires');
  const ci = first('ci-failure-default-branch');
  const deploy = first('deploy-success-no-incident');
  const chat = first('chat-chatter');
  if (alert.kind !== 'alert' || ci.kind !== 'repo' || deploy.kind !== 'repo' || chat.kind !== 'chat.message') throw new Error('bench decisions: unexpected template events');
  return { alert, ci, deploy, chat };
}
