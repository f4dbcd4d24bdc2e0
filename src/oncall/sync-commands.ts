// `/tacit auto-resolve …`, `/tacit ack-silence …` and `/tacit pagerduty-email …`: the settings of
// sync-settings.ts, from chat. Who may run them is decided before (core/roles commandAccess: the
// first two change the workspace and need an admin; a PagerDuty email is a person's own).
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { InboundCommand, InteractionResponse } from '../chat/port.js';
import { spanText } from '../core/human-time.js';
import { parseDuration } from '../core/settings.js';
import type { Db } from '../db/client.js';
import { workspaces } from '../db/schema.js';
import { patchWorkspaceSettings } from '../db/workspace-settings.js';
import { autoResolveSchema, readSyncSettings, SYNC_SETTINGS_KEY, type SyncSettings } from './sync-settings.js';

export const SYNC_VERBS = ['auto-resolve', 'ack-silence', 'pagerduty-email'] as const;

const kinds = Object.keys(autoResolveSchema.shape) as (keyof SyncSettings['autoResolveMs'])[];

async function current(db: Db, workspaceId: string): Promise<SyncSettings> {
  const [ws] = await db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return readSyncSettings(ws?.settings);
}

/** Merges into the one settings key; the whole `oncallSync` object is written, validated. */
async function save(db: Db, workspaceId: string, next: SyncSettings): Promise<void> {
  await patchWorkspaceSettings(db, workspaceId, { [SYNC_SETTINGS_KEY]: next });
}

export function describeAutoResolve(s: SyncSettings): string {
  return kinds.map((k) => `${k} ${s.autoResolveMs[k] === null ? 'off' : spanText(s.autoResolveMs[k] ?? 0)}`).join(', ');
}

export async function syncCommand(db: Db, c: InboundCommand, verb: string, args: string[]): Promise<InteractionResponse> {
  const settings = await current(db, c.workspaceId);
  if (verb === 'auto-resolve') return autoResolve(db, c, settings, args);
  if (verb === 'ack-silence') return ackSilence(db, c, settings, args);
  return pagerdutyEmail(db, c, settings, args);
}

async function autoResolve(db: Db, c: InboundCommand, s: SyncSettings, args: string[]): Promise<InteractionResponse> {
  const [kindArg, value] = args.map((a) => a.toLowerCase());
  if (!kindArg) return { privateText: `Auto-resolve after a silence, per source kind: ${describeAutoResolve(s)}. \`/tacit auto-resolve generic 4h\` or \`off\`.` };
  const kind = kinds.find((k) => k === kindArg);
  if (!kind || !value) return { privateText: `Say which kind (${kinds.join(', ')}) and how long, e.g. \`/tacit auto-resolve generic 4h\` or \`/tacit auto-resolve sentry off\`.` };
  const ms = value === 'off' ? null : parseDuration(value);
  if (value !== 'off' && (ms === null || ms < 60_000 || ms > 30 * 86_400_000)) return { privateText: 'Give the silence from `1m` to `30d`, or `off`.' };
  await save(db, c.workspaceId, { ...s, autoResolveMs: { ...s.autoResolveMs, [kind]: ms } });
  return { privateText: ms === null ? `Incidents from ${kind} sources no longer resolve themselves.` : `Open incidents from ${kind} sources resolve themselves after ${spanText(ms)} without an alert, announced in their thread.` };
}

async function ackSilence(db: Db, c: InboundCommand, s: SyncSettings, args: string[]): Promise<InteractionResponse> {
  const [modeArg, duration] = args.map((a) => a.toLowerCase());
  if (!modeArg) return { privateText: `Acknowledge silences the Alertmanager group: ${s.alertmanagerSilence} (for at most ${spanText(s.silenceMinutes * 60_000)}). \`/tacit ack-silence direct|approval|off [12h]\`.` };
  const mode = z.enum(['direct', 'approval', 'off']).safeParse(modeArg);
  if (!mode.success) return { privateText: '`direct` silences at once, `approval` asks an approver first, `off` leaves Alertmanager alone.' };
  const ms = duration ? parseDuration(duration) : s.silenceMinutes * 60_000;
  if (ms === null || ms < 5 * 60_000 || ms > 7 * 86_400_000) return { privateText: 'Give the longest silence from `5m` to `7d`, e.g. `/tacit ack-silence direct 12h`.' };
  await save(db, c.workspaceId, { ...s, alertmanagerSilence: mode.data, silenceMinutes: Math.round(ms / 60_000) });
  return { privateText: `Acknowledge now ${mode.data === 'off' ? 'leaves Alertmanager alone' : `${mode.data === 'approval' ? 'asks for an approval to silence' : 'silences'} the Alertmanager group for at most ${spanText(ms)}, ended when the incident is resolved through Tacit`}.` };
}

/** A person's own PagerDuty login: their acknowledgements are made as them (the From header). */
async function pagerdutyEmail(db: Db, c: InboundCommand, s: SyncSettings, args: string[]): Promise<InteractionResponse> {
  const arg = args[0];
  if (!arg) {
    const mine = s.pagerdutyEmails[c.user.id];
    return { privateText: mine ? `You act in PagerDuty as ${mine}. \`/tacit pagerduty-email off\` to stop.` : 'Tacit acts in PagerDuty as its integration\'s own user for you. `/tacit pagerduty-email you@example.com` to act as yourself.' };
  }
  const emails = { ...s.pagerdutyEmails };
  if (arg.toLowerCase() === 'off') delete emails[c.user.id];
  else {
    // Slack sends an email as <mailto:a@b|a@b>.
    const email = z.email().safeParse(arg.replace(/^<mailto:([^|>]+).*>$/, '$1'));
    if (!email.success) return { privateText: `"${arg}" is not an email address; give your PagerDuty login.` };
    emails[c.user.id] = email.data;
  }
  await save(db, c.workspaceId, { ...s, pagerdutyEmails: emails });
  return { privateText: emails[c.user.id] ? `Your acknowledgements and resolves reach PagerDuty as ${emails[c.user.id]}.` : 'Tacit acts in PagerDuty as its integration\'s own user for you again.' };
}

/** `/tacit status`: what Acknowledge does at the sources, and which incidents resolve themselves. */
export function syncStatusLine(workspaceSettings: unknown): string {
  const s = readSyncSettings(workspaceSettings);
  const silence = s.alertmanagerSilence === 'off' ? 'off' : `${s.alertmanagerSilence}, at most ${spanText(s.silenceMinutes * 60_000)}`;
  return `Acknowledge/resolve reach PagerDuty, Alertmanager (silence: ${silence}) and Sentry where configured. Auto-resolve: ${describeAutoResolve(s)}.`;
}
