// Logs never carry secrets: known secret fields, secrets inside quoted text, and database errors'
// query parameters are all kept out.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}

describe('the logger', () => {
  it('redacts secret fields and secrets quoted inside other fields and messages', () => {
    const { log, lines } = capture();
    log.info({ token: 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn', reasons: ['incident opened: leak ghp_abcdefghijklmnopqrstuvwxyz0123456789'] }, 'saw AKIAIOSFODNN7EXAMPLE in an alert');
    const line = lines.join('');
    expect(line).not.toContain('xoxb-123456789012');
    expect(line).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(line).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(line).toContain('incident opened: leak');
  });

  it('logs a database error by its first line and code, never the query parameters', () => {
    const { log, lines } = capture();
    const cause = Object.assign(new Error('invalid input syntax'), { code: '22P02' });
    const err = new Error('Failed query: insert into events values ($1)\nparams: {"text":"a chat message with my password"}', { cause });
    log.error({ err }, 'insert failed');
    const line = lines.join('');
    expect(line).not.toContain('my password');
    expect(line).toContain('22P02');
    expect(line).toContain('database query failed');
  });

  it('redacts secrets in error messages', () => {
    const { log, lines } = capture();
    log.error({ err: new Error('POST https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX failed with xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn') }, 'delivery failed');
    expect(lines.join('')).not.toContain('xoxb-123456789012');
  });
});
