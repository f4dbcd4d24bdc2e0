// With REDIS_URL unset and nothing on the default port, Tacit runs a private redis-server of its own:
// it gets ready, processes an alert, keeps its Redis data across a restart, and never leaves the
// redis-server behind (SIGTERM or SIGKILL). Without a redis-server it says in one line what to install.
// The shared Redis on 6379 stays untouched: TACIT_REDIS_DEFAULT_URL points the "default" at a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findRedisServer } from '../../src/db/embedded-redis.js';
import { RedisStartupError } from '../../src/db/redis.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { WireMessage } from '../../src/chat/playground/types.js';
import { waitFor } from '../support/wait.js';
import { freePort } from '../support/net.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The playground's API as a script uses it: with the admin token (no cookie, so no CSRF token needed).
const adminToken = 'h8-embedded-redis-admin-token';
const asAdmin = { authorization: `Bearer ${adminToken}` };
const children: ChildProcess[] = [];
const dirs: string[] = [];
const databases: TestDatabase[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const db of databases) await db.drop();
});


/** Tacit as `npm run dev` runs it, with REDIS_URL unset. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => (out.stdout += String(d)));
  child.stderr?.on('data', (d) => (out.stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Starts Tacit and waits for its private Redis and its HTTP server. */
async function startWithPrivateRedis(env: Record<string, string>) {
  const run = start(env);
  const started = await waitFor(() => logLines(run.out.stdout).find((l) => String(l.msg).startsWith('started a private Redis')), {
    what: `the private Redis log line (stderr: ${run.out.stderr})`, timeoutMs: 30_000,
  });
  const url = await waitFor(() => /"url":"(http:[^"]+)".*tacit started/.exec(run.out.stdout)?.[1], { what: 'tacit started', timeoutMs: 30_000 });
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { what: '/readyz 200', timeoutMs: 20_000 });
  return { ...run, url, pid: Number(started.pid), redisAddress: String(started.redis), message: String(started.msg) };
}

async function incidentCard(baseUrl: string): Promise<WireMessage | undefined> {
  const res = await fetch(`${baseUrl}/playground/api/state`, { headers: asAdmin });
  if (!res.ok) throw new Error(`playground state: ${res.status}`);
  return ((await res.json()) as { messages: WireMessage[] }).messages.find((m) => !m.threadId && m.author.isBot);
}

/** Gone, or a zombie nobody has reaped yet (after its parent died): either way it serves nothing. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

async function scenario() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tacit-redis-'));
  dirs.push(dataDir);
  const db = await createTestDatabase();
  databases.push(db);
  const env = { DATABASE_URL: db.url, TACIT_DATA_DIR: dataDir, TACIT_REDIS_DEFAULT_URL: `redis://127.0.0.1:${await freePort()}`, TACIT_ADMIN_TOKEN: adminToken };
  return { dataDir, env };
}

describe('the private Redis (REDIS_URL unset, nothing on the default port)', () => {
  it('starts one, processes a sample alert into a card, stops it on SIGTERM and keeps its data for the next start', async () => {
    const { dataDir, env } = await scenario();
    const first = await startWithPrivateRedis(env);
    expect(first.message).toBe(
      `started a private Redis at ${first.redisAddress} (data in ${join(dataDir, 'redis')}); set REDIS_URL to use your own`,
    );
    expect(first.redisAddress).toMatch(/^127\.0\.0\.1:\d+$/);

    const sent = await fetch(`${first.url}/playground/api/sample-alert`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...asAdmin }, body: JSON.stringify({ status: 'firing' }),
    });
    expect(sent.status).toBe(202);
    await waitFor(() => incidentCard(first.url), { what: 'the incident card', timeoutMs: 20_000 });
    // The first start found Redis empty and restored the schedules from the database.
    expect(logLines(first.out.stdout).find((l) => l.msg === 'schedules restored')).toMatchObject({ lost: true });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(processGone(first.pid)).toBe(true);
    expect(first.out.stdout).toContain('stopped the private Redis');
    expect(readdirSync(join(dataDir, 'redis', 'appendonlydir')).some((f) => f.endsWith('.aof'))).toBe(true);

    // Same TACIT_DATA_DIR: the append-only file brings the schedules back, so nothing is "lost".
    const second = await startWithPrivateRedis(env);
    expect(logLines(second.out.stdout).find((l) => l.msg === 'schedules restored')).toMatchObject({ lost: false });
    expect(await incidentCard(second.url)).toBeDefined();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(processGone(second.pid)).toBe(true);
  }, 120_000);

  it('does not outlive a Tacit killed with SIGKILL', async () => {
    const { env } = await scenario();
    const run = await startWithPrivateRedis(env);
    expect(processGone(run.pid)).toBe(false);

    run.child.kill('SIGKILL');
    await run.exited;

    await waitFor(() => processGone(run.pid), { what: 'the orphaned redis-server to stop', timeoutMs: 10_000 });
  }, 60_000);

  it('exits 1 with one line saying what to install when no redis-server can be found', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tacit-redis-'));
    dirs.push(dataDir);
    const run = start({ TACIT_DATA_DIR: dataDir, TACIT_REDIS_DEFAULT_URL: `redis://127.0.0.1:${await freePort()}`, TACIT_REDIS_SERVER: '/nonexistent/redis-server' });

    expect(await run.exited).toBe(1);
    const lines = run.out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tacit: TACIT_REDIS_SERVER=\/nonexistent\/redis-server is not an executable redis-server/);
    for (const fix of ['apt-get install redis-server', 'brew install redis', 'docker compose up -d redis', 'set REDIS_URL']) expect(lines[0]).toContain(fix);
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
  }, 30_000);

  it('names what to install when PATH and the usual folders hold no redis-server', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tacit-no-redis-'));
    dirs.push(empty);

    expect(() => findRedisServer({ kind: 'search', dirs: [empty] })).toThrow(RedisStartupError);
    expect(() => findRedisServer({ kind: 'search', dirs: [empty] })).toThrow(
      /no redis-server was found.*apt-get install redis-server.*brew install redis.*docker compose up -d redis.*set REDIS_URL/,
    );
  });
});
