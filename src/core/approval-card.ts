// The approval card: what is asked, why, at what risk, by whom, who may approve, until when; then who
// decided and what happened. Edited in place. Every parameter is shown in full, or (when too long for a
// card) as a digest whose full text is a file in the same thread; the buttons carry the approval id and
// the hash of the parameters shown, so a click approves exactly what its card showed.
import { createHash } from 'node:crypto';
import type { Risk } from './actions.js';
import { clockTime, humanTime, humaniseInstants, spanText, type TimeContext } from './human-time.js';
import type { Block, OutgoingMessage } from './message.js';

export const APPROVE_ACTION_ID = 'approval.approve';
export const DENY_ACTION_ID = 'approval.deny';
/** A submitted "why do you deny it?" form (chat/port.ts DenyReasonForm): value the approval id, text the reason. */
export const DENY_REASON_ACTION_ID = 'approval_deny_reason';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';

export interface ApprovalView {
  id: string;
  action: string;
  /** One line per parameter, already summarised for people. */
  params: Record<string, unknown>;
  reason: string;
  status: ApprovalStatus;
  requestedBy: string;
  approvers: string;
  expiresAt: Date;
  decidedBy?: string | null;
  decidedAt?: Date | null;
  /** The decider's own words (a Deny's reason). */
  decisionNote?: string | null;
  result?: string | null;
  verification?: { ok: boolean; detail: string } | null;
  /** The stored hash the approval is bound to (actions/approvals `paramsHash`); its short form is shown. */
  paramsHash: string;
  risk?: Risk;
  /** Distinct people whose approval it takes (two for `dangerous` or a brain proposal under two-person). */
  approvalsNeeded?: number;
  /** Who approved so far, while more approvals are needed. */
  approvedSoFar?: string[];
}

/** A value longer than this (as the card would show it) becomes a digest on the card and a file in the thread. */
export const LONG_VALUE_CHARS = 500;
/** Parameters past this many are digested too: Slack allows 50 blocks and 10 fields a block. */
export const MAX_SHOWN_PARAMS = 20;
const FIELDS_PER_BLOCK = 10;
const DIGEST_LINES = 3;
const DIGEST_CHARS = 200;

/** The hash as people and buttons carry it: 16 hex digits (64 bits) of the stored sha256. */
export function shortHash(hash: string): string {
  return hash.slice(0, 16);
}

/** `apr_…:<short hash>`: what a click approves. Discord custom ids allow 100 characters; this is under 60. */
export function buttonValue(approvalId: string, hash: string): string {
  return `${approvalId}:${shortHash(hash)}`;
}

export function parseButtonValue(value: string): { approvalId: string; hash: string | null } {
  const at = value.indexOf(':');
  return at < 0 ? { approvalId: value, hash: null } : { approvalId: value.slice(0, at), hash: value.slice(at + 1) };
}

/** A parameter too long for the card: its full text as the file people read before approving. */
export interface FullText {
  param: string;
  filename: string;
  content: string;
  /** sha256 of `content`, hex: what the card shows, so the file can be checked (`sha256sum`). */
  sha256: string;
}

/** Strings as they are; anything else as indented JSON, so the file is unambiguous. */
function fullTextOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** The parameters this approval's card cannot show in full, each with the file that shows it. */
export function longValues(approvalId: string, params: Record<string, unknown>): FullText[] {
  return Object.entries(params).flatMap(([name, value], i) => {
    if (i < MAX_SHOWN_PARAMS && paramText(name, value).length <= LONG_VALUE_CHARS) return [];
    const content = fullTextOf(value);
    const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
    return [{ param: name, filename: `approval-${approvalId.replace(/^apr_/, '').slice(0, 8)}-${safe}.txt`, content, sha256: createHash('sha256').update(content).digest('hex') }];
  });
}

function digest(full: FullText): string {
  const lines = full.content.split('\n').slice(0, DIGEST_LINES).join('\n');
  const head = lines.length > DIGEST_CHARS ? `${lines.slice(0, DIGEST_CHARS - 1)}…` : `${lines}${lines.length < full.content.length ? '…' : ''}`;
  return `${head}\n(${full.content.length.toLocaleString('en-US')} characters; full text in ${full.filename}, sha256 ${shortHash(full.sha256)}…)`;
}

const riskText: Record<Risk, string> = {
  read: 'read (changes nothing)',
  write: 'write',
  dangerous: 'dangerous: two people (or a workspace admin) must approve',
};

const headline: Record<ApprovalStatus, (a: ApprovalView) => string> = {
  pending: (a) => `Approval needed: ${a.action}`,
  approved: (a) => `Approved: ${a.action} (running)`,
  denied: (a) => `Denied: ${a.action}`,
  expired: (a) => `Expired: ${a.action}`,
  executed: (a) => `Done: ${a.action}`,
  failed: (a) => `Failed: ${a.action}`,
};
const tone = { pending: 'warning', approved: 'warning', denied: 'danger', expired: 'danger', executed: 'success', failed: 'danger' } as const;

