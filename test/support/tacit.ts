// Starts a whole Tacit in-process for a test: its own database, Redis prefix and port, quiet logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startTacit, type Overrides, type Tacit } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { redisUrl } from './env.js';
import { dropPrefix, testPrefix } from './redis.js';

export interface TestTacit extends Tacit {
  testDatabase: TestDatabase;
  prefix: string;
  /** Stops Tacit and drops its database and Redis keys. */
  cleanup(): Promise<void>;
}

export async function startTestTacit(
  opts: {
    env?: Record<string, string>; overrides?: Overrides; databaseUrl?: (url: string) => string;
    /** On the embedded database (PGlite in a temporary folder) instead of PostgreSQL, as with no DATABASE_URL. */
    embedded?: boolean;
  } = {},
): Promise<TestTacit> {
  const testDatabase = opts.embedded ? embeddedDatabase() : await createTestDatabase();
  const prefix = testPrefix();
  const config = loadConfig({
    ...(opts.embedded
      ? { TACIT_DATA_DIR: testDatabase.name }
      : { DATABASE_URL: opts.databaseUrl ? opts.databaseUrl(testDatabase.url) : testDatabase.url }),
    REDIS_URL: redisUrl,
    TACIT_REDIS_PREFIX: prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    TACIT_HEARTBEAT_INTERVAL_MS: '500',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const tacit = await startTacit(config, { logger: createLogger(config.logLevel), sweepIntervalMs: 1_000, ...opts.overrides });
  return Object.assign(tacit, {
    testDatabase,
    prefix,
    async cleanup() {
      await tacit.stop();
      await dropPrefix(prefix);
      await testDatabase.drop();
    },
  });
}

/** A PGlite data folder in place of a test database: `name` is the folder; there is no URL to connect to. */
function embeddedDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'tacit-pglite-'));
  return { name: dir, url: '', drop: async () => rmSync(dir, { recursive: true, force: true }) };
}
