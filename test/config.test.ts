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
    expect(config.redis).toMatchObject({ kind: 'embedded', defaultUrl: 'redis://127.0.0.1:6379', dataDir: '.tacit/redis' });
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
    expect(config.redis).toEqual({ kind: 'url', url: 'rediss://cache.internal:6380' });
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

  it('looks for redis-server on PATH, then in the usual install folders, when REDIS_URL is unset', () => {
    const config = loadConfig({ PATH: '/home/me/bin:/usr/bin', TACIT_DATA_DIR: '/var/lib/tacit' });

    expect(config.redis).toEqual({
      kind: 'embedded',
      defaultUrl: 'redis://127.0.0.1:6379',
      dataDir: '/var/lib/tacit/redis',
      server: { kind: 'search', dirs: ['/home/me/bin', '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin'] },
    });
  });

  it('runs the redis-server TACIT_REDIS_SERVER names, and probes TACIT_REDIS_DEFAULT_URL first', () => {
    const config = loadConfig({ TACIT_REDIS_SERVER: '/opt/redis/bin/redis-server', TACIT_REDIS_DEFAULT_URL: 'redis://127.0.0.1:6390' });

    expect(config.redis).toMatchObject({ kind: 'embedded', defaultUrl: 'redis://127.0.0.1:6390', server: { kind: 'path', path: '/opt/redis/bin/redis-server' } });
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

  it('beats by the sweep unless TACIT_HEARTBEAT_MODE says schedulers, and refuses anything else', () => {
    expect(loadConfig({}).heartbeatMode).toBe('sweep');
    expect(loadConfig({ TACIT_HEARTBEAT_MODE: 'schedulers' }).heartbeatMode).toBe('schedulers');
    expect(() => loadConfig({ TACIT_HEARTBEAT_MODE: 'cron' })).toThrow(/TACIT_HEARTBEAT_MODE.*expected sweep or schedulers/);
  });

  it('keeps the playground on alongside Slack when TACIT_PLAYGROUND=on', () => {
    expect(loadConfig({ ...SLACK, TACIT_PLAYGROUND: 'on' }).playground).toBe(true);
  });

  it('turns the playground (and its loopback trust) off when Discord is configured, unless TACIT_PLAYGROUND=on', () => {
    const discord = { DISCORD_TOKEN: 'discord-bot-token', DISCORD_APPLICATION_ID: '123456789012345678' };
    expect(loadConfig(discord).playground).toBe(false);
    expect(loadConfig({ ...discord, TACIT_PLAYGROUND: 'on' }).playground).toBe(true);
    expect(loadConfig({}).playground).toBe(true);
  });

  it('keeps rows for the default windows, per table from the environment, and forever for 0', () => {
    expect(loadConfig({}).retention.days).toEqual(defaults.retention);
    expect(defaults.retention.chatTextDays).toBe(30);
    const config = loadConfig({ TACIT_RETAIN_CHAT_DAYS: '7', TACIT_RETAIN_DECISIONS_DAYS: '0', TACIT_RETENTION_INTERVAL_MS: '600000' });
    expect(config.retention).toEqual({ days: { ...defaults.retention, chatTextDays: 7, decisionDays: 0 }, intervalMs: 600_000 });
    expect(configError({ TACIT_RETAIN_OUTBOX_DAYS: '-1' }).message).toMatch(/^invalid TACIT_RETAIN_OUTBOX_DAYS="-1": expected a number of days \(0 keeps forever\)$/);
  });
});

describe('loadConfig: Redis Cluster', () => {
  it('reads REDIS_CLUSTER_NODES as seed nodes, with credentials and TLS from a URL entry', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' }).redis).toEqual({
      kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], tls: false,
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://tacit:s%40cret@redis-0.internal:6380,redis-1.internal:6380' }).redis).toEqual({
      kind: 'cluster', nodes: [{ host: 'redis-0.internal', port: 6380 }, { host: 'redis-1.internal', port: 6380 }], tls: true, username: 'tacit', password: 's@cret',
    });
  });

  it('refuses a malformed node list, and REDIS_URL together with REDIS_CLUSTER_NODES', () => {
    expect(configError({ REDIS_CLUSTER_NODES: 'redis-0' }).message).toMatch(/^invalid REDIS_CLUSTER_NODES="redis-0": expected host:port/);
    expect(configError({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://127.0.0.1:6379' }).message).toMatch(/not both/);
  });
});

describe('loadConfig: roles', () => {
  it('gives a process every role by default, and the ones TACIT_ROLES names otherwise', () => {
    expect([...loadConfig({}).roles]).toEqual(['http', 'heartbeat', 'delivery', 'actions']);
    expect([...loadConfig({ TACIT_ROLES: 'heartbeat, delivery' }).roles]).toEqual(['heartbeat', 'delivery']);
  });

  it('refuses a role it does not know, naming the ones it does', () => {
    expect(configError({ TACIT_ROLES: 'http,web' }).message).toMatch(/^invalid TACIT_ROLES="http,web": expected a comma-separated list of http, heartbeat, delivery, actions \(not web\)$/);
  });
});

describe('loadConfig: Discord shards', () => {
  it('leaves sharding to discord.js (one shard) when neither variable is set', () => {
    expect(loadConfig({}).discord.shards).toBeUndefined();
  });

  it('reads the shards of this process and the total, and runs every shard for a total alone', () => {
    expect(loadConfig({ DISCORD_SHARD_IDS: '3, 1,1', DISCORD_SHARD_COUNT: '4' }).discord.shards).toEqual({ ids: [1, 3], count: 4 });
    expect(loadConfig({ DISCORD_SHARD_COUNT: '3' }).discord.shards).toEqual({ ids: [0, 1, 2], count: 3 });
  });

  it('refuses ids without a total, an id not below the total, and malformed values', () => {
    expect(configError({ DISCORD_SHARD_IDS: '0' }).message).toMatch(/DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT/);
    expect(configError({ DISCORD_SHARD_IDS: '0,2', DISCORD_SHARD_COUNT: '2' }).message).toMatch(/shard 2 is not below DISCORD_SHARD_COUNT=2 \(ids run from 0 to 1\)/);
    expect(configError({ DISCORD_SHARD_IDS: '0,x', DISCORD_SHARD_COUNT: '2' }).message).toMatch(/^invalid DISCORD_SHARD_IDS="0,x": expected shard ids/);
    expect(configError({ DISCORD_SHARD_IDS: '-1', DISCORD_SHARD_COUNT: '2' }).message).toMatch(/^invalid DISCORD_SHARD_IDS="-1"/);
    expect(configError({ DISCORD_SHARD_COUNT: '0' }).message).toMatch(/^invalid DISCORD_SHARD_COUNT="0": expected the total number of Discord shards/);
    expect(configError({ DISCORD_SHARD_COUNT: 'auto' }).message).toMatch(/^invalid DISCORD_SHARD_COUNT="auto"/);
  });
});
