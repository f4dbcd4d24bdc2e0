// Intake errors, each mapped to one HTTP status by the HTTP layer.
export class IntakeError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
/** 404: no such source. */
export class UnknownSourceError extends IntakeError {
  constructor(sourceId: string) {
    super('unknown_source', `no alert source with id ${sourceId}; create one with /tacit connect`);
  }
}
/** 401: missing or wrong credentials. */
export class UnauthorizedError extends IntakeError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}
/** 413: over the size cap. */
export class PayloadTooLargeError extends IntakeError {
  constructor(limitBytes: number) {
    super('payload_too_large', `body exceeds ${limitBytes} bytes`);
  }
}
/** 503: accepted bytes could not be handed on (the heartbeat's Redis is unreachable); the sender retries. */
export class RetryLaterError extends IntakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('retry_later', message, options);
  }
}
