// Start-up and shutdown as an operator sees them: a bad setting is one clear line and a non-zero
// exit; SIGTERM stops Tacit cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.js';
import { redisUrl } from './support/env.js';
import { dropPrefix, testPrefix } from './support/redis.js';
import { waitFor } from './support/wait.js';
import { canConnect, freePort } from './support/net.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => (out.stdout += String(d)));
  child.stderr?.on('data', (d) => (out.stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}



afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('start-up', () => {
  it('exits non-zero with one line naming PORT when PORT is not a port', async () => {
    const run = start({ PORT: 'eighty', REDIS_URL: redisUrl });
    expect(await run.exited).toBe(1);
    const lines = run.out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tacit: invalid PORT="eighty": expected a TCP port number/);
  });

  it('exits non-zero with one line naming REDIS_URL when it is not a URL', async () => {
    const run = start({ REDIS_URL: 'localhost:6379' });
    expect(await run.exited).toBe(1);
    expect(run.out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tacit: invalid REDIS_URL="localhost:6379": expected a redis:/)]);
  });

  it('exits non-zero with one line saying how to start Redis when none answers', async () => {
    const port = await freePort();
    const run = start({ REDIS_URL: `redis://127.0.0.1:${port}`, PORT: '0' });
    expect(await run.exited).toBe(1);
    const lines = run.out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(lines[0]).toContain('docker compose up -d redis');
  });

  it('refuses a Redis whose maxmemory-policy is not noeviction', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
    children.push(redis);
    try {
      await waitFor(() => canConnect(port), { what: 'the test redis-server' });
      const run = start({ REDIS_URL: `redis://127.0.0.1:${port}`, PORT: '0' });
      expect(await run.exited).toBe(1);
      expect(run.out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/maxmemory-policy allkeys-lru; BullMQ needs noeviction/)]);
    } finally {
      redis.kill('SIGKILL');
    }
  });
});

describe('shutdown', () => {
  it('stops cleanly on SIGTERM and exits 0', async () => {
    const db = await createTestDatabase();
    const prefix = testPrefix();
    try {
      const run = start({ DATABASE_URL: db.url, REDIS_URL: redisUrl, PORT: '0', HOST: '127.0.0.1', TACIT_REDIS_PREFIX: prefix });
      const url = await waitFor(() => /"url":"(http:[^"]+)".*tacit started/.exec(run.out.stdout)?.[1], { what: 'tacit started', timeoutMs: 20_000 });
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.out.stdout).toContain('tacit stopped');
    } finally {
      await dropPrefix(prefix);
      await db.drop();
    }
  });
});

