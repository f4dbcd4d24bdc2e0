// Memory: layered, written only after verification, re-checked before use, consolidated while idle.
// (Skeleton: the memory issue fills these in; the tick, delivery and actions already call them.)
import type { Redis } from 'ioredis';
import type { Brain, MemoryView } from '../brain/port.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../db/client.js';
import type { TickMemory, Tx } from '../heartbeat/tick.js';
import type { Logger } from '../log.js';

export interface MemoryDeps {
  db: Db;
  connection: Redis;
  prefix: string;
  clock: Clock;
  log: Logger;
  brain: Brain;
}

export class Memory implements TickMemory {
  constructor(private readonly deps: MemoryDeps) {}

  async view(_workspaceId: string, _now: Date): Promise<MemoryView | undefined> {
    return undefined;
  }

  async stage(_tx: Tx, _request: Parameters<TickMemory['stage']>[1]): Promise<{ notes: string[] }> {
    return { notes: [] };
  }

  /** A message was delivered: entries staged on it become active. */
  async onDelivered(_outboxId: string): Promise<void> {}

  /** An approved action finished: verified → its entries become active; failed or refused → they are dropped. */
  async onActionFinished(_approvalId: string, _verified: boolean): Promise<void> {}

  start(): void {
    this.deps.log.debug('memory started');
  }

  async close(): Promise<void> {}
}
