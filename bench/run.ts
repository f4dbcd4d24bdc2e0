// `npm run bench`: runs every benchmark and prints its table. Needs the local Redis and PostgreSQL.
import { benchIngest } from './ingest.js';
import { benchQuietTick } from './quiet-tick.js';

const only = process.argv[2];
if (!only || only === 'heartbeat') await benchQuietTick();
if (!only || only === 'ingest') await benchIngest();
process.exit(0);
