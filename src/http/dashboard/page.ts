// The dashboard page: DashboardData rendered into one self-contained HTML document. Everything
// inserted goes through escapeHtml — reasons, titles and errors come from alerts, chat and models.
import { relativeTime, timeWithRelative } from '../../core/human-time.js';
import type { DashboardData, DashboardDecision, DashboardWorkspace } from './data.js';
import { escapeHtml, timelineChart } from './chart.js';
import { reportsSection } from './reports.js';

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const usdSmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4 });
const count = new Intl.NumberFormat('en-US');

/** Micro-USD as dollars; amounts under a cent keep four decimals so a cheap decision is not "$0.00". */
export function formatUsd(microUsd: number): string {
  const dollars = microUsd / 1_000_000;
  return microUsd > 0 && microUsd < 10_000 ? usdSmall.format(dollars) : usd.format(dollars);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${count.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}

/** When the page was generated: relative times ("3 min ago") are measured from it. */
interface PageTime {
  /** The UTC date of `nowMs` (YYYY-MM-DD), or '' when unknown. */
  day: string;
  nowMs: number | null;
}

/**
 * A timestamp as "3 min ago" (or "in 12 min"), the absolute UTC time in its title; without a page clock,
 * the UTC time alone (only the time when it is on the page's own day, else date and minute).
 */
function time(iso: string, today: PageTime, style: 'relative' | 'clock' = 'relative'): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeHtml(iso);
  const full = new Date(ms).toISOString();
  const absolute = `${full.slice(0, 10)} ${full.slice(11, 19)} UTC`;
  const now = today.nowMs === null ? null : new Date(today.nowMs);
  const shown = !now
    ? full.slice(0, 10) === today.day ? full.slice(11, 19) : `${full.slice(0, 10)} ${full.slice(11, 16)}`
    : style === 'clock' ? timeWithRelative(new Date(ms), { now, timezone: 'UTC' }) : relativeTime(new Date(ms), now);
  return `<time datetime="${escapeHtml(full)}" title="${escapeHtml(absolute)}">${escapeHtml(shown)}</time>`;
}

/** A name or id: wraps between words, a word too long for the column is cut with an ellipsis (the whole of it in the title). */
const clip = (text: string): string => `<span class="clip" title="${escapeHtml(text)}">${escapeHtml(text)}</span>`;

const badge = (text: string, tone: string): string => `<span class="badge ${tone}">${escapeHtml(text)}</span>`;

const outcomeTone: Record<DashboardDecision['outcome'], string> = { quiet: 'grey', spoke: 'green', vetoed: 'orange', acted: 'purple' };

function severityTone(severity: string): string {
  const s = severity.toLowerCase();
  if (s === 'critical' || s === 'page' || s === 'error') return 'red';
  if (s === 'warning' || s === 'high') return 'orange';
  return 'grey';
}

/** A table whose cells are already-escaped HTML, or the section's empty-state line. */
function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  // The wrapper scrolls a table that still cannot fit (many columns in a narrow window), never the page.
  return `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function section(title: string, testid: string, body: string, note = ''): string {
  const aside = note ? ` <span class="note">${note}</span>` : '';
  return `<section class="card" data-testid="${testid}"><h2>${escapeHtml(title)}${aside}</h2>${body}</section>`;
}

function workspaceCard(w: DashboardWorkspace, nowMs: number, today: PageTime): string {
  // A pause that has already ended reads as active; an unreadable one stays visible.
  const until = w.pausedUntil !== null && !(Date.parse(w.pausedUntil) <= nowMs) ? w.pausedUntil : null;
  const state = until ? `<span class="badge orange">paused until ${time(until, today, 'clock')}</span>` : badge('active', 'green');
  const c = w.counters;
  const stats: [string, string][] = [
    ['ticks', count.format(c.ticks)],
    ['quiet', count.format(c.quiet)],
    ['woken', count.format(c.woken)],
    ['spoke', count.format(c.spoke)],
    ['vetoed', count.format(c.vetoed)],
    ['acted', count.format(c.acted)],
    ['model calls', count.format(c.model_calls)],
    ['tokens', count.format(c.tokens)],
    ['cost', formatUsd(c.cost_micro_usd)],
  ];
  const tiles = stats.map(([k, v]) => `<div class="stat"><b>${escapeHtml(v)}</b><span>${escapeHtml(k)}</span></div>`).join('');
  return `<section class="card workspace" data-testid="workspace-${escapeHtml(w.id)}">