/** `durationMinutes: 30` reads "Duration: 30 min"; other names are split into words ("silenceId" → "Silence id"). */
function paramLabel(name: string, value: unknown): string {
  const minutes = /^(.+)Minutes$/.exec(name);
  return minutes?.[1] && typeof value === 'number' ? words(minutes[1]) : words(name);
}

/** The whole value as the card shows it (never cut: a long one is digested instead). */
function paramText(name: string, value: unknown): string {
  if (/Minutes$/.test(name) && typeof value === 'number') return spanText(value * 60_000);
  return typeof value === 'string' ? value : readable(value);
}

function words(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** Label matchers as Alertmanager writes them (`alertname=DiskFull, job=~"api.*"`); lists joined; else JSON. */
function readable(value: unknown): string {
  if (Array.isArray(value) && value.length > 0 && value.every(isMatcher)) return value.map(matcherText).join(', ');
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return value.join(', ');
  return JSON.stringify(value);
}

interface Matcher {
  name: string;
  value: string;
  isRegex?: boolean;
  isEqual?: boolean;
}

function isMatcher(v: unknown): v is Matcher {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m.name === 'string' && typeof m.value === 'string';
}

function matcherText(m: Matcher): string {
  const op = m.isEqual === false ? (m.isRegex ? '!~' : '!=') : m.isRegex ? '=~' : '=';
  // Plain values read best bare; anything with spaces, commas or quotes is quoted so the list stays unambiguous.
  const value = /^[\w.:/@-]+$/.test(m.value) ? m.value : JSON.stringify(m.value);
  return `${m.name}${op}${value}`;
}

/** @param time the clock and workspace zone the card is rendered for ("07:47 UTC (in 15 min)"). */
export function approvalCard(a: ApprovalView, time?: TimeContext): OutgoingMessage {
  const at = (d: Date) => (time ? clockTime(d, time) : humanTime(d, undefined));
  const told = (text: string) => (time ? humaniseInstants(text, time) : text);
  const title = headline[a.status](a);
  const fields = [
    { label: 'Action', value: a.action },
    { label: 'Risk', value: riskText[a.risk ?? 'write'] },
    { label: 'Requested by', value: a.requestedBy },
  ];
  if (a.status === 'pending') {
    const needed = a.approvalsNeeded ?? 1;
    fields.push(
      { label: 'Who may approve', value: needed > 1 ? `${a.approvers} (${needed} different people)` : a.approvers },
      { label: 'Expires', value: humanTime(a.expiresAt, time) },
    );
  }
  fields.push({ label: 'Parameters hash', value: `sha256 ${shortHash(a.paramsHash)}` });
  const long = new Map(longValues(a.id, a.params).map((f) => [f.param, f]));
  const params = Object.entries(a.params).map(([k, v]) => {
    const file = long.get(k);
    return { label: paramLabel(k, v), value: file ? digest(file) : paramText(k, v) };
  });
  const blocks: Block[] = [
    { kind: 'header', text: title, tone: tone[a.status] },
    { kind: 'section', text: `Why: ${a.reason}` },
    { kind: 'fields', fields },
  ];
  for (let i = 0; i < params.length; i += FIELDS_PER_BLOCK) blocks.push({ kind: 'fields', fields: params.slice(i, i + FIELDS_PER_BLOCK) });
  if (a.status === 'pending') {
    if (a.approvedSoFar && a.approvedSoFar.length > 0) {
      const missing = (a.approvalsNeeded ?? 1) - a.approvedSoFar.length;
      blocks.push({ kind: 'section', text: `Approved so far by ${a.approvedSoFar.join(', ')}; ${missing === 1 ? 'one more person' : `${missing} more people`} must approve.` });
    }
    const value = buttonValue(a.id, a.paramsHash);
    blocks.push({
      kind: 'actions',
      buttons: [
        { actionId: APPROVE_ACTION_ID, value, label: 'Approve', style: 'primary' },
        { actionId: DENY_ACTION_ID, value, label: 'Deny', style: 'danger' },
      ],
    });
  }
  const outcome: string[] = [];
  if (a.decidedBy && (a.status !== 'pending' && a.status !== 'expired')) {
    const note = a.decisionNote?.trim() ? `: ${a.decisionNote.trim()}` : '.';
    outcome.push(`${a.status === 'denied' ? 'Denied' : 'Approved'} by ${a.decidedBy}${a.decidedAt ? ` at ${at(a.decidedAt)}` : ''}${note}`);
  }
  if (a.status === 'expired') outcome.push(`Nobody decided before ${at(a.expiresAt)}; nothing was done.`);
  if (a.result) outcome.push(`Result: ${told(a.result)}`);
  if (a.verification) outcome.push(a.verification.ok ? `Verified: ${told(a.verification.detail)}` : `Verification FAILED: ${told(a.verification.detail)}`);
  if (outcome.length > 0) blocks.push({ kind: 'section', text: outcome.join('\n') });
  blocks.push({ kind: 'context', text: `Tacit (bot) · approval ${a.id}` });
  return { text: `${title}${a.reason ? ` — ${a.reason}` : ''}`, blocks };
}
