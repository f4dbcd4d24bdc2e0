// Errors of the evidence sources: a refused query (4xx: fix the query or the credentials), a source
// that could not be reached or answered badly, and one that did not answer in time.
export class InvestigateError extends Error {
  override readonly name: string = 'InvestigateError';
  constructor(
    readonly code: 'rejected' | 'unreachable' | 'timeout',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The source answered 4xx: a bad query, missing or wrong credentials. Retrying changes nothing. */
export class SourceRejectedError extends InvestigateError {
  override readonly name = 'SourceRejectedError';
  constructor(message: string, readonly status: number, options?: { cause?: unknown }) {
    super('rejected', message, options);
  }
}

export class SourceUnreachableError extends InvestigateError {
  override readonly name = 'SourceUnreachableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unreachable', message, options);
  }
}

export class SourceTimeoutError extends InvestigateError {
  override readonly name = 'SourceTimeoutError';
  constructor(readonly afterMs: number) {
    super('timeout', `no answer in ${Math.round(afterMs / 1000)} s`);
  }
}
