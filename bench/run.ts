// `npm run bench`: runs every benchmark and prints its table. Needs the local Redis (and later Postgres).
import { benchQuietTick } from './quiet-tick.js';

await benchQuietTick();
process.exit(0);
