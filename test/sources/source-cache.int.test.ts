// The source cache never serves credentials a rotation or revocation replaced: each process checks the
// source's shared version in Redis on every hit, and asks the database when Redis cannot answer.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { channels, workspaces } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/db/secret-box.js';
import { redisSourceVersions, SourceCache, type SourceVersions } from '../../src/sources/source-cache.js';
import { createSource, revokeSource, rotateSource } from '../../src/sources/sources.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { redisUrl } from '../support/env.js';
import { dropPrefix, testPrefix } from '../support/redis.js';

describe('the source cache across processes', () => {
  let testDb: TestDatabase;
  let database: Database;
  let redis: Redis;
  const prefix = testPrefix();
  const box = createSecretBox('source-cache-test-key-0123456789abcdef0123');

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
    redis = new Redis(redisUrl);
    await database.db.insert(workspaces).values({ id: 'playground:cache', platform: 'playground', name: 'cache' });
    await database.db.insert(channels).values({ id: 'playground:cache-ops', workspaceId: 'playground:cache', name: 'ops' });
  });
  afterAll(async () => {
    redis?.disconnect();
    await dropPrefix(prefix);
    await database?.close();
    await testDb?.drop();
  });

  const newSource = () => createSource(database.db, box, { workspaceId: 'playground:cache', channelId: 'playground:cache-ops', kind: 'generic' }, 'http://tacit.test');

  it('drops a rotated or revoked source from another process cache at once, long before the TTL', async () => {
    const versions = redisSourceVersions(redis, prefix);
    const here = new SourceCache(database.db, box, { versions, ttlMs: 3_600_000 });
    const there = new SourceCache(database.db, box, { versions, ttlMs: 3_600_000 });
    const source = await newSource();
    const cachedHash = (await there.get(source.id))?.tokenHash;
    expect(cachedHash).toBeTruthy();

    await rotateSource(database.db, box, { sourceId: source.id }, 'http://tacit.test', (id) => here.invalidate(id));
    const rotated = await there.get(source.id);
    expect(rotated?.tokenHash).not.toBe(cachedHash);
    expect(rotated?.rotatedAt).toBeInstanceOf(Date);

    await revokeSource(database.db, { sourceId: source.id }, (id) => here.invalidate(id));
    const revoked = await there.get(source.id);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    expect(revoked?.tokenHash).toBeNull();
  });

  it('asks the database on every request while Redis cannot answer, so it never serves a stale entry', async () => {
    let down = false;
    const shared = redisSourceVersions(redis, prefix);
    const flaky: SourceVersions = {
      current: (id) => (down ? Promise.reject(new Error('Connection is closed.')) : shared.current(id)),
      bump: (id) => shared.bump(id),
    };
    const cache = new SourceCache(database.db, box, { versions: flaky, ttlMs: 3_600_000 });
    const source = await newSource();
    expect((await cache.get(source.id))?.revokedAt).toBeNull();
    down = true;
    // Revoked by a process whose bump never reached this one.
    await revokeSource(database.db, { sourceId: source.id }, async () => undefined);
    expect((await cache.get(source.id))?.revokedAt).toBeInstanceOf(Date);
  });
});
