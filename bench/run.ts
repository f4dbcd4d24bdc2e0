// `npm run bench`: runs every benchmark and prints its table; `npm run bench -- <name>` runs one.
// Needs the local Redis and PostgreSQL.
import { benchHeartbeat } from './heartbeat.js';
import { benchIngest } from './ingest.js';
import { benchQuietTick } from './quiet-tick.js';

const benches: Record<string, () => Promise<void>> = {
  'quiet-tick': () => benchQuietTick(),
  heartbeat: () => benchHeartbeat(),
  ingest: () => benchIngest(),
};

const only = process.argv[2];
if (only && !(only in benches)) {
  process.stderr.write(`unknown benchmark "${only}"; choose one of: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (!only || only === name) await run();
}
process.exit(0);
