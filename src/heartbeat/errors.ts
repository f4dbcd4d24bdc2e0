// The heartbeat's errors a caller branches on: a tick that lost its claim must stop without
// counting as a failure of the events it read.
export class HeartbeatError extends Error {
  constructor(
    readonly code: 'tick_fenced' | 'tick_lease_lost',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The tick's fence moved on (a newer tick of the workspace started), or a row it read changed under it. */
export class TickFencedError extends HeartbeatError {
  override readonly name = 'TickFencedError';
  constructor(workspaceId: string, why: string) {
    super('tick_fenced', `a newer tick of ${workspaceId} took over (${why}); this tick did not commit`);
  }
}

/** The tick lock expired or was taken over while the tick ran. */
export class TickLeaseLostError extends HeartbeatError {
  override readonly name = 'TickLeaseLostError';
  constructor(workspaceId: string, why: string) {
    super('tick_lease_lost', `the tick lock of ${workspaceId} was lost (${why}); this tick must not commit`);
  }
}

/** The brain took longer than the tick allows; the tick fails and is retried (its events are not to blame). */
export class BrainTimeoutError extends Error {
  override readonly name = 'BrainTimeoutError';
  readonly code = 'brain_timeout';
  constructor(ms: number) {
    super(`the brain did not decide within ${ms} ms; the tick will be retried`);
  }
}
