// Investigations, composed: the queue and its worker, and the tick's view of them. main.ts builds
// one of these and passes `tick` to the heartbeat.
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import type { Db } from '../db/client.js';
import type { SecretBox } from '../db/secret-box.js';
import type { TickInvestigation } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';
import { renderMetricChart } from './chart.js';
import { InvestigationQueue } from './queue.js';
import { tickInvestigation } from './tick-hook.js';

export interface Investigations {
  tick: TickInvestigation;
  queue: InvestigationQueue;
  start(): void;
  close(): Promise<void>;
}

export function createInvestigations(deps: {
  db: Db; secrets: SecretBox; connection: Redis; prefix: string; clock: Clock; log: Logger;
  /** Marks the workspace dirty and wakes its tick (the findings are news). */
  wake(workspaceId: string): Promise<void>;
}): Investigations {
  const now = () => deps.clock.now();
  const queue = new InvestigationQueue({
    connection: deps.connection, prefix: deps.prefix, log: deps.log,
    deps: { db: deps.db, secrets: deps.secrets, log: deps.log, now, renderChart: renderMetricChart, wake: deps.wake },
  });
  return {
    tick: tickInvestigation({ db: deps.db, secrets: deps.secrets, queue, now }),
    queue,
    start: () => queue.start(),
    close: () => queue.close(),
  };
}
