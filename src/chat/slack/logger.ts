// Bolt, the OAuth installer and the Socket Mode client log through @slack/logger's interface; this sends
// their lines to Tacit's pino logger (structured, redacted) instead of the console.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../log.js';

export function boltLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  const line = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return {
    debug: (...args: unknown[]) => log.debug(line(args)),
    info: (...args: unknown[]) => log.debug(line(args)), // Bolt's info lines are start-up chatter
    warn: (...args: unknown[]) => log.warn(line(args)),
    error: (...args: unknown[]) => log.error(line(args)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
