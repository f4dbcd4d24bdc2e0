// Errors of the brain area. A brain that cannot use its model falls back to the rules brain; these say why.
export class BrainError extends Error {
  constructor(
    message: string,
    readonly code: 'unavailable' | 'budget',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrainError';
  }
}

/** The model cannot be called now (breaker open, today's token budget spent): try again later. */
export class BrainUnavailableError extends BrainError {
  constructor(message: string, code: 'unavailable' | 'budget' = 'unavailable') {
    super(message, code);
    this.name = 'BrainUnavailableError';
  }
}