<h2>${escapeHtml(w.name)} <span class="note">${escapeHtml(w.id)} · ${escapeHtml(w.platform)}</span> ${state}</h2>
<div class="workspace-body">${timelineChart(w, nowMs)}<div class="stats" aria-label="totals since start">${tiles}</div></div>
</section>`;
}

function decisionsSection(data: DashboardData, names: Map<string, string>, today: PageTime): string {
  const rows = data.decisions.map((d) => [
    time(d.createdAt, today),
    clip(names.get(d.workspaceId) ?? d.workspaceId),
    clip(d.trigger),
    clip(d.brain),
    badge(d.outcome, outcomeTone[d.outcome] ?? 'grey'),
    `<span class="text">${escapeHtml(d.reasons.join('; '))}</span>`,
    d.vetoes.length > 0 ? `<span class="text">${escapeHtml(d.vetoes.join('; '))}</span>` : '<span class="muted">—</span>',
    `<span class="num">${count.format(d.tokens)}</span>`,
    `<span class="num">${formatUsd(d.costMicroUsd)}</span>`,
    `<span class="num">${count.format(d.messages)}${feedbackText(d.feedback)}</span>`,
  ]);
  const head = ['time', 'workspace', 'trigger', 'brain', 'outcome', 'reasons', 'vetoes', 'tokens', 'cost', 'messages'];
  const verdicts = data.feedback && data.feedback.helpful + data.feedback.notHelpful > 0
    ? ` · feedback: ${count.format(data.feedback.helpful)} helpful, ${count.format(data.feedback.notHelpful)} not helpful`
    : '';
  return section('Decisions', 'decisions', table(head, rows, 'No decisions yet — every tick so far ended quietly.'), `newest first${verdicts}`);
}

/** "· 2 helpful, 1 not" after a decision's message count, when people said anything. */
function feedbackText(f: { helpful: number; notHelpful: number } | undefined): string {
  if (!f || f.helpful + f.notHelpful === 0) return '';
  return ` <span class="muted" data-testid="feedback">· ${count.format(f.helpful)} helpful, ${count.format(f.notHelpful)} not</span>`;
}

function incidentsSection(data: DashboardData, names: Map<string, string>, today: PageTime): string {
  const rows = data.incidents.map((i) => [
    `<span class="text">${escapeHtml(i.title)}</span>`,
    clip(names.get(i.workspaceId) ?? i.workspaceId),
    badge(i.status, 'blue'),
    badge(i.severity, severityTone(i.severity)),
    i.flapping ? badge('flapping', 'orange') : '<span class="muted">—</span>',
    time(i.startedAt, today),
  ]);
  return section('Open incidents', 'incidents', table(['title', 'workspace', 'status', 'severity', 'flapping', 'started'], rows, 'No open incidents.'));
}

function approvalsSection(data: DashboardData, names: Map<string, string>, today: PageTime): string {
  const rows = data.approvals.map((a) => [
    `<span class="text">${escapeHtml(a.action)}</span>`,
    clip(names.get(a.workspaceId) ?? a.workspaceId),
    clip(a.requestedBy),
    badge(a.status, 'blue'),
    time(a.expiresAt, today),
    `<span class="text">${a.audit.map((r) => `${escapeHtml(r.kind)} · ${escapeHtml(r.actor)}${r.detail ? ` — ${escapeHtml(r.detail)}` : ''}`).join('<br>')}</span>`,
  ]);
  return section('Approvals', 'approvals', table(['action', 'workspace', 'requested by', 'status', 'expires', 'audit trail'], rows, 'No approvals yet.'));
}

function outboxSection(data: DashboardData, today: PageTime): string {
  const o = data.outbox;
  const tiles = (
    [
      ['pending', o.pending, ''],
      ['sent', o.sent, ''],
      ['skipped', o.skipped, ''],
      ['dead', o.dead, o.dead > 0 ? ' bad' : ''],
    ] as const
  )
    .map(([k, v, tone]) => `<div class="stat${tone}" data-testid="outbox-${k}"><b>${count.format(v)}</b><span>${k}</span></div>`)
    .join('');
  const rows = o.deadRows.map((r) => [
    `<code>${escapeHtml(r.id)}</code>`,
    `<code>${escapeHtml(r.channelId)}</code>`,
    r.lastError === null ? '<span class="muted">—</span>' : `<span class="text error">${escapeHtml(r.lastError)}</span>`,
    time(r.createdAt, today),
  ]);
  const body = `<div class="stats row">${tiles}</div><h3>Dead letters</h3>${table(['id', 'channel', 'last error', 'created'], rows, 'No dead messages.')}`;
  return section('Outbox', 'outbox', body);
}

function tablesSection(data: DashboardData): string {
  const rows = data.tables.map((t) => [
    `<code>${escapeHtml(t.table)}</code>`,
    `<span class="num">${t.atLeast ? '≥ ' : '~'}${count.format(t.rows)}</span>`,
    `<span class="num">${escapeHtml(formatBytes(t.bytes))}</span>`,
  ]);
  return section('Storage', 'tables', table(['table', 'rows', 'size'], rows, 'No sizes available.'), 'with indexes; old rows are purged per the retention settings');
}

function quarantineSection(data: DashboardData, today: PageTime): string {
  const rows = data.quarantine.map((q) => [
    q.kind === 'event' ? `event <code>${escapeHtml(String(q.eventId))}</code>` : `<code>${escapeHtml(q.sourceId)}</code>`,
    `<span class="text">${escapeHtml(q.reason)}</span>`,
    `<span class="num">${escapeHtml(formatBytes(q.bytes))}</span>`,
    time(q.receivedAt, today),
  ]);
  const body = table(['source', 'reason', 'bytes', 'received'], rows, 'Nothing quarantined.');
  return section('Quarantine', 'quarantine', body, 'bodies that could not be parsed, and events no tick could consume');
}

const memoryTone: Record<DashboardData['memory'][number]['status'], string> = { staged: 'grey', active: 'green', stale: 'orange', superseded: 'grey' };

function memorySection(data: DashboardData, names: Map<string, string>, today: PageTime): string {
  const rows = data.memory.map((m) => [
    `<code>${escapeHtml(m.id)}</code>`,
    clip(names.get(m.workspaceId) ?? m.workspaceId),
    badge(m.status, memoryTone[m.status] ?? 'grey') + (m.staleReason ? `<br><span class="text muted">${escapeHtml(m.staleReason)}</span>` : ''),
    `<span class="text"><b>${escapeHtml(m.topic)}</b>: ${escapeHtml(m.hint)}</span>`,
    m.sourceRefs.map((r) => `<code>${escapeHtml(r)}</code>`).join('<br>'),
    m.verifiedAt ? time(m.verifiedAt, today) : '<span class="muted">waiting</span>',
    m.checkedAt ? time(m.checkedAt, today) : '<span class="muted">—</span>',
  ]);
  const head = ['id', 'workspace', 'status', 'entry', 'sources', 'verified', 'last check changed'];
  return section('Memory', 'memory', table(head, rows, 'Nothing remembered yet.'), 'hints, staged until verified and re-checked before use');
}

// Reloads every 10 s while the box is ticked, keeping the reader's scroll position across reloads.
const REFRESH_SCRIPT = `<script>
(() => {
  const box = document.getElementById('auto-refresh');
  const y = sessionStorage.getItem('tacit.dashboard.scrollY');
  if (y !== null) { sessionStorage.removeItem('tacit.dashboard.scrollY'); window.scrollTo(0, Number(y)); }
  box.checked = localStorage.getItem('tacit.dashboard.refresh') !== 'off';
  box.addEventListener('change', () => localStorage.setItem('tacit.dashboard.refresh', box.checked ? 'on' : 'off'));
  setInterval(() => {
    if (!box.checked) return;
    sessionStorage.setItem('tacit.dashboard.scrollY', String(window.scrollY));
    location.reload();
  }, 10000);
})();
</script>`;

const STYLE = `<style>
  :root { --bg:#f6f7f9; --panel:#fff; --line:#e3e5ea; --muted:#6b6f7b; --text:#1d1f24; }
  * { box-sizing:border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--text); background:var(--bg); }
  header { background:#1f2233; color:#e6e8f0; padding:18px 32px; }
  header h1 { margin:0 0 4px; font-size:20px; color:#fff; }
  header p { margin:0; color:#aab0c6; font-size:13px; }
  header .bar { display:flex; justify-content:space-between; align-items:baseline; gap:16px; }
  header label { font-size:12px; color:#aab0c6; cursor:pointer; white-space:nowrap; }
  header .logout { display:inline; margin-left:12px; } header .logout button { font:inherit; font-size:12px; color:#e6e8f0; background:none; border:1px solid #4a4f68; border-radius:6px; padding:2px 8px; cursor:pointer; }
  main { max-width:1600px; margin:0 auto; padding:20px 24px 40px; display:flex; flex-direction:column; gap:16px; }
  .card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
  h2 { margin:0 0 12px; font-size:16px; overflow-wrap:anywhere; }
  h2 > .note, h2 > .badge { margin-left:8px; }
  h3 { margin:14px 0 8px; font-size:13px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
  .note { font-size:12px; font-weight:400; color:var(--muted); }
  .muted { color:var(--muted); }
  .empty { margin:0; color:var(--muted); font-style:italic; }
  .workspace-body { display:flex; flex-wrap:wrap; gap:20px; align-items:flex-start; }
  .chart { margin:0; flex:0 1 720px; min-width:0; }
  .timeline { display:block; max-width:100%; height:auto; }
  .timeline text { font-size:11px; fill:var(--muted); }
  .timeline .col:hover .hit { fill:#f1f3f5; }
  .legend { list-style:none; margin:6px 0 0; padding:0 0 0 40px; display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--muted); }
  .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
  .swatch.line { height:3px; vertical-align:2px; }
  .stats { display:grid; grid-template-columns:repeat(3, minmax(0, 1fr)); gap:8px; flex:1 1 300px; min-width:0; }
  .stats.row { grid-template-columns:repeat(4, minmax(0, 160px)); }
  .stat { background:#f8f9fb; border:1px solid var(--line); border-radius:8px; padding:8px 10px; }
  .stat b { display:block; font-size:18px; font-variant-numeric:tabular-nums; overflow:hidden; text-overflow:ellipsis; }
  .stat span { font-size:12px; color:var(--muted); }
  .stat.bad { background:#fff4e6; border-color:#ffc078; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  th { text-align:left; font-size:11px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); font-weight:600; padding:6px 8px; border-bottom:1px solid var(--line); }
  td { padding:6px 8px; vertical-align:top; border-bottom:1px solid #f0f1f4; overflow-wrap:break-word; }
  tbody tr:nth-child(even) { background:#fafbfc; }
  .text { white-space:pre-wrap; overflow-wrap:anywhere; }
  td:has(> .text) { min-width:9em; }
  .error { color:#c92a2a; }
  .num { font-variant-numeric:tabular-nums; white-space:nowrap; }
  td:has(.num) { text-align:right; }
  time { white-space:nowrap; font-variant-numeric:tabular-nums; }
  code { font:12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap:anywhere; }
  .badge { display:inline-block; border-radius:999px; padding:1px 8px; font-size:12px; font-weight:600; white-space:nowrap; max-width:100%; overflow:hidden; text-overflow:ellipsis; vertical-align:middle; }
  td .badge { max-width:11em; }
  .clip { display:inline-block; max-width:12em; overflow:hidden; text-overflow:ellipsis; vertical-align:top; }
  .table-wrap { overflow-x:auto; max-width:100%; }
  .badge.grey { background:#e9ecef; color:#495057; } .badge.green { background:#d3f9d8; color:#2b8a3e; }
  .badge.orange { background:#ffe8cc; color:#d9480f; } .badge.purple { background:#e5dbff; color:#5f3dc4; }
  .brain-error { background:#fff4e6; border:1px solid #ffa94d; color:#d9480f; border-radius:6px; padding:8px 12px; overflow-wrap:anywhere; }
  .badge.blue { background:#d0ebff; color:#1864ab; } .badge.red { background:#ffe3e3; color:#c92a2a; }
  .grid2 { display:grid; grid-template-columns:minmax(0, 1fr) minmax(0, 1fr); gap:16px; align-items:start; }
  /* Side by side only where two six-column tables fit; one column below, and tighter cells when narrow. */
  @media (max-width: 1499px) { .grid2 { grid-template-columns:minmax(0, 1fr); } }
  @media (max-width: 1000px) {
    main { padding:16px 12px 32px; } header { padding:14px 16px; }
    th, td { padding:5px 5px; } th { letter-spacing:0; } td:has(> .text) { min-width:7em; } .clip { max-width:8em; }
  }
</style>`;

/** `logoutCsrf`: the login session's CSRF token, for the log-out button (absent under loopback trust or a bearer token). */
export function renderDashboard(data: DashboardData, session: { logoutCsrf?: string } = {}): string {
  const parsed = Date.parse(data.generatedAt);
  const nowMs = Number.isNaN(parsed) ? 0 : parsed;
  const today: PageTime = Number.isNaN(parsed) ? { day: '', nowMs: null } : { day: new Date(parsed).toISOString().slice(0, 10), nowMs: parsed };
  const names = new Map(data.workspaces.map((w) => [w.id, w.name]));
  const workspaces =
    data.workspaces.length > 0
      ? data.workspaces.map((w) => workspaceCard(w, nowMs, today)).join('\n')
      : section('Workspaces', 'workspaces', '<p class="empty">No workspaces connected yet.</p>');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tacit — dashboard</title>
${STYLE}
</head>
<body>
<header><div class="bar"><div>
<h1>Tacit — dashboard</h1>
<p>Tacit is a bot. Silence is the default: most heartbeat ticks end quietly, and it speaks or acts only through a recorded decision.</p>
</div><div>
<p>Generated ${time(data.generatedAt, { day: '', nowMs: null })} · hover a time for its UTC date</p>
<label><input type="checkbox" id="auto-refresh" checked> refresh every 10 s</label>
${session.logoutCsrf ? `<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${escapeHtml(session.logoutCsrf)}"><button type="submit" data-testid="logout">Log out</button></form>` : ''}
</div></div></header>
<main>
${data.brainError ? `<p class="brain-error" role="alert"><strong>Claude configuration error</strong> — decisions fall back to the rules brain: ${escapeHtml(data.brainError)}</p>` : ''}
${workspaces}
${decisionsSection(data, names, today)}
<div class="grid2">${incidentsSection(data, names, today)}${approvalsSection(data, names, today)}</div>
<div class="grid2">${outboxSection(data, today)}${quarantineSection(data, today)}</div>
${memorySection(data, names, today)}
${reportsSection(data.reports)}
${tablesSection(data)}
</main>
${REFRESH_SCRIPT}
</body>
</html>
`;
}
