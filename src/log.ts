// Structured logging (pino): one event per line. Known secret fields are redacted wherever they appear.
import { pino, type Logger } from 'pino';

export type { Logger };

const secretPaths = [
  'token', 'secret', 'password', 'authorization', 'apiKey', 'botToken', 'signingSecret', 'clientSecret',
  'appToken', 'secretKey', 'adminToken', 'headers.authorization', 'req.headers.authorization',
  '*.token', '*.secret', '*.password', '*.authorization', '*.apiKey',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: secretPaths, censor: '[redacted]' }, base: { app: 'tacit' } }, destination);
}
