// What the dashboard shows, as plain data: gathered by `loadDashboard`, rendered by `renderDashboard`.
import type { CounterName, TimelinePoint } from '../../heartbeat/signals.js';
import type { DashboardReport } from './reports.js';

export interface DashboardWorkspace {
  id: string;
  name: string;
  platform: string;
  pausedUntil: string | null;
  counters: Record<CounterName, number>;
  /** Per-minute counts for the last hour, oldest first; minutes without ticks are absent. */
  timeline: TimelinePoint[];
}

export interface DashboardDecision {
  id: string;
  workspaceId: string;
  createdAt: string;
  trigger: string;
  brain: string;
  outcome: 'quiet' | 'spoke' | 'vetoed' | 'acted';
  reasons: string[];
  vetoes: string[];
  tokens: number;
  costMicroUsd: number;
  /** Outbox rows this decision produced. */
  messages: number;
  /** People's verdicts on its message (feedback buttons under summaries). */
  feedback?: { helpful: number; notHelpful: number };
}

export interface DashboardData {
  generatedAt: string;
  /** What to fix for the model brain to work (decisions meanwhile fall back to the rules brain); null when fine. */
  brainError?: string | null;
  workspaces: DashboardWorkspace[];
  decisions: DashboardDecision[];
  /** All verdicts on summaries (feedback buttons), every workspace. */
  feedback?: { helpful: number; notHelpful: number };
  incidents: { id: string; workspaceId: string; title: string; status: string; severity: string; flapping: boolean; startedAt: string }[];
  approvals: {
    id: string; workspaceId: string; action: string; requestedBy: string; status: string; expiresAt: string;
    /** Append-only trail: requested, refused, approved/denied, executed/failed, verified. */
    audit: { at: string; kind: string; actor: string; detail: string }[];
  }[];
  outbox: {
    pending: number;
    sent: number;
    skipped: number;
    dead: number;
    deadRows: { id: string; channelId: string; lastError: string | null; createdAt: string }[];
  };
  quarantine: { id: number; sourceId: string; kind: 'body' | 'event'; eventId: number | null; reason: string; bytes: number; receivedAt: string }[];
  /** Memory entries (staged, active, stale), newest first, with the sources they cite. Status as last checked. */
  memory: DashboardMemory[];
  /** Post-incident drafts of recently resolved incidents (src/oncall/report.ts), newest first. */
  reports?: DashboardReport[];
  /** The tables that grow with traffic, largest first: estimated rows (`atLeast`: a lower bound) and bytes. */
  tables: { table: string; rows: number; atLeast: boolean; bytes: number }[];
}

export interface DashboardMemory {
  id: string;
  workspaceId: string;
  status: 'staged' | 'active' | 'stale' | 'superseded';
  topic: string;
  hint: string;
  sourceRefs: string[];
  staleReason: string | null;
  /** When what it records was verified (null while staged). */
  verifiedAt: string | null;
  checkedAt: string | null;
}
