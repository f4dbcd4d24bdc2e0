// Which Redis Tacit uses, and the private one it runs when REDIS_URL is unset and nothing answers on the
// default port: a redis-server child on a free loopback port, with BullMQ's noeviction and append-only
// persistence under TACIT_DATA_DIR, stopped with Tacit and never outliving it (even after a SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Config, RedisServerLookup } from '../config.js';
import type { Logger } from '../log.js';
import { probeRedis, RedisStartupError, type RedisAddress } from './redis.js';

export interface RedisTarget {
  /** What Tacit's connections use (for the private Redis, with its password; a cluster's nodes). */
  address: RedisAddress;
  /** Stops the private Redis (SIGTERM, then SIGKILL after a bound); nothing for a Redis Tacit did not start. */
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  dataDir: string;
  server: RedisServerLookup;
  log: Logger;
  /** How long redis-server may take to answer PING after it starts. */
  startTimeoutMs?: number;
  /** How long a SIGTERM may take before SIGKILL. */
  stopTimeoutMs?: number;
}

const install =
  'Install Redis (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`), or run `docker compose up -d redis`, or set REDIS_URL.';

/** REDIS_URL if set (it must answer); else the default address if a Redis answers there; else a private Redis. */
export async function provideRedis(choice: Config['redis'], log: Logger): Promise<RedisTarget> {
  const nothingToStop = async () => undefined;
  if (choice.kind === 'cluster') {
    await probeRedis(choice);
    return { address: choice, stop: nothingToStop };
  }
  if (choice.kind === 'url') {
    await probeRedis(choice.url);
    return { address: choice.url, stop: nothingToStop };
  }
  if (await answersPing(choice.defaultUrl, 1_000)) {
    await probeRedis(choice.defaultUrl);
    return { address: choice.defaultUrl, stop: nothingToStop };
  }
  return startPrivateRedis({ dataDir: choice.dataDir, server: choice.server, log });
}

export async function startPrivateRedis(opts: PrivateRedisOptions): Promise<RedisTarget> {
  const server = findRedisServer(opts.server);
  const dir = resolve(opts.dataDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RedisStartupError(`cannot create ${dir} for the private Redis (${(err as Error).message}); check TACIT_DATA_DIR, or set REDIS_URL.`);
  }
  // A free port can be taken between our check and redis-server's bind: try another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const password = randomBytes(24).toString('hex');
    const child = spawnRedis(server, dir, port, password);
    const url = `redis://:${password}@127.0.0.1:${port}`;
    const failure = await untilReady(child, url, dir, opts.startTimeoutMs ?? 15_000);
    if (failure === undefined) {
      opts.log.info(
        { redis: `127.0.0.1:${port}`, pid: child.pid, dataDir: dir, server },
        `started a private Redis at 127.0.0.1:${port} (data in ${dir}); set REDIS_URL to use your own`,
      );
      return supervise(child, url, opts);
    }
    child.kill('SIGKILL');
    if (attempt < 3 && /address already in use/i.test(failure)) continue;
    throw new RedisStartupError(`the private Redis (${server}) did not start: ${failure}. See ${join(dir, 'redis.log')}, or set REDIS_URL.`);
  }
}

