// The App Home tab: what Tacit is watching now (open incidents), what it decided lately and which
// approvals wait for someone — read from Postgres when a person opens the tab, published with views.publish.
import type { HomeView, KnownBlock } from '@slack/types';
import { and, desc, eq, ne } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { approvals, decisions, incidents } from '../../db/schema.js';
import { escapeMrkdwn, plainText } from './render.js';

const LIST = 10;

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } });
const header = (text: string): KnownBlock => ({ type: 'header', text: plainText(text, 150) });
const when = (d: Date) => `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${d.toISOString()}>`;

/** @param nameOf a person's name as Slack shows it (the id when unknown) */
export async function homeView(db: Db, workspaceId: string, nameOf: (personId: string) => Promise<string> = async (id) => id): Promise<HomeView> {
  const [open, recent, pending] = await Promise.all([
    db.select().from(incidents).where(and(eq(incidents.workspaceId, workspaceId), ne(incidents.status, 'resolved'))).orderBy(desc(incidents.startedAt)).limit(LIST),
    db.select().from(decisions).where(eq(decisions.workspaceId, workspaceId)).orderBy(desc(decisions.createdAt)).limit(5),
    db.select().from(approvals).where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.status, 'pending'))).orderBy(approvals.expiresAt).limit(LIST),
  ]);
  const askers = new Map(await Promise.all([...new Set(pending.map((a) => a.requestedBy))].map(async (id) => [id, await nameOf(id)] as const)));
  const blocks: KnownBlock[] = [
    header('Status'),
    section(
      open.length === 0
        ? 'All quiet: no open incidents.'
        : open.map((i) => `• *${escapeMrkdwn(i.title)}* — ${i.status}, ${escapeMrkdwn(i.severity)}, since ${when(i.startedAt)}`).join('\n'),
    ),
    { type: 'divider' },
    header('Recent decisions'),
    section(
      recent.length === 0
        ? 'No decisions yet.'
        : recent.map((d) => `• ${when(d.createdAt)} *${d.outcome}* (${escapeMrkdwn(d.brain)}): ${escapeMrkdwn(d.reasons.join('; ') || '—')} \`${d.id}\``).join('\n'),
    ),
    { type: 'divider' },
    header('Waiting for approval'),
    section(
      pending.length === 0
        ? 'Nothing waits for an approval.'
        : pending.map((a) => `• *${escapeMrkdwn(a.action)}* asked by ${escapeMrkdwn(askers.get(a.requestedBy) ?? a.requestedBy)}: ${escapeMrkdwn(a.reason || '—')} (expires ${when(a.expiresAt)})`).join('\n'),
    ),
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Tacit is a bot. Ask `@tacit why` in a thread to see the decision behind a message.' }] },
  ];
  return { type: 'home', blocks };
}
