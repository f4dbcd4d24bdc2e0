// `npm run bench`: runs every benchmark and prints its table; `npm run bench -- <name> [options]` runs one.
// `decisions` runs offline (options: --brain rules|claude, --fake, --day, --scenario <id>); the others need the local
// Redis and PostgreSQL.
import { benchAlertToThread } from './alert-to-thread.js';
import { benchChart } from './chart.js';
import { benchDecisions } from './decisions.js';
import { benchHeartbeat } from './heartbeat.js';
import { benchIngest } from './ingest.js';
import { benchInvestigate } from './investigate.js';
import { benchQuietTick } from './quiet-tick.js';
import { benchStorm } from './storm.js';

const args = process.argv.slice(2);
const only = args[0]?.startsWith('--') ? undefined : args[0];
const options = only ? args.slice(1) : args;

const benches: Record<string, () => Promise<void>> = {
  decisions: () => benchDecisions(options, process.env),
  'quiet-tick': () => benchQuietTick(),
  heartbeat: () => benchHeartbeat(),
  ingest: () => benchIngest(),
  'alert-to-thread': () => benchAlertToThread(options),
  // Slack's per-channel limit enforced by the fake: `--alerts 2000 --channels 3 --cap 45 --burst 3 --senders 32`.
  storm: () => benchStorm(options),
  chart: () => benchChart(),
  // Offline: the evidence stand-ins in-process; `--fake` adds Claude on the strict Anthropic stand-in, `--cases N`.
  investigate: () => benchInvestigate(options),
};

if (only && !(only in benches)) {
  process.stderr.write(`unknown benchmark "${only}"; choose one of: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (!only || only === name) await run();
}
process.exit(0);
