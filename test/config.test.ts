// Configuration from the environment: defaults, validation, and one line per bad variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, defaults, loadConfig, type Env } from '../src/config.js';

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-123-456-abc', SLACK_SIGNING_SECRET: '0123456789abcdef' };

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults for an empty environment', () => {
    const config = loadConfig({});

    expect(config.database).toEqual({ kind: 'pglite', dataDir: './.tacit' });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(3000);
    expect(config.playground).toBe(true);
    expect(config.anthropic.model).toBe(defaults.model);
    expect(config.anthropic.triageModel).toBe(defaults.triageModel);
    expect(config.heartbeatIntervalMs).toBe(defaults.heartbeatIntervalMs);
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({ PORT: '', REDIS_URL: '  ', DATABASE_URL: '', TACIT_PLAYGROUND: '', TACIT_MODEL: '' });

    expect(config).toEqual(loadConfig({}));
  });

  it('reads valid values', () => {
    const config = loadConfig({ PORT: '8080', REDIS_URL: 'rediss://cache.internal:6380', TACIT_DATA_DIR: '/var/lib/tacit' });

    expect(config.port).toBe(8080);
    expect(config.redisUrl).toBe('rediss://cache.internal:6380');
    expect(config.database).toEqual({ kind: 'pglite', dataDir: '/var/lib/tacit' });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['DATABASE_URL', 'mysql://x'],
  ])('rejects %s=%s with a line naming the variable', (name, value) => {
    const err = configError({ [name]: value });

    const lines = err.message.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(`invalid ${name}=`)).toBe(true);
    expect(lines[0]).toContain(value);
  });

  it('reports several bad variables with one line each', () => {
    const err = configError({ PORT: 'abc', REDIS_URL: 'localhost:6379', DATABASE_URL: 'mysql://x' });

    const lines = err.message.split('\n');
    expect(lines).toHaveLength(3);
    for (const name of ['PORT', 'REDIS_URL', 'DATABASE_URL']) {
      expect(lines.filter((l) => l.startsWith(`invalid ${name}=`))).toHaveLength(1);
    }
  });

  it('rejects a Slack bot token without its signing secret', () => {
    const err = configError({ SLACK_BOT_TOKEN: SLACK.SLACK_BOT_TOKEN });

    expect(err.message).toContain('SLACK_SIGNING_SECRET');
  });

  it('selects Postgres when DATABASE_URL is set', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/tacit';

    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
  });

  it('turns the playground off when Slack credentials are set', () => {
    const config = loadConfig(SLACK);

    expect(config.playground).toBe(false);
    expect(config.slack).toMatchObject({ botToken: SLACK.SLACK_BOT_TOKEN, signingSecret: SLACK.SLACK_SIGNING_SECRET });
  });

  it('keeps the playground on alongside Slack when TACIT_PLAYGROUND=on', () => {
    expect(loadConfig({ ...SLACK, TACIT_PLAYGROUND: 'on' }).playground).toBe(true);
  });
});
