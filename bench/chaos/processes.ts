// Real child processes for the fault suite: Tacit (`tsx src/main.ts`, killed with SIGKILL when a
// scenario says so) and a private redis-server that can be killed and brought back empty.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../test/support/wait.js';
import { canConnect, freePort } from '../../test/support/net.js';
export { freePort };

// CHAOS_TACIT_DIR runs another checkout's Tacit (with its own node_modules): to show that a row
// catches a regression, run the suite against the code from before the fix.
const root = process.env.CHAOS_TACIT_DIR ?? fileURLToPath(new URL('../..', import.meta.url));



/**
 * One Tacit deployment: the same environment and port across restarts, so senders keep their URL.
 * `crashes` counts exits nobody asked for; `kill()` is the asked-for kill -9.
 */
export class TacitProcess {
  readonly url: string;
  crashes = 0;
  starts = 0;
  private child: ChildProcess | undefined;
  private expectingExit = false;
  private readonly log: WriteStream;

  constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
    readonly logPath: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.log = createWriteStream(logPath, { flags: 'a' });
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts Tacit and resolves once it logged `tacit started` (migrations done, port open). */
  async start(timeoutMs = 60_000): Promise<void> {
    this.starts++;
    this.expectingExit = false;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let started = false;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      this.log.write(d);
      if (!started) {
        out += String(d);
        started = out.includes('"msg":"tacit started"');
      }
    });
    child.stderr?.on('data', (d: Buffer) => this.log.write(d));
    child.on('exit', (code, signal) => {
      this.log.write(`\n--- chaos: tacit exited code=${code} signal=${signal}${this.expectingExit ? '' : ' (unexpected)'}\n`);
      if (!this.expectingExit) this.crashes++;
    });
    // A kill asked for while it starts (a scenario's trigger fired on a post made during start-up) ends
    // the start quietly: the scenario's supervisor starts it again. Any other exit is a failed start.
    const exited = new Promise<void>((resolve, reject) =>
      child.once('exit', (code) => (this.expectingExit ? resolve() : reject(new Error(`tacit exited with ${code} during start-up (see ${this.logPath})`)))),
    );
    // A later exit (kill -9) must not become an unhandled rejection.
    exited.catch(() => undefined);
    const ready = waitFor(() => started, { timeoutMs, intervalMs: 50, what: `tacit to start (log: ${this.logPath})` });
    await Promise.race([ready, exited]);
  }

  /** kill -9: no shutdown hooks, no flushing, whatever was in flight is cut. */
  kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.resolve();
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within `ms`. */
  async stop(ms = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

/** A redis-server of our own (never the shared one): no persistence, so a restart comes back empty. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (again) on the same port, with an empty dataset. */
  async restart(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    await waitFor(() => canConnect(this.port), { timeoutMs: 10_000, what: `redis-server on ${this.port}` });
  }

  kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }
}
