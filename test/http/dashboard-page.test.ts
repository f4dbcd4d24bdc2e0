// renderDashboard as a pure function: hand-built DashboardData in, HTML out.
import { describe, expect, it } from 'vitest';
import { renderDashboard } from '../../src/http/dashboard/page.js';
import { stackMinute } from '../../src/http/dashboard/chart.js';
import type { DashboardData, DashboardDecision, DashboardWorkspace } from '../../src/http/dashboard/data.js';
import { counterNames, type CounterName } from '../../src/heartbeat/signals.js';

const generatedAt = '2025-06-03T14:37:25.000Z';
const nowMinute = Math.floor(Date.parse(generatedAt) / 60_000);

function zeroCounters(): Record<CounterName, number> {
  return Object.fromEntries(counterNames.map((n) => [n, 0])) as Record<CounterName, number>;
}

function workspace(overrides: Partial<DashboardWorkspace> = {}): DashboardWorkspace {
  return { id: 'slack:T1', name: 'Acme', platform: 'slack', pausedUntil: null, counters: zeroCounters(), timeline: [], ...overrides };
}

function decision(overrides: Partial<DashboardDecision> = {}): DashboardDecision {
  return {
    id: 'dec_1',
    workspaceId: 'slack:T1',
    createdAt: '2025-06-03T14:30:00.000Z',
    trigger: 'alert',
    brain: 'rules',
    outcome: 'spoke',
    reasons: ['incident opened'],
    vetoes: [],
    tokens: 0,
    costMicroUsd: 0,
    messages: 1,
    ...overrides,
  };
}

function dashboard(overrides: Partial<DashboardData> = {}): DashboardData {
  return {
    generatedAt,
    workspaces: [],
    decisions: [],
    incidents: [],
    approvals: [],
    outbox: { pending: 0, sent: 0, skipped: 0, dead: 0, deadRows: [] },
    quarantine: [],
    memory: [],
    tables: [],
    ...overrides,
  };
}

/** The markup of the element carrying `data-testid`, up to its matching close tag. */
function byTestId(html: string, testid: string, tag: string): string {
  const start = html.indexOf(`data-testid="${testid}"`);
  expect(start, `no element with data-testid="${testid}"`).toBeGreaterThan(-1);
  const end = html.indexOf(`</${tag}>`, start);
  return html.slice(start, end);
}

function columnTitles(svg: string): string[] {
  return [...svg.matchAll(/<g class="col" data-minute="(\d+)"><title>([^<]*)<\/title>/g)].map((m) => `${m[1]} ${m[2]}`);
}

