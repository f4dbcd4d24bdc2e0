// Database errors the edges branch on: "cannot commit right now" maps to 503 so senders retry.
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'database_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// Socket errors, and PostgreSQL's admin-shutdown / cannot-connect / connection-failure SQLSTATEs.
const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const connectionMessages = /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed|Cannot use a pool after calling end/i;

/** True when an error (or any error in its cause chain) means the database could not be reached. */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  if (connectionMessages.test(err.message)) return true;
  return isConnectionError(err.cause, depth + 1);
}

/** A query through the embedded database's only connection while a transaction holds it: a bug that would deadlock. */
export class OutsideTransactionError extends Error {
  override readonly name = 'OutsideTransactionError';
  readonly code = 'outside_transaction';
  constructor(what: string) {
    super(`a ${what} ran outside the transaction that holds the embedded database's only connection; pass the transaction (tx) down instead of using db`);
  }
}