/** The redis-server to run, or a RedisStartupError saying exactly what to install. */
export function findRedisServer(lookup: RedisServerLookup): string {
  if (lookup.kind === 'path') {
    if (isExecutable(lookup.path)) return lookup.path;
    throw new RedisStartupError(`TACIT_REDIS_SERVER=${lookup.path} is not an executable redis-server, and REDIS_URL is unset. ${install}`);
  }
  for (const dir of lookup.dirs) {
    const candidate = join(dir, 'redis-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new RedisStartupError(`REDIS_URL is unset, no Redis answers on 127.0.0.1:6379 and no redis-server was found to start a private one. ${install}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function spawnRedis(server: string, dir: string, port: number, password: string): ChildProcess {
  const args = [
    // The password is read from stdin ("-" is a config file on stdin), so `ps` does not show it.
    '-',
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    // BullMQ's requirement: an evicted job key silently loses work.
    '--maxmemory-policy', 'noeviction',
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--dir', dir,
    '--logfile', join(dir, 'redis.log'),
    '--daemonize', 'no',
    '--supervised', 'no',
  ];
  // Its own process group: a Ctrl-C in the terminal reaches Tacit, which drains its work before it stops Redis.
  const child = spawn(server, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
  child.stdin?.end(`requirepass ${password}\n`);
  child.stdin?.on('error', () => undefined);
  return child;
}

/** Resolves undefined once the child answers PING, or the reason it did not (it exited, or the deadline passed). */
async function untilReady(child: ChildProcess, url: string, dir: string, timeoutMs: number): Promise<string | undefined> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4_096) stderr += d.toString();
  });
  let exited: string | undefined;
  child.once('error', (err) => (exited = err.message));
  child.once('exit', (code, signal) => (exited ??= `exited with ${signal ?? `code ${code}`}`));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) return [exited, lastLine(stderr) || lastLogLine(dir)].filter(Boolean).join(': ');
    if (await answersPing(url, 500)) {
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume();
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return `it did not answer PING within ${timeoutMs} ms`;
}

/** Stop on request, warn if it dies on its own, and make sure it cannot outlive Tacit. */
function supervise(child: ChildProcess, url: string, opts: PrivateRedisOptions): RedisTarget {
  const guard = spawnGuard(child, opts.log);
  let stopping = false;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.once('exit', (code, signal) => {
    guard?.kill('SIGKILL');
    if (!stopping) opts.log.error({ code, signal, pid: child.pid }, 'the private Redis exited; Tacit cannot queue work until it is restarted');
  });
  // A normal exit, process.exit() and uncaught errors all pass through here.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  return {
    address: url,
    async stop() {
      if (stopping) return exited;
      stopping = true;
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          opts.log.warn({ pid: child.pid }, 'the private Redis did not stop on SIGTERM; killing it');
          child.kill('SIGKILL');
        }, opts.stopTimeoutMs ?? 5_000);
        await exited;
        clearTimeout(timer);
      }
      opts.log.info({ pid: child.pid }, 'stopped the private Redis');
    },
  };
}

/**
 * A tiny shell that waits on a pipe from Tacit: when Tacit ends in any way (a SIGKILL or an OOM kill
 * included) the pipe closes, `read` returns, and the shell stops Redis (SIGTERM, SIGKILL after 5 s).
 */
function spawnGuard(child: ChildProcess, log: Logger): ChildProcess | undefined {
  if (child.pid === undefined) return undefined;
  const script = 'read -r _; kill -TERM "$1" 2>/dev/null; i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$1" 2>/dev/null; exit 0';
  try {
    const guard = spawn('/bin/sh', ['-c', script, 'tacit-redis-guard', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    guard.on('error', (err) => log.warn({ err: err.message }, 'cannot watch the private Redis; it may outlive a crashed Tacit'));
    // Neither the guard nor its pipe keeps Tacit's event loop alive.
    guard.unref();
    (guard.stdin as Socket | null)?.unref();
    return guard;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot watch the private Redis; it may outlive a crashed Tacit');
    return undefined;
  }
}

/** True when a Redis at `url` answers PING (no password needed, or the right one in the URL). */
export async function answersPing(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, commandTimeout: timeoutMs, enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
}

/** redis-server logs why it stopped to its log file, not stderr. */
function lastLogLine(dir: string): string {
  try {
    const lines = readFileSync(join(dir, 'redis.log'), 'utf8').trim().split('\n').slice(-5);
    const reason = lines.reverse().find((l) => /#|error|fatal|fail|can't|cannot|denied/i.test(l)) ?? lines[0] ?? '';
    return reason.replace(/^\d+:[A-Z] .*? [#*.-] /, '').trim();
  } catch {
    return '';
  }
}
