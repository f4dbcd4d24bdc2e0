// Chat delivery errors. The outbox branches on them: rejected is final, unreachable is retried with
// backoff, rate-limited is retried after the platform's Retry-After.
export class ChatError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
export class ChatRejectedError extends ChatError {}
export class ChatUnreachableError extends ChatError {}
export class ChatRateLimitedError extends ChatError {
  constructor(readonly retryAfterMs: number, message = `rate limited; retry after ${retryAfterMs} ms`) {
    super('rate_limited', message);
  }
}
