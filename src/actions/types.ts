// What an action is: schema, risk, executor, verify. Shared by the registry and the executors.
import type { z } from 'zod';
import type { Risk } from '../core/actions.js';
import type { Integration, IntegrationKind } from './integrations.js';

export interface ExecuteContext {
  approvalId: string;
  integration: Integration;
  /** Aborts the call when the executor's time is up. */
  signal: AbortSignal;
  /** When the approval was granted: an effect that started after it may be an earlier attempt's. */
  approvedAt?: Date;
}

export interface ExecuteResult {
  /** One line for people, shown on the card. */
  summary: string;
  /** What verify needs (ids of what was created). */
  data: Record<string, unknown>;
}

export interface Verification {
  ok: boolean;
  detail: string;
}

export interface ActionDefinition<P = Record<string, unknown>> {
  name: string;
  description: string;
  risk: Risk;
  integration: IntegrationKind;
  params: z.ZodType<P>;
  execute(ctx: ExecuteContext, params: P): Promise<ExecuteResult>;
  /** Checks the world after execution (the silence is active, the issue exists). */
  verify(ctx: ExecuteContext, params: P, result: ExecuteResult): Promise<Verification>;
  /**
   * Before a retry: whether an earlier attempt already took effect (found by the approval id it
   * carries), so a crash mid-call never makes an action run twice.
   */
  findDone?(ctx: ExecuteContext, params: P): Promise<ExecuteResult | null>;
  /**
   * Running it twice has the effect of running it once (set a state, delete a thing), so it may be
   * retried after a response or an interrupted attempt. Without this or `findDone`, an action is
   * retried only when its request never reached the service.
   */
  idempotent?: boolean;
}

/** An executor failure that no retry can fix (bad request, not found, forbidden). */
export class PermanentActionError extends Error {
  override readonly name = 'PermanentActionError';
}


/** The request never reached the service (refused connection, unknown host, connect timeout): safe to retry. */
export class ActionNotSentError extends Error {
  override readonly name = 'ActionNotSentError';
}
