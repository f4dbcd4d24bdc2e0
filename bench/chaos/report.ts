// A scenario's row in the chaos table, and the table itself (plain text, aligned).
export interface Row {
  scenario: string;
  sent: number;
  acked: number;
  lost: number;
  duplicated: number;
  wedged: number;
  /** 5xx answers the edge rules do not allow (503 is allowed only while a dependency is down). */
  serverErrors: number;
  crashes: number;
  timeMs: number;
  /** Empty when the row passes; otherwise one reason per broken promise. */
  failures: string[];
  /** Measured figures worth a line even when the row passes. */
  notes: string[];
}

export function emptyRow(scenario: string): Row {
  return { scenario, sent: 0, acked: 0, lost: 0, duplicated: 0, wedged: 0, serverErrors: 0, crashes: 0, timeMs: 0, failures: [], notes: [] };
}

/** Adds a failure unless `ok`. */
export function expect(row: Row, ok: boolean, why: string): void {
  if (!ok) row.failures.push(why);
}

export function renderTable(rows: Row[]): string {
  const header = ['scenario', 'sent', 'acked', 'lost', 'duplicated', 'wedged', '5xx', 'crashes', 'time', 'result'];
  const cells = rows.map((r) => [
    r.scenario, String(r.sent), String(r.acked), String(r.lost), String(r.duplicated), String(r.wedged), String(r.serverErrors), String(r.crashes),
    `${(r.timeMs / 1000).toFixed(1)} s`, r.failures.length === 0 ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  // Numbers right-aligned, names left-aligned.
  const line = (c: string[]) => c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function renderReasons(rows: Row[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    for (const n of r.notes) lines.push(`  ${r.scenario}: ${n}`);
    for (const f of r.failures) lines.push(`FAIL ${r.scenario}: ${f}`);
  }
  return lines.join('\n');
}
