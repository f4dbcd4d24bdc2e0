// `npm run chaos`: Tacit's own fault suite. Starts real Tacit processes against a fresh database, a
// private Redis prefix (or redis-server) and the local Slack, breaks things, and prints one row per
// scenario. `-- --short` runs small counts (CI); `-- --only poison,fuzz` runs some rows (ids: ingest-kill, delivery-kill, redis-empty, postgres-cut, poison,
// fuzz, forgeries). Exit code 1
// when any row fails. Each Tacit's log is kept under the directory printed at the start.
import { emptyRow, renderReasons, renderTable, type Row } from './report.js';
import { closeOpenWorlds, logDir } from './world.js';
import { deliveryKill } from './delivery-kill.js';
import { forgeries } from './forgeries.js';
import { fuzz } from './fuzz.js';
import { ingestKill } from './ingest-kill.js';
import { poison } from './poison.js';
import { postgresCut } from './postgres-cut.js';
import { redisEmpty } from './redis-empty.js';

export interface ScenarioOptions {
  short: boolean;
}

export interface Scenario {
  /** What `--only` takes. */
  id: string;
  /** The row's name in the table. */
  name: string;
  run(opts: ScenarioOptions): Promise<Row>;
}

const scenarios: Scenario[] = [ingestKill, deliveryKill, redisEmpty, postgresCut, poison, fuzz, forgeries];

const args = process.argv.slice(2);
const short = args.includes('--short');
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg ? onlyArg.split(',') : undefined;
const unknown = only?.filter((n) => !scenarios.some((s) => s.id === n)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}; choose from ${scenarios.map((s) => s.id).join(', ')}\n`);
  process.exit(2);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stdout.write(`\n${signal}: stopping Tacit and dropping the scenario's database\n`);
    void closeOpenWorlds().finally(() => process.exit(130));
  });
}

process.stdout.write(`tacit chaos (${short ? 'short' : 'full'}); Tacit logs in ${logDir}\n`);
const rows: Row[] = [];
for (const scenario of scenarios) {
  if (only && !only.includes(scenario.id)) continue;
  const started = Date.now();
  process.stdout.write(`… ${scenario.name}\n`);
  let row: Row;
  try {
    row = await scenario.run({ short });
  } catch (err) {
    row = emptyRow(scenario.name);
    row.failures.push(`the scenario could not run: ${(err as Error).message}`);
  }
  row.timeMs ||= Date.now() - started;
  process.stdout.write(`  ${row.failures.length === 0 ? 'pass' : 'FAIL'} in ${(row.timeMs / 1000).toFixed(1)} s\n`);
  rows.push(row);
}
process.stdout.write(`\n${renderTable(rows)}\n`);
const reasons = renderReasons(rows);
if (reasons) process.stdout.write(`\n${reasons}\n`);
process.exit(rows.some((r) => r.failures.length > 0) ? 1 : 0);
