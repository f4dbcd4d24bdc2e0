// Structured logging (pino): one event per line. Known secret fields are redacted wherever they appear.
import { pino, type Logger } from 'pino';
import { redactDeep, redactSecrets } from './core/redact.js';

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
  const message = firstLine.startsWith('Failed query') ? 'database query failed' : redactSecrets(firstLine.slice(0, 500)).text;
  const out: Record<string, unknown> = { type: err.name, message };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (err.cause instanceof Error) out.cause = serializeError(err.cause);
  // Only the frames: the stack's first lines repeat the message (and a query's parameters).
  if (err.stack) out.stack = err.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 5).join('\n');
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: secretPaths, censor: '[redacted]' },
      base: { app: 'tacit' },
      serializers: { err: serializeError },
      // Log lines quote alert titles and chat text; secrets inside them are redacted like anywhere else.
      // (Errors are left to their serializer, which runs after this.)
      formatters: {
        log: (object) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, v instanceof Error ? v : redactDeep(v)])),
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a: unknown) => (typeof a === 'string' ? redactSecrets(a).text : a));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