describe('renderDashboard', () => {
  it("shows the brain's configuration error, escaped, and nothing when there is none", () => {
    const html = renderDashboard(dashboard({ brainError: 'claude-sonnet-4-5 was refused: 404 <model>' }));
    expect(html).toContain('Claude configuration error');
    expect(html).toContain('claude-sonnet-4-5 was refused: 404 &lt;model&gt;');
    expect(renderDashboard(dashboard({}))).not.toContain('Claude configuration error');
  });

  it('escapes markup in a decision reason so it is shown, not run', () => {
    const html = renderDashboard(dashboard({ decisions: [decision({ reasons: ['<script>alert(1)</script>', 'a & "b"'] })] }));
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;; a &amp; &quot;b&quot;');
  });

  it('escapes markup in an incident title', () => {
    const incident = { id: 'inc_1', workspaceId: 'slack:T1', title: '<script>x()</script><img src=x onerror=y>', status: 'firing', severity: 'critical', flapping: true, startedAt: generatedAt };
    const html = renderDashboard(dashboard({ incidents: [incident] }));
    expect(html).not.toContain('<script>x()');
    expect(html).not.toContain('<img');
    expect(byTestId(html, 'incidents', 'section')).toContain('&lt;script&gt;x()&lt;/script&gt;&lt;img src=x onerror=y&gt;');
    expect(byTestId(html, 'incidents', 'section')).toContain('flapping');
  });

  it('escapes workspace names and ids, including inside the chart attributes', () => {
    const html = renderDashboard(dashboard({ workspaces: [workspace({ id: 'x"><script>', name: '<b>Ops</b>' })] }));
    expect(html).not.toContain('<b>Ops</b>');
    expect(html).toContain('data-testid="timeline-x&quot;&gt;&lt;script&gt;"');
    expect(html).toContain('aria-label="Heartbeat of &lt;b&gt;Ops&lt;/b&gt;');
  });

  it('the only script on the page is the auto-refresh', () => {
    const html = renderDashboard(dashboard({ decisions: [decision({ reasons: ['<script>'] })] }));
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).toContain("getElementById('auto-refresh')");
  });

  it('draws sixty minute columns ending at generatedAt, with counts in each tooltip', () => {
    const ws = workspace({
      timeline: [
        { minute: nowMinute - 60, ticks: 99 }, // just outside the window
        { minute: nowMinute - 3, ticks: 6, quiet: 4, woken: 2, spoke: 1, vetoed: 0, model_calls: 2 },
        { minute: nowMinute, ticks: 5, quiet: 5 },
      ],
    });
    const svg = byTestId(renderDashboard(dashboard({ workspaces: [ws] })), 'timeline-slack:T1', 'svg');
    const titles = columnTitles(svg);
    expect(titles).toHaveLength(60);
    expect(titles[0]).toMatch(new RegExp(`^${nowMinute - 59} 13:38 UTC · no ticks recorded$`));
    expect(titles[59]).toMatch(new RegExp(`^${nowMinute} 14:37 UTC · ticks 5 · quiet 5 `));
    expect(titles[56]).toBe(`${nowMinute - 3} 14:34 UTC · ticks 6 · quiet 4 · woken 2 · spoke 1 · vetoed 0 · acted 0 · model calls 2`);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('60 min ago');
    expect(svg).toContain('>now<');
    expect(svg).toContain('<polyline'); // model calls line, since there were some
  });

  it('stacks a minute into disjoint bars that add up to its ticks', () => {
    // Two woken ticks: one spoke, one stayed quiet (which also counted as quiet).
    expect(stackMinute({ minute: 0, ticks: 6, quiet: 5, woken: 2, spoke: 1 })).toEqual({ quiet: 4, woken: 1, spoke: 1, acted: 0, vetoed: 0 });
    // Without a quiet count, quiet is whatever the other outcomes leave of the ticks.
    expect(stackMinute({ minute: 0, ticks: 6, woken: 1, vetoed: 1 })).toEqual({ quiet: 5, woken: 0, spoke: 0, acted: 0, vetoed: 1 });
  });

  it('shows empty-state text for every empty section', () => {
    const html = renderDashboard(dashboard());
    expect(byTestId(html, 'workspaces', 'section')).toContain('No workspaces connected yet.');
    expect(byTestId(html, 'decisions', 'section')).toContain('No decisions yet');
    expect(byTestId(html, 'incidents', 'section')).toContain('No open incidents.');
    expect(byTestId(html, 'approvals', 'section')).toContain('No approvals yet.');
    expect(byTestId(html, 'outbox', 'section')).toContain('No dead messages.');
    expect(byTestId(html, 'quarantine', 'section')).toContain('Nothing quarantined.');
    expect(html).not.toContain('<table');
  });

  it('renders costs in micro-USD as dollars', () => {
    const counters = { ...zeroCounters(), cost_micro_usd: 1_234_567 };
    const html = renderDashboard(
      dashboard({ workspaces: [workspace({ counters })], decisions: [decision({ costMicroUsd: 2_500_000_000 }), decision({ costMicroUsd: 4_200 })] }),
    );
    expect(byTestId(html, 'workspace-slack:T1', 'section')).toContain('$1.23');
    const decisions = byTestId(html, 'decisions', 'section');
    expect(decisions).toContain('$2,500.00');
    expect(decisions).toContain('$0.0042'); // under a cent keeps its digits
  });

  it('labels each decision with an outcome badge carrying the outcome text', () => {
    const outcomes = ['quiet', 'spoke', 'vetoed', 'acted'] as const;
    const html = renderDashboard(dashboard({ decisions: outcomes.map((outcome, i) => decision({ id: `dec_${i}`, outcome })) }));
    const decisions = byTestId(html, 'decisions', 'section');
    for (const outcome of outcomes) expect(decisions).toMatch(new RegExp(`<span class="badge \\w+">${outcome}</span>`));
    expect(decisions).toContain('<td><span class="clip" title="slack:T1">slack:T1</span></td>'); // a workspace not on the page shows by id
  });

  it('shows the outbox counts and its dead letters with their last error', () => {
    const outbox = { pending: 2, sent: 40, skipped: 3, dead: 1, deadRows: [{ id: 'out_1', channelId: 'slack:C1', lastError: 'channel_not_found <x>', createdAt: generatedAt }] };
    const section = byTestId(renderDashboard(dashboard({ outbox })), 'outbox', 'section');
    expect(section).toMatch(/data-testid="outbox-pending"><b>2</);
    expect(section).toMatch(/data-testid="outbox-dead"><b>1</);
    expect(section).toContain('channel_not_found &lt;x&gt;');
  });

  it('badges a workspace paused until a future time, and not one whose pause has passed', () => {
    const html = renderDashboard(
      dashboard({
        workspaces: [workspace({ id: 'w1', pausedUntil: '2025-06-03T16:00:00.000Z' }), workspace({ id: 'w2', pausedUntil: '2025-06-03T10:00:00.000Z' })],
      }),
    );
    expect(byTestId(html, 'workspace-w1', 'section')).toContain('paused until');
    expect(byTestId(html, 'workspace-w2', 'section')).not.toContain('paused until');
  });

  it('shows memory entries with their sources and why a stale one is stale, escaped', () => {
    const memory = [
      { id: 'mem_1', workspaceId: 'slack:T1', status: 'stale' as const, topic: 'checkout', hint: '<img src=x> retries fixed it', sourceRefs: ['incident:inc_1', 'repo:acme/app'], staleReason: 'incident inc_1 resolved', verifiedAt: generatedAt, checkedAt: generatedAt },
      { id: 'mem_2', workspaceId: 'slack:T1', status: 'staged' as const, topic: 'deploys', hint: 'waiting', sourceRefs: ['pr:acme/app#12'], staleReason: null, verifiedAt: null, checkedAt: null },
    ];
    const section = byTestId(renderDashboard(dashboard({ memory })), 'memory', 'section');
    expect(section).not.toContain('<img');
    expect(section).toContain('&lt;img src=x&gt; retries fixed it');
    expect(section).toContain('<code>incident:inc_1</code><br><code>repo:acme/app</code>');
    expect(section).toContain('incident inc_1 resolved');
    expect(section).toContain('waiting');
  });

  it('shows each table with its estimated rows and size, a lower bound marked as such', () => {
    const html = renderDashboard(dashboard({ tables: [
      { table: 'events', rows: 1_234_567, atLeast: false, bytes: 3 * 1024 * 1024 * 1024 },
      { table: 'outbox', rows: 100_000, atLeast: true, bytes: 2048 },
    ] }));
    const section = byTestId(html, 'tables', 'section');
    expect(section).toContain('<code>events</code>');
    expect(section).toContain('~1,234,567');
    expect(section).toContain('3.0 GiB');
    expect(section).toContain('≥ 100,000');
    expect(section).toContain('2.0 KiB');
  });

  it('says when nothing is remembered', () => {
    expect(byTestId(renderDashboard(dashboard()), 'memory', 'section')).toContain('Nothing remembered yet.');
  });
});
