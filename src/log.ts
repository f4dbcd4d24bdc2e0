// Structured logging (pino): one event per line. Known secret fields are redacted wherever they appear.
import { pino, type Logger } from 'pino';

export type { Logger };

const secretPaths = [
  'token', 'secret', 'password', 'authorization', 'apiKey', 'botToken', 'signingSecret', 'clientSecret',
  'appToken', 'secretKey', 'adminToken', 'headers.authorization', 'req.headers.authorization',
  '*.token', '*.secret', '*.password', '*.authorization', '*.apiKey',
];

/**
 * Errors are logged by type, code and the first line of the message. Database errors carry the
 * query's parameters (webhook bodies, chat text) in their message; those never reach the log.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  const firstLine = err.message.split('\n')[0] ?? '';
  const out: Record<string, unknown> = { type: err.name, message: firstLine.startsWith('Failed query') ? 'database query failed' : firstLine.slice(0, 500) };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (err.cause instanceof Error) out.cause = serializeError(err.cause);
  if (err.stack) out.stack = err.stack.split('\n').slice(1, 6).join('\n');
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: secretPaths, censor: '[redacted]' }, base: { app: 'tacit' }, serializers: { err: serializeError } },
    destination,
  );
}
